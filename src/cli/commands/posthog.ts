/** Talking to PostHog itself: push, replay, sandbox serve, smoke. */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { connectionOptions, isValidTimezone, numberOption, weekStartOption } from '../options.js';
import { withOptions } from './with-options.js';

const INT = { min: 0, max: Number.MAX_SAFE_INTEGER };

/** `--query-rate-limit 240/min,1200/h` or `off`. */
function queryRateLimit(v: string): { perMinute: number; perHour: number } | null {
  if (v === 'off') return null;
  const m = /^(\d+)\/min,(\d+)\/h$/.exec(v.replace(/\s+/g, ''));
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--query-rate-limit: '${v}' must look like 240/min,1200/h (or off)`);
  return { perMinute: Number(m[1]), perHour: Number(m[2]) };
}

export function register(program: Command): void {
  const push = withOptions(
    program
      .command('push')
      .description('Save every definition (Discover funnels, time to first resource, Connect trends and growth) as PostHog insights on one dashboard'),
    [
      new Option('--dry-run', 'print the plan (create / update / unchanged, with what changes) and change nothing'),
      new Option('--prune', 'remove insights pushed earlier that no definition produces any more (PostHog soft delete)'),
      new Option('--dashboard <name>', 'dashboard name').default('Teleport Discover & Connect (discover-metrics)'),
      ...connectionOptions({ query: true, hostHelp: 'PostHog app host' }),
    ],
  );
  action(
    push,
    (o) => ({
      dryRun: !!o.dryRun,
      prune: !!o.prune,
      dashboard: o.dashboard as string,
      connection: { host: o.host, projectId: o.projectId, personalApiKey: o.personalApiKey, config: o.config },
    }),
    async () => (await import('../../commands/push.js')).pushCommand,
  );

  const replay = withOptions(
    program
      .command('replay')
      .description('send fixture events (PostHog-shaped JSONL, .gz ok) to PostHog or the sandbox, keeping uuids and timestamps')
      .argument('<files...>', 'fixture files (JSONL, gzip ok)'),
    [
      ...connectionOptions({ capture: true, hostHelp: 'capture host, e.g. http://127.0.0.1:8010 (sandbox) or https://us.i.posthog.com' }),
      new Option('--historical', 'mark batches as historical migration (backfills of past-dated events)'),
      new Option('--dry-run', 'validate and count the events without sending anything'),
      new Option('--yes', 'allow writing to a non-local host'),
      new Option('--checkpoint <file>', 'record progress here after each acknowledged chunk (atomic)'),
      new Option('--resume', 'continue from --checkpoint: send only what was not acknowledged'),
      numberOption('--batch-size <n>', 'events per HTTP request', { ...INT, def: 1000 }),
      numberOption('--chunk-size <n>', 'events per awaited flush (at most the SDK queue size)', { ...INT, def: 10000 }),
      numberOption('--concurrency <n>', 'chunks in flight at once', { ...INT, def: 3 }),
      numberOption('--retries <n>', 're-send rounds for events not acknowledged after the SDK retries', { ...INT, def: 5 }),
      numberOption('--retry-delay <ms>', 'delay between SDK retries (ms)', { ...INT, def: 3000 }),
      numberOption('--request-timeout <ms>', 'HTTP request timeout (ms)', { ...INT, def: 10000 }),
      new Option('--personal-api-key <key>', 'personal API key phx_...: after an unanswered request, ask PostHog which events it holds before re-sending').env('POSTHOG_PERSONAL_API_KEY'),
      new Option('--project-id <id>', 'PostHog project id for those questions').env('POSTHOG_PROJECT_ID'),
      new Option('--query-host <url>', 'app host for those questions (default: the capture host; us.i.posthog.com -> us.posthog.com)'),
      numberOption('--ingestion-lag <ms>', 'wait this long before asking (default 30000, 0 to a loopback host)', INT),
      new Option('--gzip', 'gzip request bodies (default, except to a loopback host such as the sandbox)'),
      new Option('--no-gzip', 'send uncompressed bodies'),
    ],
  );
  action(
    replay,
    (o, [files]) => ({
      files: files!,
      host: o.host,
      projectApiKey: o.projectApiKey,
      config: o.config,
      historical: !!o.historical,
      dryRun: !!o.dryRun,
      yes: !!o.yes,
      checkpoint: o.checkpoint,
      resume: !!o.resume,
      batchSize: o.batchSize,
      chunkSize: o.chunkSize,
      concurrency: o.concurrency,
      retries: o.retries,
      retryDelayMs: o.retryDelay,
      requestTimeoutMs: o.requestTimeout,
      gzip: o.gzip as boolean | undefined,
      personalApiKey: o.personalApiKey,
      projectId: o.projectId,
      queryHost: o.queryHost,
      ingestionLagMs: o.ingestionLag,
    }),
    async () => (await import('../../commands/replay.js')).replayCommand,
  );

  const sandbox = program.command('sandbox').description('a local PostHog-compatible server for tests and CI');
  const serveOptions = (): Option[] => [
      new Option('--pid-file <file>', 'write the server PID (and URL) to FILE once it listens; removed when it stops'),
      numberOption('--port <n>', 'port (0 picks a free one)', { min: 0, max: 65535, def: 8010 }),
      new Option('--bind <addr>', 'interface to listen on').default('127.0.0.1'),
      new Option('--project-token <token>', 'project API key (phc_...) accepted by capture').env('POSTHOG_PROJECT_API_KEY'),
      new Option('--personal-api-key <key>', 'personal API key (phx_...) accepted by the query API').env('POSTHOG_PERSONAL_API_KEY'),
      numberOption('--project-id <id>', 'project id served', { min: 1, max: Number.MAX_SAFE_INTEGER, def: 1 }),
      new Option('--timezone <tz>', 'project timezone used by queries').default('UTC'),
      weekStartOption('sunday'),
      numberOption('--fail-rate <p>', 'fault injection: probability a capture request answers 503', { min: 0, max: 1, integer: false, def: 0 }),
      numberOption('--fail-burst <n>', 'fault injection: the first N capture requests (and each --fail-rate failure) answer 503 N times in a row', { min: 0, max: 1e9, def: 0 }),
      numberOption('--latency <ms>', 'fault injection: delay every answer', { min: 0, max: 600000, def: 0 }),
      numberOption('--timeout-rate <p>', 'fault injection: probability a capture request is stored but answered only after --hold', { min: 0, max: 1, integer: false, def: 0 }),
      numberOption('--hold <ms>', 'how long --timeout-rate holds an answer', { min: 0, max: 600000, def: 15000 }),
      numberOption('--seed <n>', 'seed for fault injection', { min: 0, max: 2 ** 32, def: 1 }),
      new Option('--no-dedup', "store every accepted event, re-sent uuids included, as PostHog's events table holds them until a background merge"),
      new Option('--query-rate-limit <spec>', "query API limits per personal API key: 'PER_MINUTE/min,PER_HOUR/h' or 'off'").default('240/min,1200/h'),
  ];
  const serve = withOptions(
    sandbox
      .command('serve')
      .description('serve capture (/batch/, /e/, /i/v0/e/, /capture/, /track/, /engage/; POST or GET, gzip or lz64, as rust capture) and the query API for one project from an event store (--store; default sandbox.duckdb next to the default store)'),
    serveOptions(),
  );
  action(
    serve,
    (o) => {
      if (!isValidTimezone(o.timezone)) throw new UsageError(`--timezone: '${o.timezone}' is not an IANA timezone`);
      return {
        port: o.port,
        bind: o.bind,
        projectToken: o.projectToken,
        personalApiKey: o.personalApiKey,
        projectId: o.projectId,
        timezone: o.timezone,
        weekStart: o.weekStart === 'monday' ? (1 as const) : (0 as const),
        failRate: o.failRate,
        failBurst: o.failBurst,
        latencyMs: o.latency,
        timeoutRate: o.timeoutRate,
        holdMs: o.hold,
        seed: o.seed,
        noDedup: o.dedup === false,
        queryRateLimits: queryRateLimit(o.queryRateLimit),
        pidFile: o.pidFile as string | undefined,
      };
    },
    async () => (await import('../../commands/sandbox.js')).sandboxServeCommand,
  );

  const start = withOptions(
    sandbox
      .command('start')
      .description('start `sandbox serve` in the background for scripts and CI: prints its URL once it listens, exits 0; stop it with `sandbox stop`'),
    [
      ...serveOptions().filter((x) => x.long !== '--pid-file'),
      new Option('--pid-file <file>', 'where the server PID and URL are kept (sandbox stop reads it)').default('sandbox.pid'),
      new Option('--log-file <file>', "the server's log (default: the PID file's name with .log)"),
      numberOption('--timeout <s>', 'how long to wait for the server to listen', { min: 1, max: 600, def: 30 }),
    ],
  );
  action(
    start,
    (o) => {
      if (!isValidTimezone(o.timezone)) throw new UsageError(`--timezone: '${o.timezone}' is not an IANA timezone`);
      queryRateLimit(o.queryRateLimit);
      const pidFile = String(o.pidFile);
      return { serveArgs: serveArgsOf(process.argv.slice(2), pidFile), pidFile, logFile: (o.logFile as string | undefined) ?? `${pidFile.replace(/\.pid$/, '')}.log`, timeoutSeconds: o.timeout as number };
    },
    async () => (await import('../../commands/sandbox.js')).sandboxStartCommand,
  );

  const stop = withOptions(
    sandbox.command('stop').description('stop a sandbox started with --pid-file (sandbox start, or serve --pid-file): SIGTERM, then wait for its clean shutdown'),
    [
      new Option('--pid-file <file>', 'the PID file the server was started with').default('sandbox.pid'),
      numberOption('--timeout <s>', 'how long to wait for it to exit', { min: 1, max: 600, def: 30 }),
    ],
  );
  action(stop, (o) => ({ pidFile: String(o.pidFile), timeoutSeconds: o.timeout as number }), async () => (await import('../../commands/sandbox.js')).sandboxStopCommand);

  const smoke = withOptions(
    program
      .command('smoke')
      .description('CI check: replay seeded fixtures to PostHog (or the sandbox) and compare its Discover funnel and Connect DAU with the local engine'),
    [
      ...connectionOptions({ query: true, capture: true, hostHelp: 'capture host; also the query host unless --query-host' }),
      new Option('--query-host <url>', 'app host for queries when it differs (PostHog Cloud: https://us.posthog.com)'),
      numberOption('--seed <n>', 'fixture seed (default: random per run)', INT),
      numberOption('--days <n>', 'days of fixtures', { min: 1, max: 3650, def: 7 }),
      new Option('--track <slug>', 'Discover track for the funnel').default('server'),
      numberOption('--ingest-timeout <s>', 'give up waiting for ingestion after this many seconds', { min: 1, max: 86400, def: 300 }),
      new Option('--yes', 'allow writing to a non-local host'),
    ],
  );
  action(
    smoke,
    (o) => ({
      connection: { host: o.host, projectId: o.projectId, projectApiKey: o.projectApiKey, personalApiKey: o.personalApiKey, config: o.config },
      queryHost: o.queryHost,
      seed: o.seed,
      days: o.days,
      track: o.track,
      ingestTimeoutSeconds: o.ingestTimeout,
      yes: !!o.yes,
    }),
    async () => (await import('../../commands/smoke.js')).smokeCommand,
  );
}

/** `sandbox start`'s command line as `sandbox serve`'s: start's own options out, its --pid-file in. */
export function serveArgsOf(argv: string[], pidFile: string): string[] {
  const at = argv.findIndex((a, i) => a === 'start' && argv.slice(0, i).includes('sandbox'));
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (i === at) out.push('serve');
    else if (['--log-file', '--timeout', '--pid-file'].includes(a)) i++;
    else if (/^--(log-file|timeout|pid-file)=/.test(a)) continue;
    else out.push(a);
  }
  return [...out, '--pid-file', pidFile];
}
