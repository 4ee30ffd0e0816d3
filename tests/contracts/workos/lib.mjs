// Shared helpers of the WorkOS half of the contract suite: the official SDK pointed at a fake, and the SDK's fixtures.
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkOS } from '@workos-inc/node';

export const contractsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The SDK talking to the base URL given (a FakeWorkOs on 127.0.0.1), with the API key given. */
export function sdk(baseUrl, apiKey) {
  const url = new URL(baseUrl);
  return new WorkOS(apiKey, {
    apiHostname: url.hostname,
    port: Number(url.port),
    https: url.protocol === 'https:',
  });
}

/** ../shared/fixtures/workos-node beside the repository (WORKOS_FIXTURES_DIR overrides it). */
export function fixturesDir() {
  if (process.env.WORKOS_FIXTURES_DIR) return process.env.WORKOS_FIXTURES_DIR;
  for (let dir = contractsDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'fixtures', 'workos-node');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error('shared/fixtures/workos-node not found; set WORKOS_FIXTURES_DIR');
  }
}

export function fixture(name) {
  return JSON.parse(fs.readFileSync(path.join(fixturesDir(), name), 'utf8'));
}

/** What an SDK call threw, in terms the .NET side asserts on. */
export function failure(error) {
  return {
    name: error?.constructor?.name ?? 'Error',
    status: error?.status ?? null,
    code: error?.code ?? null,
    message: String(error?.message ?? error),
  };
}
