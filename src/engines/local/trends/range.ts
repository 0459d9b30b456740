/**
 * PostHog's trends date arithmetic (posthog/hogql_queries/utils/query_date_range.py,
 * query_previous_period_date_range.py, query_compare_to_date_range.py, posthog/utils.py
 * relative_date_parse / get_compare_period_dates / format_label_date).
 *
 * PostHog does this arithmetic on timezone-aware Python datetimes that share one tzinfo, which
 * Python treats as wall-clock arithmetic. We do the same on "naive local" microseconds: the team's
 * wall-clock time encoded as if it were UTC. Only the SQL bounds are converted back to instants.
 */
import { UsageError } from '../../../errors.js';
import type { QueryContext } from '../../types.js';
import { fromLocal, localParts } from '../dates.js';

export type TrendsInterval = 'minute' | 'hour' | 'day' | 'week' | 'month';

export const US_SECOND = 1_000_000;
export const US_MINUTE = 60 * US_SECOND;
export const US_HOUR = 60 * US_MINUTE;
export const US_DAY = 24 * US_HOUR;

/** DEFAULT_DATE_FROM_DAYS in posthog/utils.py */
const DEFAULT_DATE_FROM_DAYS = 7;

export interface DateRangeInput {
  date_from?: string | null;
  date_to?: string | null;
  explicitDate?: boolean | null;
}

// ---------------------------------------------------------------------------------------------
// naive-local microseconds

export interface NaiveParts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  micro: number; // 0..999999
}

export function naiveParts(n: number): NaiveParts {
  const ms = Math.floor(n / 1000);
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    micro: d.getUTCMilliseconds() * 1000 + (n - ms * 1000),
  };
}

export function naiveOf(p: NaiveParts): number {
  const ms = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, 0);
  return ms * 1000 + p.micro;
}

/** Wall-clock time in `tz` of a UTC instant (both in microseconds). */
export function toNaive(instantUs: number, tz: string): number {
  if (tz === 'UTC') return instantUs;
  const ms = Math.floor(instantUs / 1000);
  const sub = instantUs - ms * 1000;
  const p = localParts(ms, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms) * 1000 + sub;
}

/** UTC instant (microseconds) of a wall-clock time in `tz`. */
export function toInstant(naive: number, tz: string): number {
  if (tz === 'UTC') return naive;
  const p = naiveParts(naive);
  const ms = Math.floor(p.micro / 1000);
  const inst = fromLocal({ year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second, ms }, tz);
  return inst * 1000 + (p.micro - ms * 1000);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function addMonths(n: number, months: number): number {
  const p = naiveParts(n);
  const total = p.year * 12 + (p.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = (((total % 12) + 12) % 12) + 1;
  return naiveOf({ ...p, year, month, day: Math.min(p.day, daysInMonth(year, month)) });
}

/** Day of week of a naive time: 0 = Sunday .. 6 = Saturday. */
export function weekday(n: number): number {
  return new Date(Math.floor(n / 1000)).getUTCDay();
}

export function startOf(n: number, unit: TrendsInterval, weekStart: 0 | 1): number {
  switch (unit) {
    case 'minute':
      return Math.floor(n / US_MINUTE) * US_MINUTE;
    case 'hour':
      return Math.floor(n / US_HOUR) * US_HOUR;
    case 'day':
      return Math.floor(n / US_DAY) * US_DAY;
    case 'week': {
      const day = Math.floor(n / US_DAY) * US_DAY;
      const back = weekStart === 1 ? (weekday(day) + 6) % 7 : weekday(day);
      return day - back * US_DAY;
    }
    case 'month': {
      const p = naiveParts(n);
      return naiveOf({ ...p, day: 1, hour: 0, minute: 0, second: 0, micro: 0 });
    }
  }
}

export function addInterval(n: number, unit: TrendsInterval, count = 1): number {
  switch (unit) {
    case 'minute':
      return n + count * US_MINUTE;
    case 'hour':
      return n + count * US_HOUR;
    case 'day':
      return n + count * US_DAY;
    case 'week':
      return n + count * 7 * US_DAY;
    case 'month':
      return addMonths(n, count);
  }
}

// ---------------------------------------------------------------------------------------------
// relative_date_parse

/** relativedelta arguments PostHog builds for a relative date (get_delta_mapping_for). */
export type DeltaMapping = Partial<
  Record<'years' | 'months' | 'weeks' | 'days' | 'hours' | 'minutes' | 'seconds' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'microsecond' | 'weekStart', number>
>;

export interface ParsedDate {
  naive: number;
  /** null for absolute dates (PostHog's delta_mapping None). */
  delta: DeltaMapping | null;
}

const ISO_RE =
  /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d+))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const YEAR_MONTH_RE = /^(\d{4})-(\d{2})$/;
const LOOSE_DATE_RE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const RELATIVE_RE = /^-?(\d+)?([hdwmqysHDWMQY])(Start|End)?$/;

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

/** `n - relativedelta(**mapping)` (or `+` when sign is 1), absolute fields applied first. */
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
  if (m.weekStart) {
    const back = weekStart === 1 ? (weekday(out) + 6) % 7 : weekday(out);
    out -= back * US_DAY;
  }
  out += sign * ((m.days ?? 0) + 7 * (m.weeks ?? 0)) * US_DAY;
  out += sign * (m.hours ?? 0) * US_HOUR;
  out += sign * (m.minutes ?? 0) * US_MINUTE;
  out += sign * (m.seconds ?? 0) * US_SECOND;
  return out;
}

function validParts(p: NaiveParts): boolean {
  return (
    p.month >= 1 &&
    p.month <= 12 &&
    p.day >= 1 &&
    p.day <= daysInMonth(p.year, p.month) &&
    p.hour <= 23 &&
    p.minute <= 59 &&
    p.second <= 59
  );
}

/** Absolute date (naive local), or undefined when the text is not an absolute date. */
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
    else if (loose)
      parts = { year: Number(loose[1]), month: Number(loose[2]), day: Number(loose[3]), hour: 0, minute: 0, second: 0, micro: 0 };
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

/** posthog.utils.relative_date_parse_with_delta_mapping against a naive-local `now`. */
export function parsePostHogDate(
  input: string,
  ctx: Pick<QueryContext, 'timezone' | 'weekStart'>,
  nowNaive: number,
  opts: { alwaysTruncate?: boolean; where: string },
): ParsedDate {
  const abs = parseAbsolute(input, ctx.timezone, opts.where);
  if (abs !== undefined) return { naive: abs, delta: null };
  const rel = RELATIVE_RE.exec(input.trim());
  if (!rel) {
    throw new UsageError(
      `${opts.where}: '${input}' is not a date PostHog understands`,
      'Use an absolute date (2024-01-31, 2024-01-31T13:00:00Z) or a relative one (-7d, -48h, -2w, -3m, -1y, dStart, mStart, yStart, all).',
    );
  }
  const number = rel[1] === undefined ? undefined : Number(rel[1]);
  const delta = deltaMappingFor(rel[2]!, number, rel[3]);
  let naive = applyDelta(nowNaive, delta, -1, ctx.weekStart);
  if (opts.alwaysTruncate) naive = startOf(naive, delta.hours !== undefined ? 'hour' : 'day', ctx.weekStart);
  return { naive, delta };
}

// ---------------------------------------------------------------------------------------------
// QueryDateRange

export interface RangeOptions {
  /** trends BoldNumber: exact_timerange (no truncation, date_to = now) */
  exact?: boolean;
  /** Earliest event time (naive local) for date_from "all". */
  earliestNaive?: number;
  where?: string;
}

export class TrendsDateRange {
  readonly nowNaive: number;
  constructor(
    readonly dateRange: DateRangeInput | null | undefined,
    readonly interval: TrendsInterval,
    readonly ctx: QueryContext,
    readonly opts: RangeOptions = {},
  ) {
    this.nowNaive = toNaive(ctx.now.getTime() * 1000, ctx.timezone);
  }

  protected get where(): string {
    return this.opts.where ?? 'query.dateRange';
  }

  get explicit(): boolean {
    return !!this.dateRange?.explicitDate;
  }

  /** QueryDateRange.date_from() */
  dateFrom(): number {
    const df = this.dateRange?.date_from;
    if (df === 'all') return this.opts.earliestNaive ?? naiveOf({ year: 2015, month: 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 });
    if (typeof df === 'string' && df !== '') {
      return parsePostHogDate(df, this.ctx, this.nowNaive, {
        alwaysTruncate: !(this.interval === 'minute' || this.opts.exact),
        where: `${this.where}.date_from`,
      }).naive;
    }
    return startOf(this.nowNaive, 'day', this.ctx.weekStart) - DEFAULT_DATE_FROM_DAYS * US_DAY;
  }

  /** QueryDateRange.date_to() */
  dateTo(): number {
    let dateTo = this.nowNaive;
    let delta: DeltaMapping | null = null;
    const dt = this.dateRange?.date_to;
    const hasTo = typeof dt === 'string' && dt !== '';
    if (hasTo) {
      const p = parsePostHogDate(dt, this.ctx, this.nowNaive, { alwaysTruncate: false, where: `${this.where}.date_to` });
      dateTo = p.naive;
      delta = p.delta;
    } else if (this.opts.exact) {
      return dateTo;
    }
    if (!this.explicit) {
      const isRelative = !hasTo || delta !== null;
      const p = naiveParts(dateTo);
      if (this.interval !== 'hour' && this.interval !== 'minute') {
        dateTo = naiveOf({ ...p, hour: 23, minute: 59, second: 59, micro: 999999 });
      } else if (isRelative) {
        dateTo =
          this.interval === 'hour'
            ? naiveOf({ ...p, minute: 59, second: 59, micro: 999999 })
            : naiveOf({ ...p, second: 59, micro: 999999 });
      }
    }
    return dateTo;
  }

  /** Delta mapping of the raw date_from (used by compare), parsed without truncation. */
  dateFromDeltaMapping(): DeltaMapping | null {
    const df = this.dateRange?.date_from;
    if (df === 'all') return null;
    const text = typeof df === 'string' && df !== '' ? df : '-7d';
    return parsePostHogDate(text, this.ctx, this.nowNaive, { where: `${this.where}.date_from` }).delta;
  }

  dateToDeltaMapping(): DeltaMapping | null {
    const dt = this.dateRange?.date_to;
    if (typeof dt === 'string' && dt !== '') {
      return parsePostHogDate(dt, this.ctx, this.nowNaive, { alwaysTruncate: true, where: `${this.where}.date_to` }).delta;
    }
    return null;
  }

  /** QueryDateRange.use_start_of_interval() */
  useStartOfInterval(): boolean {
    if (this.opts.exact) return false;
    const df = this.dateRange?.date_from;
    if (!this.dateRange || df === null || df === undefined || df === '') return true;
    // "all" finds no absolute date and matches no relative unit: PostHog sees an empty delta mapping
    const delta = df === 'all' ? {} : parsePostHogDate(df, this.ctx, this.nowNaive, { alwaysTruncate: true, where: `${this.where}.date_from` }).delta;
    if (this.explicit) return false;
    if (delta === null) return true;
    if (this.interval === 'hour' || this.interval === 'minute') return false;
    if (this.interval === 'day' && delta.hours !== undefined) return false;
    return true;
  }

  /** toStartOf<Interval>(date_from) — the first bucket. */
  dateFromStartOfInterval(): number {
    return startOf(this.dateFrom(), this.interval, this.ctx.weekStart);
  }

  dateToStartOfInterval(): number {
    return startOf(this.dateTo(), this.interval, this.ctx.weekStart);
  }

  /** `date_from_with_adjusted_start_of_interval`: the lower bound events are filtered on. */
  adjustedDateFrom(): number {
    if (!this.useStartOfInterval()) return this.dateFrom();
    if (this.interval === 'week') return startOf(this.dateFrom(), 'day', this.ctx.weekStart);
    return this.dateFromStartOfInterval();
  }

  /** QueryDateRange.all_values(): interval starts from date_from's interval to date_to. */
  allValues(): number[] {
    let start = startOf(this.dateFrom(), this.interval, this.ctx.weekStart);
    const end = this.dateTo();
    const out: number[] = [];
    let guard = 0;
    while (start <= end) {
      out.push(start);
      start = addInterval(start, this.interval);
      if (++guard > 200_000) {
        throw new UsageError(
          `${this.where}: the range has more than 200000 ${this.interval} buckets`,
          'Use a larger interval or a shorter range.',
        );
      }
    }
    return out;
  }
}

/** QueryPreviousPeriodDateRange: the period before the current one (compare: true). */
export class PreviousPeriodDateRange extends TrendsDateRange {
  private cached?: { from: number; to: number };

  private dates(): { from: number; to: number } {
    if (this.cached) return this.cached;
    const curFrom = super.dateFrom();
    const curTo = super.dateTo();
    const df = this.dateRange?.date_from;
    const hasTo = typeof this.dateRange?.date_to === 'string' && this.dateRange.date_to !== '';
    // "This week/month/quarter/year" running to now: compare with the whole previous calendar unit
    const fullUnit: Record<string, DeltaMapping> = { wStart: { weeks: 1 }, mStart: { months: 1 }, qStart: { months: 3 }, yStart: { years: 1 } };
    if (!hasTo && typeof df === 'string' && fullUnit[df]) {
      this.cached = { from: applyDelta(curFrom, fullUnit[df]!, -1, this.ctx.weekStart), to: curFrom - 1 };
      return this.cached;
    }
    if (df === 'all') {
      const to = curFrom - 1;
      this.cached = { from: to - (curTo - curFrom), to };
      return this.cached;
    }
    this.cached = comparePeriodDates(curFrom, curTo, this.dateFromDeltaMapping(), this.dateToDeltaMapping(), this.interval);
    return this.cached;
  }

  override dateFrom(): number {
    return this.dates().from;
  }

  override dateTo(): number {
    return this.dates().to;
  }
}

/** posthog.utils.get_compare_period_dates */
export function comparePeriodDates(
  dateFrom: number,
  dateTo: number,
  fromDelta: DeltaMapping | null,
  toDelta: DeltaMapping | null,
  interval: TrendsInterval,
): { from: number; to: number } {
  const diff = dateTo - dateFrom;
  let newFrom = dateFrom - diff;
  let newTo = dateFrom;
  const f = naiveParts(dateFrom);
  const t = naiveParts(dateTo);
  if (interval === 'hour') {
    newFrom = naiveOf({ ...naiveParts(newFrom), hour: f.hour, minute: f.minute, second: f.second, micro: f.micro });
    newTo = naiveOf({ ...naiveParts(newFrom + diff), minute: t.minute, second: t.second, micro: t.micro });
  } else if (interval !== 'minute') {
    newFrom = naiveOf({ ...naiveParts(newFrom), hour: f.hour, minute: f.minute, second: f.second, micro: f.micro });
    const toEmpty = !toDelta || Object.keys(toDelta).length === 0;
    if (interval === 'day' && fromDelta && fromDelta.days && fromDelta.days % 7 === 0 && toEmpty) {
      // PostHog: "-7d" is really 8 days; shift so week-over-week comparisons line up
      newFrom += US_DAY;
    }
    newTo = naiveOf({ ...naiveParts(newFrom + diff), hour: t.hour, minute: t.minute, second: t.second, micro: t.micro });
  }
  return { from: newFrom, to: newTo };
}

/** QueryCompareToDateRange: the current range moved back by `compare_to` (e.g. -1w). */
export class CompareToDateRange extends TrendsDateRange {
  constructor(
    dateRange: DateRangeInput | null | undefined,
    interval: TrendsInterval,
    ctx: QueryContext,
    readonly compareTo: string,
    opts: RangeOptions = {},
  ) {
    super(dateRange, interval, ctx, opts);
  }

  private dates(): { from: number; to: number } {
    const curFrom = super.dateFrom();
    const curTo = super.dateTo();
    const start = parsePostHogDate(this.compareTo, this.ctx, curFrom, { where: 'query.compareFilter.compare_to' }).naive;
    return { from: start, to: start + (curTo - curFrom) };
  }

  override dateFrom(): number {
    return this.dates().from;
  }

  override dateTo(): number {
    return this.dates().to;
  }
}

// ---------------------------------------------------------------------------------------------
// formatting

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `days` entries: %Y-%m-%d, plus %H:%M:%S for hour/minute intervals. */
export function formatDay(n: number, interval: TrendsInterval): string {
  const p = naiveParts(n);
  const d = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
  return interval === 'hour' || interval === 'minute' ? `${d} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` : d;
}

function dmy(p: NaiveParts): string {
  return `${p.day}-${MONTHS[p.month - 1]}-${p.year}`;
}

/** posthog.hogql_queries.insights.utils.utils.format_label_date */
export function formatLabel(n: number, range: TrendsDateRange): string {
  const p = naiveParts(n);
  switch (range.interval) {
    case 'hour':
    case 'minute':
      return `${p.day}-${MONTHS[p.month - 1]} ${pad(p.hour)}:${pad(p.minute)}`;
    case 'month':
      return `${MONTHS[p.month - 1]} ${p.year}`;
    case 'week': {
      const day = startOf(n, 'day', 0);
      const back = range.ctx.weekStart === 1 ? (weekday(day) + 6) % 7 : weekday(day);
      let start = day - back * US_DAY;
      let end = start + 6 * US_DAY;
      start = Math.max(start, startOf(range.dateFrom(), 'day', 0));
      end = Math.min(end, startOf(range.dateTo(), 'day', 0));
      end = Math.max(end, start);
      const s = naiveParts(start);
      const e = naiveParts(end);
      if (start === end) return dmy(s);
      if (s.year !== e.year) return `${dmy(s)} – ${dmy(e)}`;
      if (s.month !== e.month) return `${s.day}-${MONTHS[s.month - 1]} – ${e.day}-${MONTHS[e.month - 1]}`;
      return `${s.day}–${e.day} ${MONTHS[e.month - 1]}`;
    }
    default:
      return dmy(p);
  }
}

/** ISO 8601 of a naive-local time with the team's UTC offset (Z for UTC), like PostHog's JSON. */
export function isoNaive(n: number, tz: string): string {
  const p = naiveParts(n);
  const offsetMin = Math.round((n - toInstant(n, tz)) / US_MINUTE);
  const frac = p.micro ? `.${pad(p.micro, 6)}` : '';
  const base = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${frac}`;
  if (offsetMin === 0) return `${base}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const off = Math.abs(offsetMin);
  return `${base}${sign}${pad(Math.floor(off / 60))}:${pad(off % 60)}`;
}
