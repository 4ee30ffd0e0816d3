// The calls DESIGN.md section 5 allows, written as a client of the generated types would. Must compile (strict).
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

type ProblemCode = components['schemas']['ProblemCode'];

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:5080', headers: { Authorization: 'Bearer <token>' } });

export async function walkThrough(email: string): Promise<number> {
  const created = await client.POST('/api/organizations', { body: { name: 'Acme' } });
  if (!created.data) return -1;
  const orgId: string = created.data.id;

  const hit = await client.GET('/api/organizations/{orgId}/members/search', { params: { path: { orgId }, query: { email } } });
  if (!hit.data) return -1;

  // Add with {userId} only: role and seat type are optional.
  const added = await client.POST('/api/organizations/{orgId}/members', { params: { path: { orgId } }, body: { userId: hit.data.userId } });
  if (added.error) {
    // Read error.code: a machine-readable code, one of the codes this answer can carry.
    const code: ProblemCode = added.error.code;
    if (added.error.code === 'seat_limit_reached' || code === 'already_member') return -2;
    const traceId: string = added.error.traceId;
    return traceId.length;
  }
  const membershipId: string = added.data.id;
  const pending: 'pending' | 'active' | 'inactive' = added.data.status;
  const source: 'owner_add' | 'join_request' | 'invitation' | 'webhook' | 'domain' | 'legacy' | 'founder' | null = added.data.source;

  // Patch with {role} only.
  const patched = await client.PATCH('/api/organizations/{orgId}/members/{membershipId}', {
    params: { path: { orgId, membershipId } },
    body: { role: 'admin' },
  });
  if (patched.error?.code === 'last_owner') return -3;
  await client.PATCH('/api/organizations/{orgId}/members/{membershipId}', {
    params: { path: { orgId, membershipId } },
    body: { seatType: 'community_only' },
  });

  // The invitee accepts; approvals take an optional body.
  await client.PUT('/api/membership-requests/{membershipId}/accept', { params: { path: { membershipId } } });
  await client.PUT('/api/organizations/{orgId}/requests/{membershipId}/approve', { params: { path: { orgId, membershipId } } });
  await client.PUT('/api/organizations/{orgId}/requests/{membershipId}/approve', {
    params: { path: { orgId, membershipId } },
    body: { seatType: 'contributor' },
  });

  // Read `available` as a number.
  const seats = await client.GET('/api/organizations/{orgId}/seats', { params: { path: { orgId } } });
  let available = 0;
  for (const seatType of seats.data?.seatTypes ?? []) available += seatType.available - seatType.reserved;

  const failed = await client.GET('/api/admin/notifications', { params: { query: { status: 'failed' } } });
  const attempts: number = failed.data?.[0]?.attempts ?? 0;
  return available + attempts + pending.length + (source?.length ?? 0);
}
