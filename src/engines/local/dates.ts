/**
 * PostHog date-range resolution (posthog/hogql_queries/utils/query_date_range.py and
 * posthog/utils.py relative_date_parse), shared by the local funnel and trends engines.
 *
 * All wall-clock arithmetic happens in the team timezone; results are UTC instants. Because
 * PostHog widens `date_to` to 23:59:59.999999 (microseconds), the range also carries
 * microsecond epochs (`fromUs`, `toUs`, both inclusive) for exact SQL comparisons.
 */
import { TZDate } from '@date-fns/tz';
import { UsageError } from '../../errors.js';
import type { QueryContext } from '../types.js';

export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';

export interface DateRangeInput {
  date_from?: string | null;
  date_to?: string | null;
  explicitDate?: boolean | null;
}

export interface ResolvedDateRange {
  /** First instant included (UTC). */
  from: Date;
  /** Last instant included (UTC, millisecond precision; see toUs). */
  to: Date;
  /** `from` as microseconds since the epoch (inclusive). */
  fromUs: bigint;
  /** `to` as microseconds since the epoch (inclusive, keeps PostHog's .999999). */
  toUs: bigint;
}

export interface ResolveOptions {
  /** Earliest event timestamp in the data, used for `date_from: "all"`. */
  earliest?: Date;
}

export const DEFAULT_DATE_FROM_DAYS = 7;

/** Wall-clock parts in a timezone. month is 1-based. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** sub-millisecond microseconds 0..999 */
  us: number;
}

export function localParts(instantMs: number, tz: string): LocalParts {
  const d = new TZDate(instantMs, tz);
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    ms: d.getMilliseconds(),
    us: 0,
  };
}

/**
 * UTC instant (ms) of a wall-clock time in tz. Out-of-range fields are normalized (day 0 =
 * last day of previous month, etc.). Nonexistent local times (DST gap) move forward like
 * Python's zoneinfo "fold=0" handling does in practice.
 */
export function fromLocal(p: Omit<LocalParts, 'us'>, tz: string): number {
  return new TZDate(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms, tz).getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** relativedelta-style month shift with day clamping (Jan 31 - 1 month = Dec 31, Mar 31 - 1 month = Feb 28/29). */
function shiftMonths(p: LocalParts, months: number): LocalParts {
  const total = p.year * 12 + (p.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = (total % 12 + 12) % 12 + 1;
  return { ...p, year, month, day: Math.min(p.day, daysInMonth(year, month)) };
}

function toUs(ms: number, us = 0): bigint {
  return BigInt(ms) * 1000n + BigInt(us);
}

interface Parsed {
  ms: number;
  us: number;
  /** true when the input was a relative expression (PostHog's delta_mapping is not None). */
  relative: boolean;
  /** relative expression used an hour unit */
  hours: boolean;
}

const ABS_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const REL_RE = /^-?(\d+)?([a-zA-Z])(Start|End)?$/;

/**
 * Parse a PostHog date string (absolute in team tz, or relative like -7d, -48h, dStart, mStart,
 * -1mEnd) against `now`. `alwaysTruncate` mirrors PostHog's flag used for date_to.
 */
export function parsePostHogDate(input: string, ctx: QueryContext, where: string, alwaysTruncate = false): Parsed {
  const s = input.trim();
  const abs = ABS_RE.exec(s);
  if (abs) {
    const [, y, mo, d, h, mi, se, frac, zone] = abs;
    const fracStr = (frac ?? '').padEnd(6, '0');
    const msPart = Number(fracStr.slice(0, 3));
    const usPart = Number(fracStr.slice(3, 6));
    const parts = {
      year: Number(y),
      month: Number(mo),
      day: Number(d),
      hour: Number(h ?? 0),
      minute: Number(mi ?? 0),
      second: Number(se ?? 0),
      ms: msPart,
    };
    if (parts.month < 1 || parts.month > 12 || parts.day < 1 || parts.day > daysInMonth(parts.year, parts.month) || parts.hour > 23 || parts.minute > 59 || parts.second > 59) {
      throw new UsageError(`${where}: '${input}' is not a valid date`);
    }
    let ms: number;
    if (zone) {
      let offMin = 0;
      if (zone.toUpperCase() !== 'Z') {
        const sign = zone[0] === '-' ? -1 : 1;
        const digits = zone.slice(1).replace(':', '');
        offMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
      }
      ms = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second, parts.ms) - offMin * 60_000;
    } else {
      ms = fromLocal(parts, ctx.timezone);
    }
    return { ms, us: usPart, relative: false, hours: false };
  }
  const rel = REL_RE.exec(s);
  if (!rel) {
    throw new UsageError(
      `${where}: '${input}' is not a date PostHog understands`,
      'Use an absolute date (2024-01-31, 2024-01-31 13:00:00, ISO 8601) or a relative one (-7d, -48h, -2w, -3m, -1y, dStart, mStart, yStart, all).',
    );
  }
  const n = rel[1] === undefined ? undefined : Number(rel[1]);
  const type = rel[2]!;
  const position = rel[3];
  let p = localParts(ctx.now.getTime(), ctx.timezone);
  p.us = 0;
  let hours = false;
  // absolute replacements (relativedelta singular fields) apply before the shift
  const startOf = (unit: 'minute' | 'hour' | 'day' | 'month' | 'year') => {
    if (unit === 'year') p.month = 1;
    if (unit === 'year' || unit === 'month') p.day = 1;
    if (unit !== 'minute' && unit !== 'hour') p.hour = 0;
    if (unit !== 'minute') p.minute = 0;
    p.second = 0;
    p.ms = 0;
    p.us = 0;
  };
  const endOf = (unit: 'hour' | 'day' | 'month' | 'year') => {
    if (unit === 'year') p.month = 12;
    if (unit === 'year' || unit === 'month') p.day = daysInMonth(p.year, p.month);
    if (unit !== 'hour') p.hour = 23;
    p.minute = 59;
    p.second = 59;
    p.ms = 999;
    p.us = 999;
  };
  let shift: { months?: number; days?: number; hours?: number; minutes?: number; seconds?: number } = {};
  switch (type) {
    case 'h':
      hours = true;
      if (n !== undefined) shift.hours = n;
      if (position === 'Start') startOf('hour');
      else if (position === 'End') endOf('hour');
      break;
    case 'd':
      if (n !== undefined) shift.days = n;
      if (position === 'Start') startOf('day');
      else if (position === 'End') endOf('day');
      break;
    case 'w':
      if (n !== undefined) shift.days = n * 7;
      if (position === 'Start') startOf('day');
      else if (position === 'End') endOf('day');
      break;
    case 'q':
      if (n !== undefined) shift.days = n * 13 * 7;
      if (position === 'Start') startOf('day');
      else if (position === 'End') endOf('day');
      break;
    case 'm':
      if (n !== undefined) shift.months = n;
      if (position === 'Start') startOf('month');
      else if (position === 'End') endOf('month');
      break;
    case 'y':
      if (n !== undefined) shift.months = n * 12;
      if (position === 'Start') startOf('year');
      else if (position === 'End') endOf('year');
      break;
    case 'M':
      if (n !== undefined) shift.minutes = n;
      break;
    case 's':
      if (n !== undefined) shift.seconds = n;
      break;
    default:
      throw new UsageError(`${where}: '${input}' has an unknown unit '${type}'`, 'Relative units: h, d, w, m, q, y, M (minutes), s.');
  }
  if (alwaysTruncate) {
    if (hours) startOf('hour');
    else startOf('day');
  }
  if (shift.months) p = shiftMonths(p, -shift.months);
  if (shift.days) p.day -= shift.days;
  if (shift.hours) p.hour -= shift.hours;
  if (shift.minutes) p.minute -= shift.minutes;
  if (shift.seconds) p.second -= shift.seconds;
  const ms = fromLocal(p, ctx.timezone);
  return { ms, us: p.us, relative: true, hours };
}

function truncateLocal(ms: number, tz: string, unit: 'minute' | 'hour' | 'day'): number {
  const p = localParts(ms, tz);
  if (unit === 'day') p.hour = 0;
  if (unit === 'day' || unit === 'hour') p.minute = 0;
  p.second = 0;
  p.ms = 0;
  return fromLocal(p, tz);
}

/**
 * Resolve a PostHog dateRange to inclusive UTC bounds (QueryDateRange.date_from / date_to).
 * `where` prefixes error messages (e.g. "query.dateRange").
 */
export function resolveDateRange(
  dateRange: DateRangeInput | null | undefined,
  interval: Interval,
  ctx: QueryContext,
  opts: ResolveOptions & { where?: string } = {},
): ResolvedDateRange {
  const where = opts.where ?? 'query.dateRange';
  const tz = ctx.timezone;
  const explicit = !!dateRange?.explicitDate;
  const subDay = interval === 'hour' || interval === 'minute';

  // ---- date_from
  let fromMs: number;
  let fromUsPart = 0;
  const df = dateRange?.date_from;
  if (df === 'all') {
    fromMs = opts.earliest ? opts.earliest.getTime() : 0;
  } else if (typeof df === 'string' && df !== '') {
    const p = parsePostHogDate(df, ctx, `${where}.date_from`);
    fromMs = p.ms;
    fromUsPart = p.us;
  } else {
    const p = localParts(ctx.now.getTime(), tz);
    fromMs = fromLocal({ ...p, day: p.day - DEFAULT_DATE_FROM_DAYS, hour: 0, minute: 0, second: 0, ms: 0 }, tz);
  }
  if (!explicit) {
    fromMs = truncateLocal(fromMs, tz, interval === 'hour' ? 'hour' : interval === 'minute' ? 'minute' : 'day');
    fromUsPart = 0;
  }

  // ---- date_to
  let toMs: number;
  let toUsPart = 0;
  let isRelative = true;
  const dt = dateRange?.date_to;
  if (typeof dt === 'string' && dt !== '') {
    const p = parsePostHogDate(dt, ctx, `${where}.date_to`, true);
    toMs = p.ms;
    toUsPart = p.us;
    isRelative = p.relative;
  } else {
    toMs = ctx.now.getTime();
  }
  if (!explicit) {
    const p = localParts(toMs, tz);
    if (!subDay) {
      toMs = fromLocal({ ...p, hour: 23, minute: 59, second: 59, ms: 999 }, tz);
      toUsPart = 999;
    } else if (isRelative) {
      if (interval === 'hour') toMs = fromLocal({ ...p, minute: 59, second: 59, ms: 999 }, tz);
      else toMs = fromLocal({ ...p, second: 59, ms: 999 }, tz);
      toUsPart = 999;
    }
  }
  return {
    from: new Date(fromMs),
    to: new Date(toMs),
    fromUs: toUs(fromMs, fromUsPart),
    toUs: toUs(toMs, toUsPart),
  };
}

/** SQL predicate `col BETWEEN from AND to` on a TIMESTAMPTZ column, microsecond exact. */
export function timestampRangeSql(range: Pick<ResolvedDateRange, 'fromUs' | 'toUs'>, col: string): string {
  return `${col} >= make_timestamptz(${range.fromUs}::BIGINT) AND ${col} <= make_timestamptz(${range.toUs}::BIGINT)`;
}

/** PostHog's resolved_date_range strings (ISO with the team offset). */
export function formatResolvedDateRange(range: ResolvedDateRange, tz: string): { date_from: string; date_to: string } {
  return { date_from: isoInTz(range.fromUs, tz), date_to: isoInTz(range.toUs, tz) };
}

/** ISO 8601 with microseconds and the tz offset, like Python's datetime.isoformat(). */
export function isoInTz(us: bigint, tz: string): string {
  const ms = Number(us / 1000n);
  const micro = Number(((us % 1_000_000n) + 1_000_000n) % 1_000_000n);
  const p = localParts(ms, tz);
  const offsetMin = Math.round((fromLocal({ ...p, ms: 0 }, 'UTC') - (ms - p.ms)) / 60_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const sign = offsetMin < 0 ? '-' : '+';
  const off = Math.abs(offsetMin);
  const frac = micro ? `.${pad(micro, 6)}` : '';
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${frac}${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}
