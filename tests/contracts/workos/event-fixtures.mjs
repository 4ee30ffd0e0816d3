// Builds one event of every type Roster handles from the SDK's own fixtures (../shared/fixtures/workos-node) shaped by
// the SDK's event types (node_modules/@workos-inc/node/lib/*.d.mts: <Type>EventResponse = {id, event, data, created_at}).
// Each entry names the fixture file and SDK type it was built from and every field changed (ids made unique per run so
// the scenario can run again on one database; times moved to now so the sequence is ordered).
// env RUN: a short unique token. stdout: [{type, builtFrom: {file, sdkType}, overrides: [...], json}]
import { fixture, } from './lib.mjs';
import { env, print } from '../lib/io.mjs';

const run = env('RUN').toLowerCase();
// Now, one millisecond apart: ids sort like the fake's own ULIDs, so a cursor already in the log never skips them.
const base = Date.now();
let step = 0;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function ulid(ms) {
  let time = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time;
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[Math.floor(Math.random() * 32)];
  return time + random;
}
const iso = (ms) => new Date(ms).toISOString();
// The envelope's created_at in the form the SDK's own events spec uses: "2020-05-06 04:21:48.649164" (UTC, no zone).
const spaced = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '') + '000';

const entries = [];
function emit(type, sdkType, file, data, overrides) {
  const at = base + (++step);
  const fields = { ...data };
  if ('updated_at' in fields || overrides.includes('updated_at')) fields.updated_at = iso(at);
  const event = { object: 'event', id: `event_${ulid(at)}`, event: type, data: fields, created_at: spaced(at) };
  entries.push({ type, builtFrom: { file, sdkType }, overrides: [...new Set([...overrides, 'updated_at'])], json: JSON.stringify(event) });
}
const pick = (object, keys) => Object.fromEntries(keys.filter((k) => k in object).map((k) => [k, object[k]]));

// -- objects from the fixtures, ids made unique
const orgFile = 'organizations--get-organization.json';
const orgA = { ...fixture(orgFile), id: `org_${run}A`, created_at: iso(base), updated_at: iso(base) };
const orgB = { ...fixture(orgFile), id: `org_${run}B`, name: `Short-lived ${run}`, created_at: iso(base), updated_at: iso(base) };
const userFile = 'user-management--user.json';
const userU = { ...fixture(userFile), id: `user_${run}U`, email: `test01.${run}@example.com` };
const userV = { ...fixture(userFile), id: `user_${run}V`, email: `test02.${run}@example.com`, first_name: 'Test 02' };
const omFile = 'user-management--organization-membership.json';
const omM = { ...fixture(omFile), id: `om_${run}M`, user_id: userU.id, organization_id: orgA.id };
const omN = { ...fixture(omFile), id: `om_${run}N`, user_id: userV.id, organization_id: orgA.id };
const invitationFile = 'user-management--invitation.json';
// Event data carries no token or accept_invitation_url (InvitationEventResponse).
const invitationKeys = ['object', 'id', 'email', 'state', 'accepted_at', 'revoked_at', 'expires_at', 'organization_id', 'inviter_user_id',
  'accepted_user_id', 'role_slug', 'created_at', 'updated_at'];
const invite = (id, email) => ({ ...pick(fixture(invitationFile), invitationKeys), id, email, organization_id: orgA.id, role_slug: 'member',
  accepted_at: null, revoked_at: null, expires_at: iso(Date.now() + 7 * 86400000) });
const invitationI = invite(`invitation_${run}I`, userU.email);
const invitationJ = invite(`invitation_${run}J`, `someone.${run}@example.com`);
const envRoleFile = 'authorization--environment-role.json';
// role.* data is RoleEventResponse: keyed by slug, no id, name or description.
const roleKeys = ['object', 'slug', 'resource_type_slug', 'permissions', 'created_at', 'updated_at'];
const roleR = { ...pick(fixture(envRoleFile), roleKeys), slug: `${fixture(envRoleFile).slug}-${run}` };
const roleS = { ...roleR, slug: `gone-${run}` };
const orgRoleFile = 'authorization--organization-role.json';
// organization_role.* data is OrganizationRoleEventResponse: object organization_role, with organization_id, no id or type.
const orgRoleKeys = ['slug', 'name', 'description', 'resource_type_slug', 'permissions', 'created_at', 'updated_at'];
const orgRole = (slug) => ({ object: 'organization_role', organization_id: orgA.id, ...pick(fixture(orgRoleFile), orgRoleKeys), slug });
const orgRoleO = orgRole(`${fixture(orgRoleFile).slug}-${run}`);
const orgRoleP = orgRole(`org-gone-${run}`);

const ids = ['id'];
emit('role.created', 'RoleCreatedEventResponse', envRoleFile, roleR, ['slug', 'keys not in RoleEventResponse dropped']);
emit('role.updated', 'RoleUpdatedEventResponse', envRoleFile, { ...roleR, permissions: [...roleR.permissions, 'audit:read'] }, ['slug', 'permissions']);
emit('organization.created', 'OrganizationCreatedResponse', orgFile, orgA, [...ids, 'created_at']);
emit('organization_role.created', 'OrganizationRoleCreatedEventResponse', orgRoleFile, orgRoleO, ['object', 'organization_id', 'slug']);
emit('organization_role.updated', 'OrganizationRoleUpdatedEventResponse', orgRoleFile, { ...orgRoleO, name: 'Org Admin (renamed)' }, ['object', 'organization_id', 'slug', 'name']);
emit('user.created', 'UserCreatedEventResponse', userFile, userU, [...ids, 'email']);
emit('invitation.created', 'InvitationCreatedEventResponse', invitationFile, invitationI, [...ids, 'email', 'organization_id', 'role_slug', 'accepted_at', 'revoked_at', 'expires_at', 'token and accept_invitation_url dropped']);
emit('invitation.resent', 'InvitationResentEventResponse', invitationFile, { ...invitationI, expires_at: iso(Date.now() + 14 * 86400000) }, [...ids, 'email', 'organization_id', 'expires_at']);
emit('organization_membership.created', 'OrganizationMembershipCreatedResponse', omFile, omM, [...ids, 'user_id', 'organization_id']);
emit('invitation.accepted', 'InvitationAcceptedEventResponse', invitationFile, { ...invitationI, state: 'accepted', accepted_at: iso(base + 9), accepted_user_id: userU.id }, [...ids, 'state', 'accepted_at', 'accepted_user_id']);
emit('organization_membership.updated', 'OrganizationMembershipUpdatedResponse', omFile,
  { ...omM, role: { slug: 'admin' }, roles: [{ slug: 'admin' }, { slug: orgRoleO.slug }] }, [...ids, 'user_id', 'organization_id', 'role', 'roles']);
emit('user.updated', 'UserUpdatedEventResponse', userFile, { ...userU, first_name: 'Renamed' }, [...ids, 'email', 'first_name']);
emit('organization.updated', 'OrganizationUpdatedResponse', orgFile, { ...orgA, name: `Test Organization 3 ${run}` }, [...ids, 'name']);
emit('invitation.created', 'InvitationCreatedEventResponse', invitationFile, invitationJ, [...ids, 'email', 'organization_id', 'role_slug', 'expires_at']);
emit('invitation.revoked', 'InvitationRevokedEventResponse', invitationFile, { ...invitationJ, state: 'revoked', revoked_at: iso(base + 15) }, [...ids, 'state', 'revoked_at']);
emit('user.created', 'UserCreatedEventResponse', userFile, userV, [...ids, 'email', 'first_name']);
emit('organization_membership.created', 'OrganizationMembershipCreatedResponse', omFile, omN, [...ids, 'user_id', 'organization_id']);
emit('organization_membership.deleted', 'OrganizationMembershipDeletedResponse', omFile, omN, [...ids, 'user_id', 'organization_id']);
emit('user.deleted', 'UserDeletedEventResponse', userFile, userV, [...ids, 'email']);
emit('organization.created', 'OrganizationCreatedResponse', orgFile, orgB, [...ids, 'name', 'created_at']);
emit('organization.deleted', 'OrganizationDeletedResponse', orgFile, orgB, [...ids, 'name']);
emit('role.created', 'RoleCreatedEventResponse', envRoleFile, roleS, ['slug']);
emit('role.deleted', 'RoleDeletedEventResponse', envRoleFile, roleS, ['slug']);
emit('organization_role.created', 'OrganizationRoleCreatedEventResponse', orgRoleFile, orgRoleP, ['object', 'organization_id', 'slug']);
emit('organization_role.deleted', 'OrganizationRoleDeletedEventResponse', orgRoleFile, orgRoleP, ['object', 'organization_id', 'slug']);
print(entries);
