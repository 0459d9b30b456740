/**
 * Parsing of the options that describe a reporting range and a conversion window.
 * Values pass straight into PostHog's dateRange / funnelsFilter, so what the user types is what
 * PostHog (or the local engine, which follows PostHog's rules) interprets.
 */
import { UsageError } from '../errors.js';
import type { DateRange } from '../query/schema.js';
import type { WindowUnit } from '../engines/types.js';

export type { DateRange } from '../query/schema.js';
export type { WindowUnit } from '../engines/types.js';
import { parsePostHogDate, startOfInterval, US_DAY, type ParsedDate } from '../time/index.js';

const DATE_OPTION_HINT = 'Use an absolute date (2026-11-01, 2026-11-01T12:00:00Z) or a relative one (-7d, -4w, -3m, -1y, -24h, mStart, all).';

/** Read a --from/--to value with PostHog's own parser (in UTC against `now`); undefined for "all". */
function readDate(option: string, value: string, now: Date): ParsedDate | undefined {
  if (value.trim() === 'all') return undefined;
  try {
    return parsePostHogDate(value, { timezone: 'UTC', weekStart: 0 }, now.getTime() * 1000, { where: option });
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${option}: '${value}' is not a date`, DATE_OPTION_HINT);
    throw e;
  }
}

/** Validate one --from/--to value; returns it unchanged (PostHog accepts both forms). */
export function parseDateOption(option: string, value: string): string {
  readDate(option, value, new Date());
  return value.trim();
}

/**
 * --from must not be after --to: both read in UTC against `now`; a --to that is a relative date or
 * a bare day counts to the end of its day, and a missing --to means the end of today.
 */
function checkOrder(range: DateRange, now: Date): void {
  const from = range.date_from === null ? undefined : readDate('--from', range.date_from, now);
  if (!from) return;
  const to = range.date_to === null ? undefined : readDate('--to', range.date_to, now);
  const wholeDay = !to || to.delta !== null || /^\s*\d{4}-\d{1,2}(-\d{1,2})?\s*$/.test(range.date_to ?? '');
  const toNaive = to?.naive ?? now.getTime() * 1000;
  const end = wholeDay ? startOfInterval(toNaive, 'day', 0) + US_DAY - 1 : toNaive;
  if (from.naive > end) {
    throw new UsageError(range.date_to ? `--from ${range.date_from} is after --to ${range.date_to}` : `--from ${range.date_from} is after today`);
  }
}

/**
 * Build a PostHog dateRange from --from/--to. When both are absolute, --from after --to is an
 * error (relative values are checked by checkRelativeOrder once "now" is known).
 */
export function dateRangeFromOptions(from: string | undefined, to: string | undefined, defaultFrom: string): DateRange {
  const date_from = from !== undefined ? parseDateOption('--from', from) : defaultFrom;
  const date_to = to !== undefined ? parseDateOption('--to', to) : null;
  const absolute = (v: string) => readDate('--from', v, new Date(0))?.delta === null;
  if (date_to && absolute(date_from) && absolute(date_to)) checkOrder({ date_from, date_to }, new Date(0));
  return { date_from, date_to };
}

/** --from after --to (either may be relative, resolved against "now" in UTC) is an error. */
export function checkRelativeOrder(range: DateRange, now: Date): void {
  checkOrder(range, now);
}

/** "FROM..TO" (compare's --before/--after), both ends inclusive; each end is a --from/--to style date. */
export function parseSpan(option: string, value: string, now: Date): DateRange {
  const parts = value.split('..');
  if (parts.length !== 2 || !parts[0]!.trim() || !parts[1]!.trim()) {
    throw new UsageError(`${option}: '${value}' is not a range`, 'Write FROM..TO, for example 2026-10-01..2026-10-31 or -60d..-31d.');
  }
  const date_from = parseDateOption(option, parts[0]!);
  const date_to = parseDateOption(option, parts[1]!);
  try {
    const r = dateRangeFromOptions(date_from, date_to, date_from);
    checkRelativeOrder(r, now);
    return r;
  } catch {
    throw new UsageError(`${option}: ${date_from} is after ${date_to}`);
  }
}

const UNIT_ALIASES: Record<string, WindowUnit> = {
  s: 'second', sec: 'second', secs: 'second', second: 'second', seconds: 'second',
  m: 'minute', min: 'minute', mins: 'minute', minute: 'minute', minutes: 'minute',
  h: 'hour', hr: 'hour', hrs: 'hour', hour: 'hour', hours: 'hour',
  d: 'day', day: 'day', days: 'day',
  w: 'week', week: 'week', weeks: 'week',
  mo: 'month', month: 'month', months: 'month',
};

/** "1d", "30m", "2 hours", "3w" -> PostHog's funnelWindowInterval + funnelWindowIntervalUnit. */
export function parseWindow(value: string): { funnelWindowInterval: number; funnelWindowIntervalUnit: WindowUnit } {
  const m = /^\s*(\d+)\s*([a-z]+)\s*$/i.exec(value);
  const unit = m ? UNIT_ALIASES[m[2]!.toLowerCase()] : undefined;
  const n = m ? Number(m[1]) : NaN;
  if (!m || !unit || !(n >= 1)) {
    throw new UsageError(`--window: '${value}' is not a conversion window`, 'Examples: 30m, 2h, 1d, 14d, 2w, 1mo (a PostHog month is 31 days).');
  }
  return { funnelWindowInterval: n, funnelWindowIntervalUnit: unit };
}
