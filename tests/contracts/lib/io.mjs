// Shared helpers for contract scripts run by tests/Roster.Tests/Contracts/NodeContract.cs.
export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function print(value) {
  process.stdout.write(JSON.stringify(value) + '\n');
}
