/**
 * Options shared by every command that runs queries: engine choice, team timezone/week start,
 * a pinned "now", and the PostHog connection for --engine posthog.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import type { Engine, QueryContext } from '../engines/types.js';
import { globalsOf } from './globals.js';

export interface QueryOptions {
  engine: 'local' | 'posthog';
  ctx: QueryContext;
  printQuery: boolean;
}

export function addQueryOptions(cmd: Command, opts: { printQuery?: boolean } = {}): Command {
  cmd
    .addOption(
      new Option('--engine <engine>', 'where queries run: local (embedded DuckDB) or posthog (env DISCOVER_METRICS_ENGINE)').choices([
        'local',
        'posthog',
      ]),
    )
    .option('--timezone <tz>', 'team timezone (IANA name) for date ranges and buckets', undefined)
    .addOption(new Option('--week-start <day>', 'first day of the week').choices(['sunday', 'monday']))
    .option('--now <iso>', 'pin the current time (ISO 8601) so relative dates are reproducible')
    .option('--host <url>', 'PostHog app host for --engine posthog (env POSTHOG_HOST)')
    .option('--project-id <id>', 'PostHog project id (env POSTHOG_PROJECT_ID)')
    .option('--personal-api-key <key>', 'PostHog personal API key (env POSTHOG_PERSONAL_API_KEY)')
    .option('--config <file>', 'config file with PostHog connection settings (JSON)');
  if (opts.printQuery !== false) cmd.option('--print-query', 'print the PostHog query that would be sent, and exit');
  return cmd;
}

export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function queryOptionsOf(cmd: Command, env: NodeJS.ProcessEnv = process.env): QueryOptions {
  const o = cmd.optsWithGlobals() as Record<string, string | boolean | undefined>;
  const engine = (o.engine as string | undefined) ?? env.DISCOVER_METRICS_ENGINE ?? 'local';
  if (engine !== 'local' && engine !== 'posthog') {
    throw new UsageError(`DISCOVER_METRICS_ENGINE: unknown engine '${engine}'`, 'Valid engines: local, posthog.');
  }
  const timezone = (o.timezone as string | undefined) ?? env.DISCOVER_METRICS_TIMEZONE ?? 'UTC';
  if (!isValidTimezone(timezone)) {
    throw new UsageError(`--timezone: '${timezone}' is not an IANA timezone`, 'Examples: UTC, Europe/Warsaw, US/Pacific.');
  }
  let now = new Date();
  if (typeof o.now === 'string') {
    now = new Date(o.now);
    if (Number.isNaN(now.getTime())) throw new UsageError(`--now: '${o.now}' is not an ISO 8601 date-time`);
  }
  return {
    engine,
    ctx: { timezone, weekStart: o.weekStart === 'monday' ? 1 : 0, now },
    printQuery: !!o.printQuery,
  };
}

/** Open the engine selected by the options. Callers must close() it. */
export async function openEngine(cmd: Command, q: QueryOptions, opts: { requireEvents?: boolean } = {}): Promise<Engine> {
  if (q.engine === 'posthog') {
    const { createPostHogEngineFromOptions } = await import('../engines/posthog/index.js');
    return createPostHogEngineFromOptions(cmd.optsWithGlobals());
  }
  const { createLocalEngine } = await import('../engines/local/index.js');
  const g = globalsOf(cmd);
  return createLocalEngine(g.store, opts);
}
