// Lints an OpenAPI document with Redocly CLI's `recommended` ruleset (redocly.yaml beside this file) and prints
// {errors, warnings, problems: [{severity, rule, message, location}]}. Usage: node openapi/lint.mjs <document.json>
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { print } from '../lib/io.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const document = process.argv[2];
if (!document) throw new Error('usage: lint.mjs <document.json>');

const cli = path.join(here, '..', 'node_modules', '@redocly', 'cli', 'lib', 'index.js');
const run = spawnSync(process.execPath, [cli, 'lint', '--config', path.join(here, 'redocly.yaml'), '--format', 'json', document], {
  encoding: 'utf8',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
  timeout: 120_000,
});
if (run.error) throw run.error;
// The JSON report is the first {...} block of stdout (a deprecation banner may go to stderr).
const start = run.stdout.indexOf('{');
if (start < 0) throw new Error(`redocly printed no report (exit ${run.status})\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
const report = JSON.parse(run.stdout.slice(start));
const problems = (report.problems ?? []).map((p) => ({
  severity: p.severity,
  rule: p.ruleId,
  message: p.message,
  location: (p.location ?? []).map((l) => l.pointer).join(' '),
}));
print({
  errors: problems.filter((p) => p.severity === 'error').length,
  warnings: problems.filter((p) => p.severity === 'warn').length,
  problems,
});
