/**
 * The range a report covers, resolved once for every report: --from/--to against --now in the
 * team timezone, moved to the first day with data when it starts earlier, refused when it misses
 * the data altogether, and whether its last period is still running (PostHog's "incomplete").
 */
import { UsageError } from '../errors.js';
import type { DateRange } from '../query/schema.js';
import { periodOf, type PeriodInterval } from './buckets.js';
import { isoInTz } from './labels.js';
import { resolveDateRange, type RangeContext } from './range.js';

/** The default --from of every report over a range (Discover and Connect alike). */
export const DEFAULT_REPORT_FROM = '-30d';

/** First and last event the store holds. */
export interface DataSpan {
  first: Date;
  last: Date;
}

export interface ReportRange {
  /** --from as given (or defaulted): a date, a relative date (-30d) or all. */
  from: string;
  /** --to as given; "today" when none was (the range runs to the end of today). */
  to: string;
  /** Resolved first instant, ISO 8601 with the team's offset (PostHog's resolved_date_range). */
  date_from: string;
  /** Resolved last instant (inclusive), ISO 8601 with the team's offset. */
  date_to: string;
  /** First and last day covered (YYYY-MM-DD in the team timezone). */
  firstDay: string;
  lastDay: string;
  timezone: string;
  /** The range runs past --now: its last day (week, month) is not over, its figures can still grow. */
  incomplete: boolean;
  /** The range started before the store's first event and was moved to that day (YYYY-MM-DD). */
  startsAtData?: string;
}

const dayOf = (ms: number, ctx: RangeContext) => periodOf(ms, { interval: 'day', timezone: ctx.timezone, weekStart: ctx.weekStart });

/** "2026-05-20 … 2026-11-16": the days a store's events span, in the team timezone. */
export function describeSpan(span: DataSpan, ctx: RangeContext): string {
  return `${dayOf(span.first.getTime(), ctx)} … ${dayOf(span.last.getTime(), ctx)}`;
}

/**
 * Resolve a report's dateRange. With the store's span: a range that holds none of its events is
 * a UsageError naming the span (exit 2), and a range starting before the first event starts on
 * that event's day (the returned `dateRange` is what the report should query).
 */
export function resolveReportRange(
  dateRange: DateRange,
  ctx: RangeContext,
  opts: { span?: DataSpan | null; where?: string } = {},
): { range: ReportRange; dateRange: DateRange } {
  const where = opts.where ?? '--from/--to';
  const span = opts.span ?? undefined;
  let r = resolveDateRange(dateRange, 'day', ctx, { earliest: span?.first, where });
  let query = dateRange;
  let startsAtData: string | undefined;
  if (span) {
    if (r.to.getTime() < span.first.getTime() || r.from.getTime() > span.last.getTime()) {
      const asked = `${dayOf(r.from.getTime(), ctx)} → ${dayOf(r.to.getTime(), ctx)}`;
      throw new UsageError(
        `${where}: no events between ${asked} (${ctx.timezone}); the store holds ${describeSpan(span, ctx)}`,
        'Give --from/--to inside that span, or load the events of the range (discover-metrics load FILE...).',
      );
    }
    const firstDay = dayOf(span.first.getTime(), ctx);
    if (dateRange.date_from !== 'all' && !dateRange.explicitDate && dayOf(r.from.getTime(), ctx) < firstDay) {
      startsAtData = firstDay;
      query = { ...dateRange, date_from: firstDay };
      r = resolveDateRange(query, 'day', ctx, { where });
    }
  }
  return {
    dateRange: query,
    range: {
      from: dateRange.date_from ?? '-7d',
      to: dateRange.date_to ?? 'today',
      date_from: isoInTz(r.fromUs, ctx.timezone),
      date_to: isoInTz(r.toUs, ctx.timezone),
      firstDay: dayOf(r.from.getTime(), ctx),
      lastDay: dayOf(r.to.getTime(), ctx),
      timezone: ctx.timezone,
      incomplete: r.to.getTime() > ctx.now.getTime(),
      ...(startsAtData ? { startsAtData } : {}),
    },
  };
}

/** The period (YYYY-MM-DD of its first day) that holds --now. */
export function currentPeriod(interval: PeriodInterval, ctx: RangeContext): string {
  return periodOf(ctx.now.getTime(), { interval, timezone: ctx.timezone, weekStart: ctx.weekStart });
}

/**
 * PostHog's incomplete period: the one holding now (or a later one) is not over, so its count
 * can still grow. `period` is the first day of the period (YYYY-MM-DD, team timezone).
 */
export function isIncompletePeriod(period: string, interval: PeriodInterval, ctx: RangeContext): boolean {
  return period.slice(0, 10) >= currentPeriod(interval, ctx);
}

/**
 * A --from/--to of a calendar-day report (downloads) as its day (YYYY-MM-DD, team timezone):
 * an absolute day as is, a relative date (-30d, -4w, mStart) counted back from --now.
 */
export function dayOfDateInput(value: string, ctx: RangeContext, where: string): string {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const r = resolveDateRange({ date_from: v, date_to: null }, 'day', ctx, { where });
  return dayOf(r.from.getTime(), ctx);
}
