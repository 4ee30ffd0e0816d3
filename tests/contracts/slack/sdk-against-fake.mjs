// The SDK's own calls against FakeSlack in strict mode. stdin: {"people": {"active": email, "active2": email,
// "deactivated": email, "bot": email, "unknown": email}, "ids": {...the same keys → Slack ids...}}.
// Prints one result per case; the xunit side (SlackContractTests) says what each must be.
import { readStdin, env, print } from '../lib/io.mjs';
import { client, recordingLogger, attempt } from './client.mjs';

const input = JSON.parse(await readStdin());
const url = env('SLACK_URL');
const token = env('SLACK_TOKEN');
const logger = recordingLogger();
const slack = client(url, token, logger);
const { people, ids } = input;
const results = {};

const section = (text) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (actionId) => ({ type: 'button', text: { type: 'plain_text', text: 'Open' }, action_id: actionId, url: 'https://example.com/' });

results.lookup = await attempt(() => slack.users.lookupByEmail({ email: people.active }));
results.lookupDeactivated = await attempt(() => slack.users.lookupByEmail({ email: people.deactivated }));
results.lookupBot = await attempt(() => slack.users.lookupByEmail({ email: people.bot }));
results.lookupUnknown = await attempt(() => slack.users.lookupByEmail({ email: people.unknown }));

results.openOne = await attempt(() => slack.conversations.open({ users: ids.active }));
results.openGroup = await attempt(() => slack.conversations.open({ users: `${ids.active},${ids.active2}` }));
results.openWithDeactivated = await attempt(() => slack.conversations.open({ users: `${ids.active},${ids.deactivated}` }));
results.openWithUnknown = await attempt(() => slack.conversations.open({ users: `${ids.active},U0NOBODY00` }));
results.openWithBot = await attempt(() => slack.conversations.open({ users: ids.bot }));
results.openNine = await attempt(() => slack.conversations.open({ users: Array.from({ length: 9 }, () => ids.active).join(',') }));
// An array is not Slack's form: the SDK sends it as JSON text, which is no comma-separated list of ids.
results.openArray = await attempt(() => slack.conversations.open({ users: [ids.active, ids.active2] }));

const channel = results.openGroup.ok ? results.openGroup.result.channel.id : 'none';
const blocks = [section('*Hello* from the contract suite'), { type: 'actions', elements: [button('a'), button('b')] }];
results.post = await attempt(() => slack.chat.postMessage({ channel, text: 'Hello from the contract suite', blocks }));
results.postTooLong = await attempt(() => slack.chat.postMessage({ channel, text: 'too long', blocks: [section('x'.repeat(3001))] }));
results.postLongest = await attempt(() => slack.chat.postMessage({ channel, text: 'longest', blocks: [section('x'.repeat(3000))] }));
results.postTooManyBlocks = await attempt(() => slack.chat.postMessage({ channel, text: 'many', blocks: Array.from({ length: 51 }, () => section('x')) }));
results.postMostBlocks = await attempt(() => slack.chat.postMessage({ channel, text: 'most', blocks: Array.from({ length: 50 }, () => section('x')) }));
results.postDuplicateActionIds = await attempt(() => slack.chat.postMessage({ channel, text: 'dup', blocks: [{ type: 'actions', elements: [button('same'), button('same')] }] }));
const before = logger.lines.length;
results.postWithoutText = await attempt(() => slack.chat.postMessage({ channel, blocks: [section('no fallback')] }));
results.postWithoutTextSdkWarned = logger.lines.slice(before).some((l) => l.level === 'warn' && l.message.includes('top-level `text` argument is missing'));
results.postUnknownChannel = await attempt(() => slack.chat.postMessage({ channel: 'C0NOWHERE', text: 'lost' }));

results.badToken = await attempt(() => client(url, 'xoxb-wrong', recordingLogger()).users.lookupByEmail({ email: people.active }));
results.noToken = await attempt(() => client(url, undefined, recordingLogger()).users.lookupByEmail({ email: people.active }));

print(results);
