/**
 * PostHog's date ranges (posthog/hogql_queries/utils/query_date_range.py,
 * query_previous_period_date_range.py, query_compare_to_date_range.py and posthog/utils.py
 * get_compare_period_dates), in naive-local microseconds (see wallclock.ts). TrendsDateRange is
 * QueryDateRange as trends use it; resolveDateRange gives the inclusive UTC bounds funnels filter on.
 */
import { UsageError } from '../errors.js';
import type { DateRangeInput } from '../query/schema.js';
import { addInterval, startOfInterval, type Interval } from './buckets.js';
import { applyDelta, parsePostHogDate, type DeltaMapping } from './parse.js';
import { isoInTz } from './labels.js';
import { naiveOf, naiveParts, toInstant, toNaive, US_DAY, type TimeContext } from './wallclock.js';

/** DEFAULT_DATE_FROM_DAYS in posthog/utils.py */
export const DEFAULT_DATE_FROM_DAYS = 7;

/** The team's settings plus the pinned "now" relative dates count back from. */
export interface RangeContext extends TimeContext {
  now: Date;
}

export interface RangeOptions {
  /** trends BoldNumber: exact_timerange (no truncation, date_to = now) */
  exact?: boolean;
  /** Earliest event time (naive local) for date_from "all". */
  earliestNaive?: number;
  where?: string;
}

const nonEmpty = (s: string | null | undefined): s is string => typeof s === 'string' && s !== '';

/** PostHog widens a non-explicit date_to to the end of its day (or hour/minute for sub-day intervals). */
function widenDateTo(n: number, interval: Interval, isRelative: boolean): number {
  const p = naiveParts(n);
  if (interval !== 'hour' && interval !== 'minute') return naiveOf({ ...p, hour: 23, minute: 59, second: 59, micro: 999999 });
  if (!isRelative) return n;
  return interval === 'hour' ? naiveOf({ ...p, minute: 59, second: 59, micro: 999999 }) : naiveOf({ ...p, second: 59, micro: 999999 });
}

export class TrendsDateRange {
  readonly nowNaive: number;
  constructor(
    readonly dateRange: DateRangeInput | null | undefined,
    readonly interval: Interval,
    readonly ctx: RangeContext,
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

  get weekStart(): 0 | 1 {
    return this.ctx.weekStart;
  }

  /** QueryDateRange.date_from() */
  dateFrom(): number {
    const df = this.dateRange?.date_from;
    if (df === 'all') return this.opts.earliestNaive ?? naiveOf({ year: 2015, month: 1, day: 1, hour: 0, minute: 0, second: 0, micro: 0 });
    if (nonEmpty(df)) {
      return parsePostHogDate(df, this.ctx, this.nowNaive, {
        alwaysTruncate: !(this.interval === 'minute' || this.opts.exact),
        where: `${this.where}.date_from`,
      }).naive;
    }
    return startOfInterval(this.nowNaive, 'day', this.ctx.weekStart) - DEFAULT_DATE_FROM_DAYS * US_DAY;
  }

  /** QueryDateRange.date_to() */
  dateTo(): number {
    let dateTo = this.nowNaive;
    let delta: DeltaMapping | null = null;
    const dt = this.dateRange?.date_to;
    if (nonEmpty(dt)) {
      const p = parsePostHogDate(dt, this.ctx, this.nowNaive, { alwaysTruncate: false, where: `${this.where}.date_to` });
      dateTo = p.naive;
      delta = p.delta;
    } else if (this.opts.exact) {
      return dateTo;
    }
    if (!this.explicit) dateTo = widenDateTo(dateTo, this.interval, !nonEmpty(dt) || delta !== null);
    return dateTo;
  }

  /** Delta mapping of the raw date_from (used by compare), parsed without truncation. */
  dateFromDeltaMapping(): DeltaMapping | null {
    const df = this.dateRange?.date_from;
    if (df === 'all') return null;
    return parsePostHogDate(nonEmpty(df) ? df : '-7d', this.ctx, this.nowNaive, { where: `${this.where}.date_from` }).delta;
  }

  dateToDeltaMapping(): DeltaMapping | null {
    const dt = this.dateRange?.date_to;
    if (!nonEmpty(dt)) return null;
    return parsePostHogDate(dt, this.ctx, this.nowNaive, { alwaysTruncate: true, where: `${this.where}.date_to` }).delta;
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
    return startOfInterval(this.dateFrom(), this.interval, this.ctx.weekStart);
  }

  dateToStartOfInterval(): number {
    return startOfInterval(this.dateTo(), this.interval, this.ctx.weekStart);
  }

  /** `date_from_with_adjusted_start_of_interval`: the lower bound events are filtered on. */
  adjustedDateFrom(): number {
    if (!this.useStartOfInterval()) return this.dateFrom();
    if (this.interval === 'week') return startOfInterval(this.dateFrom(), 'day', this.ctx.weekStart);
    return this.dateFromStartOfInterval();
  }

  /** QueryDateRange.all_values(): interval starts from date_from's interval to date_to. */
  allValues(): number[] {
    let start = startOfInterval(this.dateFrom(), this.interval, this.ctx.weekStart);
    const end = this.dateTo();
    const out: number[] = [];
    while (start <= end) {
      out.push(start);
      start = addInterval(start, this.interval);
      if (out.length > 200_000) {
        throw new UsageError(`${this.where}: the range has more than 200000 ${this.interval} buckets`, 'Use a larger interval or a shorter range.');
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
    // "This week/month/quarter/year" running to now: compare with the whole previous calendar unit
    const fullUnit: Record<string, DeltaMapping> = { wStart: { weeks: 1 }, mStart: { months: 1 }, qStart: { months: 3 }, yStart: { years: 1 } };
    if (!nonEmpty(this.dateRange?.date_to) && typeof df === 'string' && fullUnit[df]) {
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
  interval: Interval,
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
    interval: Interval,
    ctx: RangeContext,
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

// ---- the inclusive UTC bounds funnels filter on

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

/**
 * Resolve a funnel's dateRange to inclusive UTC bounds: date_from parsed as is and, unless
 * explicitDate, moved to the start of its interval (day for day/week/month); date_to truncated
 * then widened like QueryDateRange.date_to. `where` prefixes error messages.
 */
export function resolveDateRange(
  dateRange: DateRangeInput | null | undefined,
  interval: Interval,
  ctx: RangeContext,
  opts: { earliest?: Date; where?: string } = {},
): ResolvedDateRange {
  const where = opts.where ?? 'query.dateRange';
  const tz = ctx.timezone;
  const explicit = !!dateRange?.explicitDate;
  const nowNaive = toNaive(ctx.now.getTime() * 1000, tz);

  const df = dateRange?.date_from;
  let from: number;
  if (df === 'all') from = toNaive((opts.earliest?.getTime() ?? 0) * 1000, tz);
  else if (nonEmpty(df)) from = parsePostHogDate(df, ctx, nowNaive, { where: `${where}.date_from` }).naive;
  else from = startOfInterval(nowNaive, 'day', ctx.weekStart) - DEFAULT_DATE_FROM_DAYS * US_DAY;
  if (!explicit) from = startOfInterval(from, interval === 'hour' || interval === 'minute' ? interval : 'day', ctx.weekStart);

  const dt = dateRange?.date_to;
  let to = nowNaive;
  let isRelative = true;
  if (nonEmpty(dt)) {
    const p = parsePostHogDate(dt, ctx, nowNaive, { alwaysTruncate: true, where: `${where}.date_to` });
    to = p.naive;
    isRelative = p.delta !== null;
  }
  if (!explicit) to = widenDateTo(to, interval, isRelative);

  // an untouched instant stays exact (a wall-clock round trip is ambiguous in a DST overlap)
  const fromUs = explicit && df === 'all' ? (opts.earliest?.getTime() ?? 0) * 1000 : toInstant(from, tz);
  const toUs = explicit && !nonEmpty(dt) ? ctx.now.getTime() * 1000 : toInstant(to, tz);
  return { from: new Date(Math.floor(fromUs / 1000)), to: new Date(Math.floor(toUs / 1000)), fromUs: BigInt(fromUs), toUs: BigInt(toUs) };
}

/** PostHog's resolved_date_range strings (ISO with the team offset). */
export function formatResolvedDateRange(range: ResolvedDateRange, tz: string): { date_from: string; date_to: string } {
  return { date_from: isoInTz(range.fromUs, tz), date_to: isoInTz(range.toUs, tz) };
}
