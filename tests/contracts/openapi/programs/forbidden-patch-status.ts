// DESIGN.md: PATCH …/members/{id} takes {role?, seatType?} and never changes status (consent).
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080' });
export const call = client.PATCH('/api/organizations/{orgId}/members/{membershipId}', {
  params: { path: { orgId: 'org', membershipId: 'm' } },
  body: { status: 'active' },
});
