// The exact-email search needs its email.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080' });
export const call = client.GET('/api/organizations/{orgId}/members/search', { params: { path: { orgId: 'org' }, query: {} } });
