// argv (and environment) in, the typed options a command receives out: every option is
// normalised once, at the edge, and every bad value is a usage error (exit 2) naming its source.
import { CommanderError, type Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { interceptCommands } from '../../src/cli/action.js';
import { DmError } from '../../src/errors.js';

const ENV_KEYS = [
  'DISCOVER_METRICS_ENGINE',
  'DISCOVER_METRICS_TIMEZONE',
  'DISCOVER_METRICS_STORE',
  'DISCOVER_METRICS_IP_SALT',
  'POSTHOG_HOST',
  'POSTHOG_PROJECT_ID',
  'POSTHOG_PERSONAL_API_KEY',
  'POSTHOG_PROJECT_API_KEY',
];
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV_KEYS) if (saved[k] === undefined) delete process.env[k];
  else process.env[k] = saved[k];
});

interface Parsed {
  code: number;
  command?: string;
  options?: any;
  globals?: any;
  message?: string;
}

function quiet(cmd: Command): void {
  cmd.configureOutput({ writeErr: () => {}, writeOut: () => {}, outputError: () => {} });
  cmd.commands.forEach(quiet);
}

async function parse(argv: string[], env: Record<string, string> = {}): Promise<Parsed> {
  for (const k of ENV_KEYS) delete process.env[k];
  Object.assign(process.env, env);
  const program = buildProgram();
  quiet(program);
  let got: Parsed | undefined;
  interceptCommands(program, (command, options, globals) => {
    got = { code: 0, command, options, globals };
  });
  try {
    await program.parseAsync(['node', 'discover-metrics', ...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return { code: e.exitCode === 0 ? 0 : 2, message: e.message };
    if (e instanceof DmError) return { code: e.exitCode, message: e.message };
    throw e;
  }
  if (!got) throw new Error(`no command ran for ${argv.join(' ')}`);
  return got;
}

const NOW = '2026-11-20T12:00:00Z';

const ok: [string, string[], Record<string, string>, Record<string, unknown>][] = [
  [
    'funnel: range, window, order, deployment and team settings',
    ['funnel', '-r', 'rds-postgres', '--from', '2026-09-01', '--to', '2026-09-30', '--window', '2h', '--order', 'strict', '--deployment', 'self-hosted', '--timezone', 'Europe/Warsaw', '--week-start', 'monday', '--now', NOW],
    {},
    {
      command: 'funnel',
      options: {
        tracks: [{ slug: 'rds-postgres' }],
        funnel: {
          dateRange: { date_from: '2026-09-01', date_to: '2026-09-30' },
          window: { funnelWindowInterval: 2, funnelWindowIntervalUnit: 'hour' },
          order: 'strict',
          deployment: 'self-hosted',
        },
        query: {
          engine: 'local',
          printQuery: false,
          ctx: { timezone: 'Europe/Warsaw', weekStart: 1, now: new Date(NOW) },
          asked: { timezone: 'Europe/Warsaw', weekStart: 1, now: new Date(NOW) },
        },
      },
    },
  ],
  ['funnel --resource list', ['funnel', '--resource', 'list'], {}, { options: { list: true } }],
  [
    'defaults: -30d, 1 day window, ordered, every cluster, local engine, UTC, nothing asked',
    ['funnel', '--resource', 'eks'],
    {},
    {
      options: {
        funnel: { dateRange: { date_from: '-30d', date_to: null }, window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' }, order: 'ordered', deployment: 'all' },
        query: { engine: 'local', ctx: { timezone: 'UTC', weekStart: 0 }, asked: { timezone: undefined, weekStart: undefined, now: undefined } },
      },
    },
  ],
  [
    'environment fallbacks: engine, timezone, store',
    ['dau', '--now', NOW],
    { DISCOVER_METRICS_ENGINE: 'posthog', DISCOVER_METRICS_TIMEZONE: 'US/Pacific', DISCOVER_METRICS_STORE: '/tmp/elsewhere.duckdb' },
    {
      command: 'dau',
      options: { query: { engine: 'posthog', ctx: { timezone: 'US/Pacific' }, asked: { timezone: 'US/Pacific' } } },
      globals: { store: '/tmp/elsewhere.duckdb', storeChosen: true, format: 'table' },
    },
  ],
  ['a flag beats its environment variable', ['dau', '--engine', 'local', '--timezone', 'UTC'], { DISCOVER_METRICS_ENGINE: 'posthog', DISCOVER_METRICS_TIMEZONE: 'US/Pacific' }, { options: { query: { engine: 'local', ctx: { timezone: 'UTC' } } } }],
  [
    'PostHog connection flags reach the query options',
    ['features', '--engine', 'posthog', '--host', 'https://eu.posthog.com', '--project-id', '42', '--personal-api-key', 'phx_abcdefgh'],
    {},
    { options: { dateRange: { date_from: '-30d', date_to: null }, query: { engine: 'posthog', connection: { host: 'https://eu.posthog.com', projectId: '42', personalApiKey: 'phx_abcdefgh' } } } },
  ],
  [
    'dau: interval, math, breakdown, compare',
    ['dau', '--interval', 'week', '--math', 'wau', '--breakdown', 'os', '--compare', '--from', '-12w'],
    {},
    { options: { dau: { interval: 'week', math: 'wau', breakdown: { key: 'os' }, compare: true, dateRange: { date_from: '-12w', date_to: null } } } },
  ],
  ['platforms --dimension', ['platforms', '--dimension', 'os, arch'], {}, { options: { dimensions: ['os', 'arch'] } }],
  ['steps --top is a number', ['steps', '--top', '3'], {}, { command: 'steps', options: { top: 3, tracks: expect.arrayContaining([expect.objectContaining({ slug: 'eks' })]) } }],
  ['failures defaults', ['failures', '-r', 'postgres'], {}, { options: { all: false, top: 10, deployment: 'all', dateRange: { date_from: '-30d', date_to: null } } }],
  ['ttfr --wizard: a 1-day window, bins parsed', ['ttfr', '--wizard', '--bins', '30'], {}, { command: 'time-to-first-resource', options: { wizard: true, bins: 30, window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' }, dateRange: { date_from: '-30d' } } }],
  ['ttfr --first-seen: no signup event, a 90-day window', ['ttfr', '--first-seen'], {}, { options: { signupEvent: null, wizard: false, window: { funnelWindowInterval: 90, funnelWindowIntervalUnit: 'day' } } }],
  ['lifecycle defaults: weekly over the last 12 weeks', ['lifecycle'], {}, { command: 'lifecycle', options: { lifecycle: { interval: 'week', dateRange: { date_from: '-12w', date_to: null } }, query: { engine: 'local', printQuery: false } } }],
  ['lifecycle --interval, range, --print-query', ['lifecycle', '--interval', 'month', '--from', '2026-01-01', '--to', '2026-06-30', '--print-query'], {}, { options: { lifecycle: { interval: 'month', dateRange: { date_from: '2026-01-01', date_to: '2026-06-30' } }, query: { printQuery: true } } }],
  ['retention --to alone: cohorts counted back from it', ['retention', '--to', '2026-11-01'], {}, { options: { retention: { dateRange: { date_from: null, date_to: '2026-11-01' } } } }],
  ['retention defaults: 8 weekly first-time cohorts counted back from today', ['retention'], {}, { command: 'retention', options: { retention: { period: 'week', intervals: 8, kind: 'first_time', dateRange: { date_from: null, date_to: null } } } }],
  ['retention --period, --intervals, --recurring, --from', ['retention', '--period', 'month', '--intervals', '6', '--recurring', '--from', '-6m', '--now', NOW], {}, { options: { retention: { period: 'month', intervals: 6, kind: 'recurring', dateRange: { date_from: '-6m', date_to: null } }, query: { ctx: { now: new Date(NOW) } } } }],
  ['stickiness defaults: the last 7 whole days', ['stickiness'], {}, { command: 'stickiness', options: { stickiness: { interval: 'day', dateRange: { date_from: '-7d', date_to: '-1d' } } } }],
  ['stickiness --from keeps today in the range', ['stickiness', '--interval', 'week', '--from', '-8w'], {}, { options: { stickiness: { interval: 'week', dateRange: { date_from: '-8w', date_to: null } } } }],
  ['connect-share', ['connect-share', '--interval', 'month', '--engine', 'posthog'], { POSTHOG_PROJECT_ID: '9' }, { command: 'connect-share', options: { share: { interval: 'month', dateRange: { date_from: '-12w', date_to: null } }, query: { engine: 'posthog', connection: { projectId: '9' } } } }],
  [
    'push: connection from flags and environment, default dashboard',
    ['push', '--dry-run', '--host', 'https://eu.posthog.com', '--project-id', '42'],
    { POSTHOG_PERSONAL_API_KEY: 'phx_test_key' },
    { command: 'push', options: { dryRun: true, prune: false, dashboard: 'Teleport Discover & Connect (discover-metrics)', connection: { host: 'https://eu.posthog.com', projectId: '42', personalApiKey: 'phx_test_key' } } },
  ],
  ['push --prune --dashboard', ['push', '--prune', '--dashboard', 'Growth'], {}, { options: { dryRun: false, prune: true, dashboard: 'Growth' } }],
  ['adoption with logs', ['adoption', '--logs', 'a', 'b', '--strict', '--interval', 'month'], { DISCOVER_METRICS_IP_SALT: 's3cret' }, { options: { interval: 'month', logs: ['a', 'b'], strict: true, salt: 's3cret', dateRange: { date_from: '-30d' } } }],
  [
    'downloads: days, kind, timezone from the environment',
    ['downloads', 'logs/', '--by', 'period,platform', '--interval', 'month', '--kind', 'install', '--from', '2026-01-01', '--to', '2026-01-31'],
    { DISCOVER_METRICS_TIMEZONE: 'Europe/Berlin' },
    { options: { logs: ['logs/'], by: ['period', 'platform'], interval: 'month', kind: 'install', from: '2026-01-01', to: '2026-01-31', timezone: 'Europe/Berlin', weekStart: 0, load: false, strict: false } },
  ],
  ['load-downloads', ['load-downloads', 'x.log', '--salt', 'pepper'], {}, { command: 'load-downloads', options: { logs: ['x.log'], salt: 'pepper', strict: false } }],
  [
    'replay: numbers parsed, defaults filled, --no-gzip',
    ['replay', 'a.jsonl', 'b.jsonl.gz', '--batch-size', '50', '--no-gzip', '--dry-run'],
    { POSTHOG_HOST: 'http://127.0.0.1:8010' },
    { options: { files: ['a.jsonl', 'b.jsonl.gz'], batchSize: 50, chunkSize: 10000, concurrency: 3, retries: 5, retryDelayMs: 3000, requestTimeoutMs: 10000, gzip: false, dryRun: true, host: 'http://127.0.0.1:8010' } },
  ],
  [
    'sandbox serve: keys from the environment, fractions for rates',
    ['sandbox', 'serve', '--port', '0', '--fail-rate', '0.25', '--week-start', 'monday'],
    { POSTHOG_PROJECT_API_KEY: 'phc_test_token', POSTHOG_PERSONAL_API_KEY: 'phx_test_key' },
    { command: 'sandbox serve', options: { port: 0, failRate: 0.25, projectToken: 'phc_test_token', personalApiKey: 'phx_test_key', weekStart: 1, timezone: 'UTC', holdMs: 15000, projectId: 1 }, globals: { storeChosen: false } },
  ],
  ['smoke', ['smoke', '--days', '3', '--ingest-timeout', '60', '--seed', '9'], { POSTHOG_PROJECT_ID: '7' }, { options: { days: 3, ingestTimeoutSeconds: 60, seed: 9, track: 'server', yes: false, connection: { projectId: '7' } } }],
  ['fixtures generate', ['fixtures', 'generate', '--out', '-', '--days', '5', '--seed', '7', '--start', '2026-01-05'], {}, { command: 'fixtures generate', options: { out: '-', generate: { days: 5, seed: 7, start: Date.UTC(2026, 0, 5), accounts: 400 } } }],
  ['seed --now', ['seed', '--now', '2026-11-16T00:00:00Z', '--no-downloads'], {}, { options: { now: new Date('2026-11-16T00:00:00Z'), downloads: false } }],
  ['query run --print-query', ['query', 'run', 'a.json', '-', '--print-query'], {}, { command: 'query run', options: { files: ['a.json', '-'], query: { printQuery: true } } }],
  ['query run --print-query FILE: the flag takes no value', ['query', 'run', '--print-query', 'a.json'], {}, { command: 'query run', options: { files: ['a.json'], query: { printQuery: true } } }],
  ['funnel --print-insight', ['funnel', '--print-insight'], {}, { command: 'funnel', options: { query: { printQuery: true } } }],
  ['load', ['load', 'e.jsonl', '--strict-vocabulary'], {}, { options: { files: ['e.jsonl'], strictVocabulary: true } }],
  ['funnel --interval: one track, conversion per period', ['funnel', '-r', 'server', '--interval', 'week'], {}, { command: 'funnel', options: { tracks: [{ slug: 'server' }], interval: 'week', funnel: { dateRange: { date_from: '-30d' } } } }],
  [
    'compare --before/--after: two inclusive spans, the funnel shape, --fail-on-regression',
    ['compare', '--before', '2026-09-01..2026-09-30', '--after', '-30d..-1d', '--window', '2h', '--fail-on-regression', '--now', NOW],
    {},
    {
      command: 'compare',
      options: {
        tracks: expect.arrayContaining([expect.objectContaining({ slug: 'server' })]),
        shape: { window: { funnelWindowInterval: 2, funnelWindowIntervalUnit: 'hour' }, order: 'ordered', deployment: 'all' },
        split: { before: { date_from: '2026-09-01', date_to: '2026-09-30' }, after: { date_from: '-30d', date_to: '-1d' } },
        failOnRegression: true,
      },
    },
  ],
  ['compare --release: the version as semver, the range to split (-60d)', ['compare', '-r', 'eks', '--release', 'v16.2'], {}, { options: { tracks: [{ slug: 'eks' }], split: { release: '16.2.0', range: { date_from: '-60d', date_to: null } }, failOnRegression: false } }],
  ['dropoffs: one track, the step and its index', ['dropoffs', '-r', 'server', '--step', 'deployService', '--from', '-14d'], {}, { command: 'dropoffs', options: { track: { slug: 'server' }, step: 'deployService', stepIndex: expect.any(Number), funnel: { dateRange: { date_from: '-14d' }, deployment: 'all' } } }],
  ['correlation: one track', ['correlation', '-r', 'server', '--deployment', 'self-hosted'], {}, { command: 'correlation', options: { track: { slug: 'server' }, funnel: { deployment: 'self-hosted', dateRange: { date_from: '-30d' } } } }],
  ['report: stdout is markdown', ['report', '--from', '-7d'], {}, { command: 'report', options: { dateRange: { date_from: '-7d', date_to: null }, out: undefined, as: 'markdown', shape: { order: 'ordered' } } }],
  ['report --out x.html: HTML', ['report', '-o', 'x.html'], {}, { options: { out: 'x.html', as: 'html' } }],
  ['report --out x.md: markdown', ['report', '-o', 'x.md'], {}, { options: { out: 'x.md', as: 'markdown' } }],
  ['report --print-query', ['report', '--print-query'], {}, { options: { query: { printQuery: true } } }],
  ['report --format json --out x.html: JSON', ['--format', 'json', 'report', '-o', 'x.html'], {}, { options: { out: 'x.html', as: 'json' } }],
  ['global options before or after the command', ['store', 'info', '--format', 'csv', '-q', '--store', 's.duckdb'], {}, { command: 'store info', globals: { format: 'csv', quiet: true, store: 's.duckdb' } }],
];

const bad: [string, string[], Record<string, string>, RegExp][] = [
  ['--top out of range', ['steps', '--top', '0'], {}, /--top: 0 is out of range/],
  ['--days not a number', ['fixtures', 'generate', '--out', 'x', '--days', 'ten'], {}, /--days: 'ten' is not a whole number/],
  ['--bins above PostHog\'s 90', ['ttfr', '--bins', '91'], {}, /--bins: 91 is out of range/],
  ['--port out of range', ['sandbox', 'serve', '--port', '70000'], {}, /--port: 70000 is out of range/],
  ['--fail-rate above 1', ['sandbox', 'serve', '--fail-rate', '2'], {}, /--fail-rate: 2 is out of range/],
  ['--from not a date', ['funnel', '--from', 'yesterday'], {}, /--from: 'yesterday' is not a date/],
  ['--from after --to', ['dau', '--from', '2026-02-01', '--to', '2026-01-01'], {}, /--from 2026-02-01 is after --to 2026-01-01/],
  ['--window', ['steps', '--window', 'forever'], {}, /--window: 'forever' is not a conversion window/],
  ['--now', ['funnel', '--now', 'soon'], {}, /--now: 'soon' is not an ISO 8601 date-time/],
  ['unknown --format', ['--format', 'yaml', 'funnel'], {}, /'yaml' is invalid. Allowed choices are table, json, csv, markdown/],
  ['unknown --interval', ['dau', '--interval', 'year'], {}, /'year' is invalid. Allowed choices are day, week, month/],
  ['--intervals above 120', ['retention', '--intervals', '121'], {}, /--intervals: 121 is out of range/],
  ['--intervals not a number', ['retention', '--intervals', 'eight'], {}, /--intervals: 'eight' is not a whole number/],
  ['unknown --period', ['retention', '--period', 'year'], {}, /'year' is invalid. Allowed choices are day, week, month/],
  ['lifecycle --interval', ['lifecycle', '--interval', 'hour'], {}, /'hour' is invalid. Allowed choices are day, week, month/],
  ['stickiness --from after --to', ['stickiness', '--from', '2026-02-01', '--to', '2026-01-01'], {}, /--from 2026-02-01 is after --to 2026-01-01/],
  ['retention --from after --to', ['retention', '--from', '2026-02-01', '--to', '2026-01-01'], {}, /--from 2026-02-01 is after --to 2026-01-01/],
  ['connect-share --from not a date', ['connect-share', '--from', 'lastweek'], {}, /--from: 'lastweek' is not a date/],
  ['a bad engine in the environment names the variable', ['funnel'], { DISCOVER_METRICS_ENGINE: 'duckdb' }, /value 'duckdb' from env 'DISCOVER_METRICS_ENGINE' is invalid/],
  ['a bad timezone in the environment names the variable', ['dau'], { DISCOVER_METRICS_TIMEZONE: 'Mars/Base' }, /^DISCOVER_METRICS_TIMEZONE: 'Mars\/Base' is not an IANA timezone/],
  ['a bad --timezone names the flag', ['downloads', 'x', '--timezone', 'Mars/Base'], {}, /^--timezone: 'Mars\/Base' is not an IANA timezone/],
  ['a misspelt resource', ['funnel', '-r', 'rds-postgress'], {}, /did you mean 'rds-postgres'/],
  ['an unknown breakdown', ['dau', '--breakdown', 'platform'], {}, /--breakdown: unknown breakdown 'platform'/],
  ['--steps needs two', ['funnel', '-r', 'eks', '--steps', 'started'], {}, /--steps: give at least two/],
  ['--by', ['downloads', 'x', '--by', 'platfrom'], {}, /--by: unknown breakdown 'platfrom' \(did you mean 'platform'\?\)/],
  ['downloads --from is a day', ['downloads', 'x', '--from', '2026-02-30'], {}, /--from: '2026-02-30' is not a date/],
  ['missing --out', ['fixtures', 'generate'], {}, /--out/],
  ['funnel --interval needs one resource', ['funnel', '-r', 'all', '--interval', 'week'], {}, /--interval: give one --resource/],
  ['funnel --interval with --breakdown', ['funnel', '-r', 'server', '--interval', 'day', '--breakdown', 'os'], {}, /--interval: cannot be combined with --breakdown/],
  ['funnel --interval is a day, week or month', ['funnel', '-r', 'server', '--interval', 'year'], {}, /'year' is invalid. Allowed choices are day, week, month/],
  ['compare without --after', ['compare', '--before', '2026-09-01..2026-09-30'], {}, /compare: --after missing/],
  ['compare --release with --before', ['compare', '--release', '16', '--before', '-9d..-5d'], {}, /--release: give either --release or --before\/--after, not both/],
  ['compare --before is FROM..TO', ['compare', '--before', '2026-09-01', '--after', '-3d..-1d'], {}, /--before: '2026-09-01' is not a range/],
  ['compare --after in the wrong order', ['compare', '--before', '-9d..-5d', '--after', '2026-10-10..2026-10-01'], {}, /--after: 2026-10-10 is after 2026-10-01/],
  ['compare --release not a version', ['compare', '--release', 'banana'], {}, /--release: 'banana' is not a version/],
  ['dropoffs --resource all', ['dropoffs', '-r', 'all', '--step', 'x'], {}, /--resource: give one track \(dropoffs are one step of one track\)/],
  ['dropoffs --step misspelt', ['dropoffs', '-r', 'server', '--step', 'deployServce'], {}, /--step: 'deployServce' is not a step of server — did you mean 'deployService'\?/],
  ['dropoffs needs --step', ['dropoffs', '-r', 'server'], {}, /required option '--step <key>' not specified/],
  ['correlation --resource list', ['correlation', '-r', 'list'], {}, /--resource: give one track \(correlation explains one funnel\)/],
  ['report --from all', ['report', '--from', 'all'], {}, /--from: the digest compares a range with the one before it/],
  ['report --out empty', ['report', '--out', ' '], {}, /--out: give a file name/],
  ['report --format csv', ['--format', 'csv', 'report'], {}, /--format: the digest is html \(with --out\), markdown or json, not csv/],
  ['an empty materialize key', ['store', 'materialize', ' '], {}, /property keys must not be empty/],
];

describe('argv -> typed options', () => {
  it.each(ok)('%s', async (_name, argv, env, expected) => {
    const r = await parse(argv, env);
    expect(r.code, r.message).toBe(0);
    expect(r).toMatchObject(expected);
  });

  it.each(bad)('usage error: %s (exit 2)', async (_name, argv, env, message) => {
    const r = await parse(argv, env);
    expect(r.code).toBe(2);
    expect(r.message).toMatch(message);
  });
});
