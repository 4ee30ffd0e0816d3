// Runs the SDK's own calls against the API at WORKOS_BASE_URL (a FakeWorkOs) and prints what the SDK made of each answer.
// stdin: [{op, args}] ; stdout: [{op, ok, result} | {op, ok: false, error}]
import { readStdin, env, print } from '../lib/io.mjs';
import { sdk, failure } from './lib.mjs';

const workos = sdk(env('WORKOS_BASE_URL'), env('WORKOS_API_KEY'));
const um = workos.userManagement;
const ops = {
  listEvents: (a) => workos.events.listEvents(a),
  listOrganizationMemberships: async (a) => { const page = await um.listOrganizationMemberships(a); return { data: page.data, listMetadata: page.listMetadata }; },
  createOrganizationMembership: (a) => um.createOrganizationMembership(a),
  updateOrganizationMembership: (a) => um.updateOrganizationMembership(a.id, a.options),
  deleteOrganizationMembership: async (a) => { await um.deleteOrganizationMembership(a.id); return null; },
  getUser: (a) => um.getUser(a.id),
  listOrganizations: async (a) => { const page = await workos.organizations.listOrganizations(a); return { data: page.data, listMetadata: page.listMetadata }; },
  listOrganizationRoles: (a) => workos.authorization.listOrganizationRoles(a.organizationId),
};

const calls = JSON.parse(await readStdin());
const results = [];
for (const { op, args } of calls) {
  try {
    results.push({ op, ok: true, result: (await ops[op](args)) ?? null });
  } catch (error) {
    results.push({ op, ok: false, error: failure(error) });
  }
}
print(results);
