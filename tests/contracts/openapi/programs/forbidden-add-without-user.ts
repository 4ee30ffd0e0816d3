// DESIGN.md: POST …/members takes {userId, role?, seatType?}; an add without userId must not compile.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080' });
export const call = client.POST('/api/organizations/{orgId}/members', { params: { path: { orgId: 'org' } }, body: { role: 'admin' } });
