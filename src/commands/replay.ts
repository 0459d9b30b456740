/**
 * `discover-metrics replay FILE... --host URL --project-api-key phc_...` — send fixture events to a
 * PostHog project or the sandbox with posthog-node, accounting for every event.
 */
import { InvalidArgumentError, type Command } from 'commander';

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name}: '${v}' is not a non-negative integer`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('send fixture events (PostHog-shaped JSONL, .gz ok) to PostHog or the sandbox, keeping uuids and timestamps')
    .argument('<files...>', 'fixture files (JSONL, gzip ok)')
    .option('--host <url>', 'capture host, e.g. http://127.0.0.1:8010 (sandbox) or https://us.i.posthog.com (env POSTHOG_HOST)')
    .option('--project-api-key <token>', 'project API key phc_... (env POSTHOG_PROJECT_API_KEY)')
    .option('--config <file>', 'config file with PostHog connection settings (JSON)')
    .option('--historical', 'mark batches as historical migration (backfills of past-dated events)')
    .option('--dry-run', 'validate and count the events without sending anything')
    .option('--yes', 'allow writing to a non-local host')
    .option('--checkpoint <file>', 'record progress here after each acknowledged chunk (atomic)')
    .option('--resume', 'continue from --checkpoint: send only what was not acknowledged')
    .option('--batch-size <n>', 'events per HTTP request', int('--batch-size'), 1000)
    .option('--chunk-size <n>', 'events per awaited flush (at most the SDK queue size)', int('--chunk-size'), 10000)
    .option('--concurrency <n>', 'chunks in flight at once', int('--concurrency'), 3)
    .option('--retries <n>', 're-send rounds for events not acknowledged after the SDK retries', int('--retries'), 5)
    .option('--retry-delay <ms>', 'delay between SDK retries (ms)', int('--retry-delay'), 3000)
    .option('--request-timeout <ms>', 'HTTP request timeout (ms)', int('--request-timeout'), 10000)
    .option('--personal-api-key <key>', 'personal API key phx_... (env POSTHOG_PERSONAL_API_KEY): after an unanswered request, ask PostHog which events it holds before re-sending')
    .option('--project-id <id>', 'PostHog project id for those questions (env POSTHOG_PROJECT_ID)')
    .option('--query-host <url>', 'app host for those questions (default: the capture host; us.i.posthog.com -> us.posthog.com)')
    .option('--ingestion-lag <ms>', 'wait this long before asking (default 30000, 0 to a loopback host)', int('--ingestion-lag'))
    .option('--gzip', 'gzip request bodies (default, except to a loopback host such as the sandbox)')
    .option('--no-gzip', 'send uncompressed bodies')
    .action(async (files: string[], _opts, command: Command) => {
      const { replayCommand } = await import('../replay/cli.js');
      await replayCommand(files, command);
    });
}
