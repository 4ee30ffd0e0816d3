// Prints the SDK versions the suite is pinned to (a smoke check that `npm ci` ran).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { print } = await import('./lib/io.mjs');
print({
  workos: require('@workos-inc/node/package.json').version,
  slack: require('@slack/web-api/package.json').version,
});
