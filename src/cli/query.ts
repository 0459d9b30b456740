/** Normalising the options every query command shares into typed QueryOptions and a DateRange. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { QueryOptions } from '../commands/context.js';
import type { DateRange } from '../engines/types.js';
import { checkRelativeOrder, dateRangeFromOptions } from './range-options.js';
import { isValidTimezone } from './options.js';

type Raw = Record<string, any>;

/** The name to blame for a bad value: the flag, or the environment variable it came from. */
export function sourceName(cmd: Command, key: string, flag: string, envVar: string): string {
  return cmd.getOptionValueSource(key) === 'env' ? envVar : flag;
}

export function queryOptionsOf(o: Raw, cmd: Command): QueryOptions {
  const timezone: string = o.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) {
    throw new UsageError(`${sourceName(cmd, 'timezone', '--timezone', 'DISCOVER_METRICS_TIMEZONE')}: '${timezone}' is not an IANA timezone`, 'Examples: UTC, Europe/Warsaw, US/Pacific.');
  }
  let now: Date | undefined;
  if (o.now !== undefined) {
    now = new Date(o.now);
    if (Number.isNaN(now.getTime())) throw new UsageError(`--now: '${o.now}' is not an ISO 8601 date-time`);
  }
  const weekStart: 0 | 1 | undefined = o.weekStart === undefined ? undefined : o.weekStart === 'monday' ? 1 : 0;
  return {
    engine: o.engine,
    ctx: { timezone, weekStart: weekStart ?? 0, now: now ?? new Date() },
    printQuery: !!o.printQuery || !!o.printInsight,
    asked: { timezone: o.timezone, weekStart, now },
    connection: { host: o.host, projectId: o.projectId, personalApiKey: o.personalApiKey, config: o.config },
  };
}

/** --from/--to into a PostHog dateRange, checked for order against "now". */
export function rangeOf(o: Raw, q: QueryOptions, defaultFrom: string): DateRange {
  const dateRange = dateRangeFromOptions(o.from, o.to, defaultFrom);
  checkRelativeOrder(dateRange, q.ctx.now);
  return dateRange;
}
