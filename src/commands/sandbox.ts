/**
 * `discover-metrics sandbox serve` — a local PostHog-compatible server (capture + query API) over
 * an embedded event store, for tests and CI.
 */
import { InvalidArgumentError, type Command } from 'commander';

function num(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name}: '${v}' must be a number from ${min} to ${max}`);
    return n;
  };
}

function rateLimit(v: string): { perMinute: number; perHour: number } | null {
  if (v === 'off') return null;
  const m = /^(\d+)\/min,(\d+)\/h$/.exec(v.replace(/\s+/g, ''));
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new InvalidArgumentError(`--query-rate-limit: '${v}' must look like 240/min,1200/h (or off)`);
  return { perMinute: Number(m[1]), perHour: Number(m[2]) };
}

export function register(program: Command): void {
  const sandbox = program.command('sandbox').description('a local PostHog-compatible server for tests and CI');
  sandbox
    .command('serve')
    .description('serve capture (/batch/, /e/, /capture/, /i/v0/e/) and the query API for one project from an event store (--store; default sandbox.duckdb next to the default store)')
    .option('--port <n>', 'port (0 picks a free one)', num('--port', 0, 65535), 8010)
    .option('--bind <addr>', 'interface to listen on', '127.0.0.1')
    .option('--project-token <token>', 'project API key (phc_...) accepted by capture (env POSTHOG_PROJECT_API_KEY)')
    .option('--personal-api-key <key>', 'personal API key (phx_...) accepted by the query API (env POSTHOG_PERSONAL_API_KEY)')
    .option('--project-id <id>', 'project id served', num('--project-id', 1, Number.MAX_SAFE_INTEGER), 1)
    .option('--timezone <tz>', 'project timezone used by queries', 'UTC')
    .option('--week-start <day>', 'project week start: sunday|monday', 'sunday')
    .option('--fail-rate <p>', 'fault injection: probability a capture request answers 503', num('--fail-rate', 0, 1), 0)
    .option('--fail-burst <n>', 'fault injection: the first N capture requests (and each --fail-rate failure) answer 503 N times in a row', num('--fail-burst', 0, 1e9), 0)
    .option('--latency <ms>', 'fault injection: delay every answer', num('--latency', 0, 600000), 0)
    .option('--timeout-rate <p>', 'fault injection: probability a capture request is stored but answered only after --hold', num('--timeout-rate', 0, 1), 0)
    .option('--hold <ms>', 'how long --timeout-rate holds an answer', num('--hold', 0, 600000), 15000)
    .option('--seed <n>', 'seed for fault injection', num('--seed', 0, 2 ** 32), 1)
    .option('--no-dedup', "store every accepted event, re-sent uuids included, as PostHog's events table holds them until a background merge")
    .option('--query-rate-limit <spec>', "query API limits per personal API key, PostHog's by default: 'PER_MINUTE/min,PER_HOUR/h', or 'off'", rateLimit, { perMinute: 240, perHour: 1200 })
    .action(async (_opts, command: Command) => {
      const { sandboxServeCommand } = await import('../sandbox/cli.js');
      await sandboxServeCommand(command);
    });
}
