// Builds WorkOS action contexts from the SDK's own fixtures and signs them with the SDK's signing code, the way WorkOS
// signs what it sends an actions endpoint. Input (stdin, JSON): { secret, contexts: [{ fixture, overrides, ageMs? }] }
//   fixture: "authentication" | "user_registration" (the SDK fixture it starts from)
//   overrides: fields merged into the fixture (deep for plain objects; null removes a field)
//   ageMs: how long ago it was signed (default 0)
// Output: [{ body, header, constructed }] where constructed is what actions.constructAction made of it (null when the SDK
// itself refuses it, e.g. when it is stale), so a context Roster is sent is one the SDK accepts.
import { readFileSync } from 'node:fs';
import { WorkOS } from '@workos-inc/node';
import { readStdin, print } from '../lib/io.mjs';

const fixturesDir = process.env.ROSTER_WORKOS_FIXTURES ?? new URL('../../../../shared/fixtures/workos-node/', import.meta.url).pathname;
const fixtures = {
  authentication: JSON.parse(readFileSync(`${fixturesDir}/actions--authentication-action-context.json`, 'utf8')),
  user_registration: JSON.parse(readFileSync(`${fixturesDir}/actions--user-registration-action-context.json`, 'utf8')),
};

function merge(base, overrides) {
  const out = structuredClone(base);
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === null) delete out[key];
    else if (typeof value === 'object' && !Array.isArray(value) && typeof out[key] === 'object' && out[key] !== null) out[key] = merge(out[key], value);
    else out[key] = value;
  }
  return out;
}

const input = JSON.parse(await readStdin());
const workos = new WorkOS('sk_test_contract_suite_only');
const results = [];
for (const spec of input.contexts) {
  const context = merge(fixtures[spec.fixture], spec.overrides);
  const body = JSON.stringify(context);
  const timestamp = Date.now() - (spec.ageMs ?? 0);
  // The SDK's own signer (the one its verifier checks against) and the header layout its parser reads.
  const signature = await workos.actions.computeSignature(timestamp, body, input.secret);
  const header = `t=${timestamp}, v1=${signature}`;
  let constructed = null;
  try {
    constructed = await workos.actions.constructAction({ payload: body, sigHeader: header, secret: input.secret });
  } catch {
    constructed = null;
  }
  results.push({ body, header, constructed });
}
print(results);
