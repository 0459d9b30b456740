/**
 * The Teleport Connect reports: dau, features, platforms, lifecycle, retention, stickiness,
 * connect-share, adoption, downloads, load-downloads.
 */
import type { DateRange } from '../../query/schema.js';
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { ActiveMath, ReportInterval } from '../../definitions/connect.js';
import { parseDimensions } from '../../downloads/report.js';
import { action } from '../action.js';
import { dayRangeOptions, intervalOption, isValidTimezone, logOptions, numberOption, parseRate, queryOptions, rangeOptions, timezoneOption, weekStartOption } from '../options.js';
import { checkRelativeOrder, dateRangeFromOptions, parseDateOption } from '../range-options.js';
import { queryOptionsOf, rangeOf, sourceName } from '../query.js';
import { withOptions } from './with-options.js';
import { DEFAULT_REPORT_FROM, dayOfDateInput, type RangeContext } from '../../time/index.js';

type Raw = Record<string, any>;

/** Every report over a range defaults to the same last 30 days (src/time/report-range.ts). */
const DEFAULT_FROM = DEFAULT_REPORT_FROM;

/** A --from/--to calendar day: YYYY-MM-DD, or relative like every report's (-30d, -4w, mStart) counted back from --now. */
export function parseDay(option: string, value: string | undefined, ctx: RangeContext = { timezone: 'UTC', weekStart: 0, now: new Date() }): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.toISOString().slice(0, 10) === value.trim()) return value.trim();
  } else if (value.trim() !== 'all') {
    try {
      return dayOfDateInput(value, ctx, option);
    } catch {
      // reported below with the accepted forms
    }
  }
  throw new UsageError(`${option}: '${value}' is not a date`, 'Use YYYY-MM-DD (2026-11-01) or a relative date (-30d, -4w, -3m, mStart).');
}

const logsOf = (o: Raw, logs: string[]) => ({ logs, salt: o.salt as string | undefined, strict: !!o.strict });

export function register(program: Command): void {
  const dau = withOptions(
    program
      .command('dau')
      .description('Active Teleport Connect installations per day/week/month (any Connect event counts), optionally split by platform'),
    [
      intervalOption('bucket size', 'day'),
      new Option('--math <math>', 'dau (unique per interval), wau (active in the last 7 days) or mau (last 30 days)').choices(['dau', 'wau', 'mau']).default('dau'),
      new Option('--breakdown <dimension>', 'split by a person property: os, arch, os_version, app_version'),
      new Option('--compare', 'add the previous period of the same length'),
      new Option('--compare-to <offset>', 'compare with the range moved back by an offset instead (e.g. -1w, -1m)'),
      new Option('--max-drop <rate>', 'exit 1 when the last complete period fell by more than RATE (0.2 or 20%) from the one before (with --compare: from the previous range), naming the series (for CI)').argParser((v: string) => parseRate('--max-drop', v)),
      ...rangeOptions(DEFAULT_FROM),
      ...queryOptions(),
    ],
  );
  action(
    dau,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      // the Connect definitions (and zod) load when the command runs, not at every start of the CLI
      const { findDimension, loadConnectDefinitions } = await import('../../definitions/connect.js');
      return {
        dau: {
          dateRange: rangeOf(o, query, DEFAULT_FROM),
          interval: o.interval,
          math: o.math as ActiveMath,
          breakdown: o.breakdown !== undefined ? findDimension(loadConnectDefinitions(), String(o.breakdown)) : undefined,
          compare: !!o.compare || o.compareTo !== undefined,
          compareTo: o.compareTo as string | undefined,
        },
        maxDrop: o.maxDrop as number | undefined,
        query,
      };
    },
    async () => (await import('../../commands/dau.js')).dauCommand,
  );

  const features = withOptions(
    program.command('features').description('Teleport Connect feature usage: installations, events and share of active installations per feature'),
    [...rangeOptions(DEFAULT_FROM), ...queryOptions()],
  );
  action(
    features,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { dateRange: rangeOf(o, query, DEFAULT_FROM), query };
    },
    async () => (await import('../../commands/features.js')).featuresCommand,
  );

  const platforms = withOptions(
    program
      .command('platforms')
      .description('Platform shares (OS, arch, OS version, Connect version) among active Teleport Connect installations')
      .option('--dimension <keys>', 'only these dimensions, comma-separated: os, arch, os_version, app_version'),
    [...rangeOptions(DEFAULT_FROM), ...queryOptions()],
  );
  action(
    platforms,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      const dimensions = o.dimension !== undefined ? String(o.dimension).split(',').map((k) => k.trim()) : undefined;
      return { dateRange: rangeOf(o, query, DEFAULT_FROM), dimensions, query };
    },
    async () => (await import('../../commands/platforms.js')).platformsCommand,
  );

  const lifecycle = withOptions(
    program.command('lifecycle').description('Connect installations per period: new (first event ever), returning, resurrecting and dormant'),
    [intervalOption('period', 'week'), ...rangeOptions('-12w'), ...queryOptions()],
  );
  action(
    lifecycle,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { lifecycle: { dateRange: rangeOf(o, query, '-12w'), interval: o.interval as ReportInterval }, query };
    },
    async () => (await import('../../commands/lifecycle.js')).lifecycleCommand,
  );

  const retention = withOptions(
    program.command('retention').description('Connect retention: installations by the period they were first seen, and the share active again N periods later'),
    [
      new Option('--period <period>', 'cohort period').choices(['day', 'week', 'month']).default('week'),
      numberOption('--intervals <n>', 'number of cohorts and of periods followed (PostHog totalIntervals)', { min: 1, max: 120, def: 8 }),
      new Option('--recurring', 'cohorts of every installation active in a period, not only first-time ones'),
      new Option('--from <date>', 'first cohort (default: --intervals periods before --to)'),
      new Option('--to <date>', 'last cohort: a date or relative (default: today)'),
      ...queryOptions(),
    ],
  );
  action(
    retention,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      // without --from, PostHog counts the cohorts back from --to (an empty default --from made
      // `retention --to DATE` fail with "--from: '' is not a date")
      const dateRange: DateRange =
        o.from === undefined ? { date_from: null, date_to: o.to === undefined ? null : parseDateOption('--to', o.to) } : dateRangeFromOptions(o.from, o.to, 'all');
      if (o.from !== undefined) checkRelativeOrder(dateRange, query.ctx.now);
      return {
        retention: { dateRange, period: o.period as ReportInterval, intervals: o.intervals as number, kind: o.recurring ? ('recurring' as const) : ('first_time' as const) },
        query,
      };
    },
    async () => (await import('../../commands/retention.js')).retentionCommand,
  );

  const stickiness = withOptions(
    program.command('stickiness').description('Connect stickiness: how many installations were active on 1, 2, … days (or weeks, months) of the range'),
    [
      intervalOption('day, week or month', 'day'),
      new Option('--from <date>', 'start of the range (default: -7d, with --to -1d: the last 7 whole days)'),
      new Option('--to <date>', 'end of the range (default: end of today, or yesterday when --from is not given)'),
      ...queryOptions(),
    ],
  );
  action(
    stickiness,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      const dateRange = rangeOf(o, query, '-7d');
      if (o.from === undefined && o.to === undefined) dateRange.date_to = '-1d';
      return { stickiness: { dateRange, interval: o.interval as ReportInterval }, query };
    },
    async () => (await import('../../commands/stickiness.js')).stickinessCommand,
  );

  const share = withOptions(
    program
      .command('connect-share')
      .description("Share of each period's active cluster users who used Teleport Connect (says so when the anonymized names cannot be joined)"),
    [intervalOption('period', 'week'), ...rangeOptions('-12w'), ...queryOptions()],
  );
  action(
    share,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { share: { dateRange: rangeOf(o, query, '-12w'), interval: o.interval as ReportInterval }, query };
    },
    async () => (await import('../../commands/connect-share.js')).connectShareCommand,
  );

  const adoption = withOptions(
    program.command('adoption').description('Connect downloads by platform next to newly active and active installations by OS, per period'),
    [
      intervalOption('period length', 'week'),
      ...rangeOptions(DEFAULT_FROM),
      new Option('--logs <paths...>', 'count downloads straight from CloudFront log files or directories instead of the store'),
      ...logOptions(),
      ...queryOptions(),
    ],
  );
  action(
    adoption,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { interval: o.interval, dateRange: rangeOf(o, query, DEFAULT_FROM), logs: o.logs as string[] | undefined, salt: o.salt, strict: !!o.strict, query };
    },
    async () => (await import('../../commands/adoption.js')).adoptionCommand,
  );

  const downloads = withOptions(
    program
      .command('downloads')
      .description('Teleport Connect downloads from CloudFront access logs (gzipped or not; files or directories)')
      .argument('<log...>', 'CloudFront standard log files or directories (read recursively)')
      .option('--by <dims>', 'breakdown: comma-separated period, platform, arch, version, artifact, kind', 'platform'),
    [
      intervalOption('period length for --by period', 'day'),
      new Option('--kind <kind>', 'which downloads: fresh installs, updater fetches, or all').choices(['all', 'install', 'update']).default('all'),
      ...dayRangeOptions(),
      new Option('--now <iso>', 'pin the current time (ISO 8601) that relative --from/--to count back from'),
      timezoneOption('UTC'),
      weekStartOption('sunday'),
      new Option('--load', 'also load the counted downloads into the event store (idempotent)'),
      ...logOptions(),
    ],
  );
  action(
    downloads,
    (o, [logs], cmd) => {
      const by = parseDimensions(o.by);
      const timezone = o.timezone as string;
      if (!isValidTimezone(timezone)) {
        throw new UsageError(`${sourceName(cmd, 'timezone', '--timezone', 'DISCOVER_METRICS_TIMEZONE')}: '${timezone}' is not an IANA timezone`, 'Examples: UTC, Europe/Warsaw, US/Pacific.');
      }
      let now = new Date();
      if (o.now !== undefined) {
        now = new Date(o.now);
        if (Number.isNaN(now.getTime())) throw new UsageError(`--now: '${o.now}' is not an ISO 8601 date-time`);
      }
      const dayCtx = { timezone, weekStart: o.weekStart === 'monday' ? (1 as const) : (0 as const), now };
      const from = parseDay('--from', o.from, dayCtx);
      const to = parseDay('--to', o.to, dayCtx);
      if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
      return { ...logsOf(o, logs!), by, interval: o.interval, kind: o.kind, from, to, timezone, weekStart: o.weekStart === 'monday' ? (1 as const) : (0 as const), now, load: !!o.load };
    },
    async () => (await import('../../commands/downloads.js')).downloadsCommand,
  );

  const load = withOptions(
    program
      .command('load-downloads')
      .description('Load Teleport Connect downloads from CloudFront access logs into the event store as events')
      .argument('<log...>', 'CloudFront standard log files or directories (read recursively)'),
    logOptions(),
  );
  action(load, (o, [logs]) => logsOf(o, logs!), async () => (await import('../../commands/downloads.js')).loadDownloadsCommand);
}
