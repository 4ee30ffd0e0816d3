// Judges Roster's answers to WorkOS actions with the SDK. Input (stdin, JSON):
//   { secret, responses: [{ type: "authentication" | "user_registration", body: "<Roster's response body, verbatim>" }] }
// For each: the bytes Roster sent must equal JSON.stringify(await actions.signResponse({type, verdict, errorMessage}, secret))
// made at the same timestamp, and the SDK's verifier must accept Roster's signature over its payload.
// Output: [{ identical, verified, expected, verdict, errorMessage }]; exits 1 if any fails.
import { WorkOS } from '@workos-inc/node';
import { readStdin, print } from '../lib/io.mjs';

const input = JSON.parse(await readStdin());
const workos = new WorkOS('sk_test_contract_suite_only');
const realNow = Date.now;
const results = [];
for (const { type, body } of input.responses) {
  const parsed = JSON.parse(body);
  const { timestamp, verdict, error_message: errorMessage } = parsed.payload;
  // signResponse stamps Date.now(); it is held at Roster's timestamp so the two can be compared byte for byte.
  Date.now = () => timestamp;
  const expected = JSON.stringify(await workos.actions.signResponse({ type, verdict, errorMessage }, input.secret));
  Date.now = realNow;
  let verified = false;
  try {
    verified = await workos.actions.verifyHeader({
      payload: parsed.payload, sigHeader: `t=${timestamp}, v1=${parsed.signature}`, secret: input.secret, tolerance: 5 * 60 * 1000,
    });
  } catch {
    verified = false;
  }
  results.push({ identical: expected === body, verified, expected, verdict, errorMessage: errorMessage ?? null });
}
print(results);
process.exitCode = results.every((r) => r.identical && r.verified) ? 0 : 1;
