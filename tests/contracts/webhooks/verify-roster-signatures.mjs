// Verifies deliveries Roster signed, as a receiver would, with two Standard Webhooks libraries as peers:
// the `standardwebhooks` package (the specification's reference library) and `svix`'s Webhook verifier.
// stdin: {"secret": "whsec_…", "deliveries": [{"id", "timestamp", "signature", "body"}]}
// stdout: one line per delivery {id, standardwebhooks, svix, tamperedRejected} (true = verified / rejected as it must be).
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { readStdin, print } from '../lib/io.mjs';

const { secret, deliveries } = JSON.parse(await readStdin());
const standard = new StandardWebhook(secret);
const svix = new SvixWebhook(secret);

// Both throw on a bad signature; standardwebhooks returns the parsed body, svix 2.x returns nothing.
function verifies(verifier, body, headers) {
  try {
    verifier.verify(body, headers);
    return true;
  } catch (e) {
    return `rejected: ${e.message}`;
  }
}

const results = deliveries.map(d => {
  const headers = { 'webhook-id': d.id, 'webhook-timestamp': d.timestamp, 'webhook-signature': d.signature };
  const tampered = d.body.replace('"sequence":', '"sequence":1');
  return {
    id: d.id,
    standardwebhooks: verifies(standard, d.body, headers),
    svix: verifies(svix, d.body, headers),
    // The same delivery with one byte of the body changed must not verify.
    tamperedRejected: verifies(standard, tampered, headers) !== true && verifies(svix, tampered, headers) !== true,
    // Nor with another webhook-id (a receiver dedupes by it, so it is signed).
    otherIdRejected: verifies(standard, d.body, { ...headers, 'webhook-id': d.id + 'x' }) !== true,
  };
});
print(results);
