// Sends, with the SDK, the same operations Roster sent (stdin: [{"method": "...", "args": {...typed...}}]), so the
// xunit side can compare the two requests the fake recorded for each. Prints the SDK's answers.
import { readStdin, env, print } from '../lib/io.mjs';
import { client, recordingLogger, attempt } from './client.mjs';

const calls = JSON.parse(await readStdin());
const slack = client(env('SLACK_URL'), env('SLACK_TOKEN'), recordingLogger());
const results = [];
for (const { method, args } of calls) {
  // The SDK's own method (slack.users.lookupByEmail, …), as an application would call it.
  const [family, name] = method.split('.');
  const call = slack[family]?.[name];
  if (typeof call !== 'function') throw new Error(`@slack/web-api has no method ${method}`);
  results.push(await attempt(() => call(args)));
}
print(results);
