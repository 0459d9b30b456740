/**
 * The PostHog date parser (posthog/utils.py relative_date_parse_with_delta_mapping and
 * get_delta_mapping_for), used by the CLI's --from/--to, funnels, trends and compare ranges.
 * Absolute dates are read in the team timezone unless they carry an offset; relative ones
 * (-7d, -48h, -2w, -3m, -1y, dStart, mStart, -1mEnd…) move back from a pinned `now`.
 */
import { startOfWeek } from 'date-fns/startOfWeek';
import { UsageError } from '../errors.js';
import { startOfInterval } from './buckets.js';
import { daysInMonth, fromNaiveDate, naiveDate, naiveOf, naiveParts, toNaive, US_DAY, US_HOUR, US_MINUTE, US_SECOND, type NaiveParts, type TimeContext } from './wallclock.js';

/** relativedelta arguments PostHog builds for a relative date (get_delta_mapping_for). */
export type DeltaMapping = Partial<
  Record<'years' | 'months' | 'weeks' | 'days' | 'hours' | 'minutes' | 'seconds' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'microsecond' | 'weekStart', number>
>;

export interface ParsedDate {
  /** naive-local microseconds */
  naive: number;
  /** null for absolute dates (PostHog's delta_mapping None). */
  delta: DeltaMapping | null;
}

const ISO_RE =
  /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const YEAR_MONTH_RE = /^(\d{4})-(\d{2})$/;
const LOOSE_DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const RELATIVE_RE = /^-?(\d+)?([hdwmqysHDWMQY])(Start|End)?$/;

export const DATE_HINT =
  'Use an absolute date (2024-01-31, 2024-01-31T13:00:00Z) or a relative one (-7d, -48h, -2w, -3m, -1y, dStart, mStart, yStart, all).';

export function deltaMappingFor(kind: string, number: number | undefined, position: string | undefined): DeltaMapping {
  const m: DeltaMapping = {};
  switch (kind) {
    case 'h':
      if (number) m.hours = number;
      if (position === 'Start') Object.assign(m, { minute: 0, second: 0, microsecond: 0 });
      else if (position === 'End') Object.assign(m, { minute: 59, second: 59, microsecond: 999999 });
      break;
    case 'd':
      if (number) m.days = number;
      if (position === 'Start') Object.assign(m, { hour: 0, minute: 0, second: 0, microsecond: 0 });
      else if (position === 'End') Object.assign(m, { hour: 23, minute: 59, second: 59, microsecond: 999999 });
      break;
    case 'w':
      if (number) m.weeks = number;
      // "This week" (wStart): start of the team's week.
      if (position === 'Start') Object.assign(m, { weekStart: 1, hour: 0, minute: 0, second: 0, microsecond: 0 });
      break;
    case 'm':
      if (number) m.months = number;
      if (position === 'Start') m.day = 1;
      else if (position === 'End') m.day = 31;
      break;
    case 'M':
      if (number) m.minutes = number;
      break;
    case 's':
      if (number) m.seconds = number;
      break;
    case 'q':
      if (number) m.weeks = 13 * number;
      if (position === 'Start') Object.assign(m, { day: 1, month: -1 /* quarter start, resolved below */ });
      break;
    case 'y':
      if (number) m.years = number;
      if (position === 'Start') Object.assign(m, { month: 1, day: 1 });
      else if (position === 'End') m.day = 31;
      break;
    default:
      break; // upper-case kinds carry no delta in PostHog
  }
  return m;
}

/**
 * `n - relativedelta(**mapping)` (or `+` when sign is 1): absolute fields first, then the shift.
 * Hand-written: date-fns has no relativedelta (absolute fields replaced before a clamped shift).
 */
export function applyDelta(n: number, m: DeltaMapping, sign: -1 | 1, weekStart: 0 | 1): number {
  const p = naiveParts(n);
  let year = p.year;
  let month = p.month;
  if (m.month !== undefined) month = m.month === -1 ? Math.floor((p.month - 1) / 3) * 3 + 1 : m.month;
  const total = year * 12 + (month - 1) + sign * ((m.years ?? 0) * 12 + (m.months ?? 0));
  year = Math.floor(total / 12);
  month = (((total % 12) + 12) % 12) + 1;
  const day = Math.min(daysInMonth(year, month), m.day ?? p.day);
  let out = naiveOf({
    year,
    month,
    day,
    hour: m.hour ?? p.hour,
    minute: m.minute ?? p.minute,
    second: m.second ?? p.second,
    micro: m.microsecond ?? p.micro,
  });
  if (m.weekStart) out = fromNaiveDate(startOfWeek(naiveDate(out), { weekStartsOn: weekStart }));
  out += sign * ((m.days ?? 0) + 7 * (m.weeks ?? 0)) * US_DAY;
  out += sign * (m.hours ?? 0) * US_HOUR;
  out += sign * (m.minutes ?? 0) * US_MINUTE;
  out += sign * (m.seconds ?? 0) * US_SECOND;
  return out;
}

function validParts(p: NaiveParts): boolean {
  return p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysInMonth(p.year, p.month) && p.hour <= 23 && p.minute <= 59 && p.second <= 59;
}

/**
 * Absolute date (naive local), or undefined when the text is not an absolute date. Hand-written:
 * date-fns' parseISO drops microseconds and reads a zone-less time in the machine's timezone.
 */
export function parseAbsolute(input: string, tz: string, where: string): number | undefined {
  const s = input.trim();
  let parts: NaiveParts | undefined;
  let zone: string | undefined;
  const iso = ISO_RE.exec(s);
  if (iso) {
    const [, y, mo, d, h, mi, se, frac, z] = iso;
    parts = {
      year: Number(y),
      month: Number(mo),
      day: Number(d),
      hour: Number(h ?? 0),
      minute: Number(mi ?? 0),
      second: Number(se ?? 0),
      micro: Number((frac ?? '').slice(0, 6).padEnd(6, '0')),
    };
    zone = z;
  } else {
    const ym = YEAR_MONTH_RE.exec(s);
    const loose = LOOSE_DATE_RE.exec(s);
    if (ym) parts = { year: Number(ym[1]), month: Number(ym[2]), day: 1, hour: 0, minute: 0, second: 0, micro: 0 };
    else if (loose) parts = { year: Number(loose[1]), month: Number(loose[2]), day: Number(loose[3]), hour: 0, minute: 0, second: 0, micro: 0 };
  }
  if (!parts) return undefined;
  if (!validParts(parts)) throw new UsageError(`${where}: '${input}' is not a valid date`);
  const naive = naiveOf(parts);
  if (!zone) return naive;
  let offMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  }
  return toNaive(naive - offMin * US_MINUTE, tz);
}

/**
 * posthog.utils.relative_date_parse_with_delta_mapping against a naive-local `now`. `alwaysTruncate`
 * then moves the result to the start of its hour (hour deltas) or day, as PostHog does.
 */
export function parsePostHogDate(input: string, ctx: TimeContext, nowNaive: number, opts: { alwaysTruncate?: boolean; where: string }): ParsedDate {
  const abs = parseAbsolute(input, ctx.timezone, opts.where);
  if (abs !== undefined) return { naive: abs, delta: null };
  // Hand-written: PostHog's relative grammar (number, unit, Start/End) exists in no date library.
  const rel = RELATIVE_RE.exec(input.trim());
  if (!rel) throw new UsageError(`${opts.where}: '${input}' is not a date PostHog understands`, DATE_HINT);
  const number = rel[1] === undefined ? undefined : Number(rel[1]);
  const delta = deltaMappingFor(rel[2]!, number, rel[3]);
  let naive = applyDelta(nowNaive, delta, -1, ctx.weekStart);
  if (opts.alwaysTruncate) naive = startOfInterval(naive, delta.hours !== undefined ? 'hour' : 'day', ctx.weekStart);
  return { naive, delta };
}
