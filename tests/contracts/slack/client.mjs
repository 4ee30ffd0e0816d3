// A WebClient of the pinned @slack/web-api pointed at a fake Slack: no retries (a retry would hide what the fake
// answered), rate limits rejected, and a logger that keeps the SDK's own warnings so a test can read them.
import { WebClient, LogLevel } from '@slack/web-api';

export function recordingLogger() {
  const lines = [];
  let level = LogLevel.WARN;
  const log = (kind) => (...msg) => lines.push({ level: kind, message: msg.map(String).join(' ') });
  return {
    lines,
    debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'),
    setLevel: (l) => { level = l; }, getLevel: () => level, setName: () => {},
  };
}

export function client(url, token, logger) {
  return new WebClient(token, {
    slackApiUrl: url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger,
  });
}

/** Runs one SDK call; returns what came back, or the platform error Slack (the fake) answered. */
export async function attempt(run) {
  try {
    const result = await run();
    return { ok: true, result };
  } catch (error) {
    return { ok: false, code: error.code, error: error.data?.error ?? error.message, data: error.data };
  }
}
