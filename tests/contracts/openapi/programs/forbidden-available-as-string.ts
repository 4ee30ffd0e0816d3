// Numbers are numbers: `available` is not a string.
import createClient from 'openapi-fetch';
import type { paths } from './schema';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080' });
export async function read(): Promise<string | undefined> {
  const seats = await client.GET('/api/organizations/{orgId}/seats', { params: { path: { orgId: 'org' } } });
  const available: string | undefined = seats.data?.seatTypes[0]?.available;
  return available;
}
