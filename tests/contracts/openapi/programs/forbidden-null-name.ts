// {"name": null} is refused (400); the types must refuse it too.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080' });
export const call = client.POST('/api/organizations', { body: { name: null } });
