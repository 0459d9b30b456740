/**
 * `discover-metrics smoke` — CI check: replay a small seeded fixture set into a PostHog project
 * (or the sandbox), wait for ingestion, and compare the Discover funnel and Connect DAU there with
 * the local engine on the same fixtures. Exit 0 when they agree, 1 with the differences.
 */
import { InvalidArgumentError, type Command } from 'commander';

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name}: '${v}' must be an integer ≥ ${min}`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('smoke')
    .description('CI check: replay seeded fixtures to PostHog (or the sandbox) and compare its Discover funnel and Connect DAU with the local engine')
    .option('--host <url>', 'capture host (env POSTHOG_HOST); also the query host unless --query-host')
    .option('--query-host <url>', 'app host for queries when it differs (PostHog Cloud: https://us.posthog.com)')
    .option('--project-id <id>', 'PostHog project id (env POSTHOG_PROJECT_ID)')
    .option('--project-api-key <token>', 'project API key phc_... for capture (env POSTHOG_PROJECT_API_KEY)')
    .option('--personal-api-key <key>', 'personal API key phx_... for queries (env POSTHOG_PERSONAL_API_KEY)')
    .option('--config <file>', 'config file with PostHog connection settings (JSON)')
    .option('--seed <n>', 'fixture seed (default: random per run)', int('--seed', 0))
    .option('--days <n>', 'days of fixtures', int('--days', 1), 7)
    .option('--track <slug>', 'Discover track for the funnel', 'server')
    .option('--ingest-timeout <s>', 'give up waiting for ingestion after this many seconds', int('--ingest-timeout', 1), 300)
    .option('--yes', 'allow writing to a non-local host')
    .action(async (_opts, command: Command) => {
      const { smokeCommand } = await import('../smoke/cli.js');
      await smokeCommand(command);
    });
}
