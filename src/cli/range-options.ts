/**
 * Parsing of the options that describe a reporting range and a conversion window.
 * Values pass straight into PostHog's dateRange / funnelsFilter, so what the user types is what
 * PostHog (or the local engine, which follows PostHog's rules) interprets.
 */
import { UsageError } from '../errors.js';
import type { DateRange, WindowUnit } from '../engines/types.js';

export type { DateRange, WindowUnit } from '../engines/types.js';

const RELATIVE = /^(-\d+[hdwmyq]|[dmwyq]Start|-\d+[dmwy]Start|all)$/;
const ABSOLUTE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Validate one --from/--to value; returns it unchanged (PostHog accepts both forms). */
export function parseDateOption(option: string, value: string): string {
  const v = value.trim();
  if (RELATIVE.test(v)) return v;
  if (ABSOLUTE.test(v)) {
    const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v}T00:00:00Z` : v.replace(' ', 'T'));
    if (!Number.isNaN(d.getTime()) && validCalendarDate(v)) return v;
  }
  throw new UsageError(
    `${option}: '${value}' is not a date`,
    'Use an absolute date (2026-11-01, 2026-11-01T12:00:00Z) or a relative one (-7d, -4w, -3m, -1y, -24h, mStart, all).',
  );
}

function validCalendarDate(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}

/**
 * Build a PostHog dateRange from --from/--to. When both are absolute, --from after --to is an
 * error (relative values are checked by the engine once "now" is known).
 */
export function dateRangeFromOptions(from: string | undefined, to: string | undefined, defaultFrom: string): DateRange {
  const date_from = from !== undefined ? parseDateOption('--from', from) : defaultFrom;
  const date_to = to !== undefined ? parseDateOption('--to', to) : null;
  if (date_to && ABSOLUTE.test(date_from) && ABSOLUTE.test(date_to)) {
    const a = Date.parse(date_from.length === 10 ? `${date_from}T00:00:00Z` : date_from.replace(' ', 'T'));
    const b = Date.parse(date_to.length === 10 ? `${date_to}T23:59:59.999Z` : date_to.replace(' ', 'T'));
    if (a > b) throw new UsageError(`--from ${date_from} is after --to ${date_to}`);
  }
  return { date_from, date_to };
}

/** Relative date strings resolved against "now" (UTC day granularity) to check --from <= --to. */
export function checkRelativeOrder(range: DateRange, now: Date): void {
  const f = approxInstant(range.date_from, now, false);
  const t = range.date_to ? approxInstant(range.date_to, now, true) : now.getTime() + 86_400_000;
  if (f !== undefined && t !== undefined && f > t) {
    throw new UsageError(`--from ${range.date_from} is after --to ${range.date_to}`);
  }
}

function approxInstant(v: string | null, now: Date, end: boolean): number | undefined {
  if (!v) return undefined;
  const m = /^-(\d+)([hdwmy])$/.exec(v);
  if (m) {
    const n = Number(m[1]);
    const unitMs = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, m: 30 * 86_400_000, y: 365 * 86_400_000 }[m[2] as 'h'];
    return now.getTime() - n * unitMs + (end ? 86_400_000 - 1 : 0);
  }
  if (ABSOLUTE.test(v)) return Date.parse(v.length === 10 ? `${v}T${end ? '23:59:59.999' : '00:00:00'}Z` : v.replace(' ', 'T'));
  return undefined;
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
