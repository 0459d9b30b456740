/**
 * Options declared once, as data: each factory returns the commander Option a command adds, with
 * its help, choices, default, environment fallback (Option.env) and parser. Commands that share an
 * option share its declaration, so `--from` means the same everywhere.
 */
import { Option } from 'commander';
import { UsageError } from '../errors.js';

/** The one parser for numeric options: an error names the option and the valid range (exit 2). */
export function parseNumber(option: string, value: string, o: { min: number; max: number; integer?: boolean }): number {
  const s = value.trim();
  const integer = o.integer !== false;
  const n = Number(s);
  const range = `${integer ? 'an integer' : 'a number'} from ${o.min} to ${o.max}`;
  if (s === '' || !Number.isFinite(n) || (integer && !/^-?\d+$/.test(s))) {
    throw new UsageError(`${option}: '${value}' is not ${integer ? 'a whole number' : 'a number'}`, `Use ${range}.`);
  }
  if ((integer && !Number.isSafeInteger(n)) || n < o.min || n > o.max) throw new UsageError(`${option}: ${s} is out of range`, `Use ${range}.`);
  return n;
}

/** A numeric option; `def` is the value when the option is absent. */
export function numberOption(flags: string, description: string, o: { min: number; max: number; integer?: boolean; def?: number }): Option {
  const opt: Option = new Option(flags, description).argParser((v: string): number => parseNumber(opt.long!, v, o));
  return o.def === undefined ? opt : opt.default(o.def);
}

/** --from/--to of the reports (PostHog dateRange values: absolute or relative). */
export function rangeOptions(defaultFrom: string): Option[] {
  return [
    new Option('--from <date>', 'start of the range: a date (2026-09-01) or relative (-30d, -4w, -3m, mStart)').default(defaultFrom),
    new Option('--to <date>', 'end of the range (default: end of today)'),
  ];
}

/** --from/--to as calendar days (CloudFront logs are counted per day). */
export function dayRangeOptions(): Option[] {
  return [
    new Option('--from <day>', 'first day: YYYY-MM-DD in --timezone, or relative (-30d, -4w, mStart)'),
    new Option('--to <day>', 'last day, inclusive: YYYY-MM-DD or relative (-1d)'),
  ];
}

export function timezoneOption(def?: string): Option {
  const o = new Option('--timezone <tz>', 'team timezone (IANA name) for date ranges and buckets').env('DISCOVER_METRICS_TIMEZONE');
  return def === undefined ? o : o.default(def);
}

export function weekStartOption(def?: 'sunday' | 'monday'): Option {
  const o = new Option('--week-start <day>', 'first day of the week').choices(['sunday', 'monday']);
  return def === undefined ? o : o.default(def);
}

/** Options of every command that runs queries. */
export function queryOptions(opts: { printQuery?: boolean } = {}): Option[] {
  return [
    new Option('--engine <engine>', 'where queries run: local (embedded DuckDB) or posthog').choices(['local', 'posthog']).default('local').env('DISCOVER_METRICS_ENGINE'),
    timezoneOption(),
    weekStartOption(),
    new Option('--now <iso>', 'pin the current time (ISO 8601) so relative dates are reproducible'),
    ...connectionOptions({ query: true }),
    ...(opts.printQuery === false
      ? []
      : [
          new Option('--print-query', 'print the PostHog queries that would be sent (the query API request bodies), and exit'),
          // a flag of its own, not a value of --print-query: an optional value would take the next
          // argument (`query run --print-query file.json`)
          new Option('--print-insight', 'print the queries as PostHog insights (InsightVizNode, to paste into PostHog), with a link per query when --host and --project-id are set, and exit'),
        ]),
  ];
}

/**
 * PostHog connection flags. The environment and config files are merged by resolveConnection
 * (flags > environment > --config > the default config file); `.env` here documents the variable.
 */
export function connectionOptions(o: { query?: boolean; capture?: boolean; hostHelp?: string }): Option[] {
  return [
    new Option('--host <url>', o.hostHelp ?? 'PostHog app host for --engine posthog').env('POSTHOG_HOST'),
    ...(o.query ? [new Option('--project-id <id>', 'PostHog project id').env('POSTHOG_PROJECT_ID')] : []),
    ...(o.capture ? [new Option('--project-api-key <token>', 'project API key phc_... for capture').env('POSTHOG_PROJECT_API_KEY')] : []),
    ...(o.query ? [new Option('--personal-api-key <key>', 'personal API key phx_... for queries').env('POSTHOG_PERSONAL_API_KEY')] : []),
    new Option('--config <file>', 'config file with PostHog connection settings (JSON)'),
  ];
}

/** The Discover funnel's shape: conversion window, step order, which wizard flow. */
export function funnelShapeOptions(): Option[] {
  return [
    new Option('--window <span>', 'conversion window per wizard session (30m, 2h, 1d, 14d)').default('1d'),
    new Option('--order <order>', 'step order').choices(['ordered', 'strict', 'unordered']).default('ordered'),
    deploymentOption(),
  ];
}

/** --deployment: filter on tp.is_cloud; by default every cluster counts. */
export function deploymentOption(description = "clusters to count, told apart by tp.is_cloud ('all': every cluster; a step one kind never shows is optional)"): Option {
  return new Option('--deployment <kind>', description).choices(['all', 'cloud', 'self-hosted']).default('all');
}

export function intervalOption(description: string, def: 'day' | 'week' | 'month'): Option {
  return new Option('--interval <interval>', description).choices(['day', 'week', 'month']).default(def);
}

export function logOptions(): Option[] {
  return [
    new Option('--salt <secret>', 'secret for hashing client addresses, never stored (default: a random one for this run)').env('DISCOVER_METRICS_IP_SALT'),
    new Option('--strict', 'fail (exit 2) on the first malformed log line instead of skipping it'),
  ];
}

/** True when Intl knows the IANA timezone. */
export function isValidTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A rate or share: 0.4, 40% or 40 (read as a percentage when above 1). */
export function parseRate(option: string, value: string): number {
  const s = value.trim();
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(%?)$/.exec(s);
  const n = m ? Number(m[1]) / (m[2] || Number(m[1]) > 1 ? 100 : 1) : NaN;
  if (!m || !(n >= 0 && n <= 1)) throw new UsageError(`${option}: '${value}' is not a rate`, 'Give a share from 0 to 1 or a percentage: 0.4, 40%.');
  return n;
}

/** --fail-under: the CI threshold of funnel-style reports. */
export function failUnderOption(what: string): Option {
  return new Option('--fail-under <rate>', `exit 1 when ${what} is below RATE (0.4 or 40%), naming the rows (for CI)`).argParser((v: string) => parseRate('--fail-under', v));
}
