// error.code is a closed set: a code the service never answers is a compile error.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080' });
export async function add(): Promise<boolean> {
  const added = await client.POST('/api/organizations/{orgId}/members', { params: { path: { orgId: 'org' } }, body: { userId: 'user_1' } });
  return added.error?.code === 'member_exists';
}
