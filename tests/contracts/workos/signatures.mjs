// WorkOS-Signature with the SDK's own code (Webhooks' SignatureProvider).
//   sign:   stdin [{payload, secret, timestamp}] -> ["t=<timestamp>, v1=<computeSignature(...)>", ...]
//   verify: stdin [{payload, sigHeader, secret, tolerance?}] -> [{ok, event?|error}] through webhooks.constructEvent
import { WorkOS } from '@workos-inc/node';
import { readStdin, print } from '../lib/io.mjs';
import { failure } from './lib.mjs';

const workos = new WorkOS('sk_test_contracts_signatures');
const mode = process.argv[2];
const items = JSON.parse(await readStdin());
const results = [];
for (const item of items) {
  if (mode === 'sign') {
    const timestamp = String(item.timestamp ?? Date.now());
    results.push(`t=${timestamp}, v1=${await workos.webhooks.computeSignature(timestamp, item.payload, item.secret)}`);
  } else if (mode === 'verify') {
    try {
      const event = await workos.webhooks.constructEvent({
        payload: item.payload, sigHeader: item.sigHeader, secret: item.secret,
        ...(item.tolerance === undefined ? {} : { tolerance: item.tolerance }),
      });
      results.push({ ok: true, event: { id: event.id, event: event.event, dataId: event.data?.id ?? event.data?.slug ?? null } });
    } catch (error) {
      results.push({ ok: false, error: failure(error) });
    }
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}
print(results);
