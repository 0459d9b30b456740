/**
 * Intervals: the start of the interval holding a time, the next interval, and calendar buckets
 * labelled by the day they start on. One definition serves funnels, trends, downloads and adoption.
 */
import { TZDate } from '@date-fns/tz';
import { addDays } from 'date-fns/addDays';
import { addHours } from 'date-fns/addHours';
import { addMinutes } from 'date-fns/addMinutes';
import { addMonths } from 'date-fns/addMonths';
import { addWeeks } from 'date-fns/addWeeks';
import { format } from 'date-fns/format';
import { startOfDay } from 'date-fns/startOfDay';
import { startOfHour } from 'date-fns/startOfHour';
import { startOfMinute } from 'date-fns/startOfMinute';
import { startOfMonth } from 'date-fns/startOfMonth';
import { startOfWeek } from 'date-fns/startOfWeek';
import { fromNaiveDate, naiveDate, toInstant, toNaive, US_MINUTE, type TimeContext } from './wallclock.js';

export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month';

/** Start of the interval holding a naive-local time (toStartOf<Interval> / toStartOfWeek(mode)). */
export function startOfInterval(n: number, unit: Interval, weekStart: 0 | 1): number {
  const d = naiveDate(n);
  switch (unit) {
    case 'minute':
      return fromNaiveDate(startOfMinute(d));
    case 'hour':
      return fromNaiveDate(startOfHour(d));
    case 'day':
      return fromNaiveDate(startOfDay(d));
    case 'week':
      return fromNaiveDate(startOfWeek(d, { weekStartsOn: weekStart }));
    case 'month':
      return fromNaiveDate(startOfMonth(d));
  }
}

/** A naive-local time `count` intervals later (months clamp the day, like relativedelta). */
export function addInterval(n: number, unit: Interval, count = 1): number {
  const d = naiveDate(n);
  const sub = n - Math.floor(n / 1000) * 1000;
  const add = { minute: addMinutes, hour: addHours, day: addDays, week: addWeeks, month: addMonths }[unit];
  return fromNaiveDate(add(d, count), sub);
}

/**
 * Start (UTC instant, ms) of the team-local interval holding an instant, memoised per quarter
 * hour (every real UTC offset is a multiple of 15 minutes, so a quarter hour never straddles a
 * local boundary of an hour or longer). For per-event bucketing.
 */
export function intervalStarter(interval: Interval, ctx: TimeContext): (ms: number) => number {
  const { timezone: tz, weekStart } = ctx;
  const uncached = (ms: number) => toInstant(startOfInterval(toNaive(ms * 1000, tz), interval, weekStart), tz) / 1000;
  if (interval === 'minute') return uncached;
  const cache = new Map<number, number>();
  const quarter = (15 * US_MINUTE) / 1000;
  return (ms: number) => {
    const key = Math.floor(ms / quarter);
    let out = cache.get(key);
    if (out === undefined) {
      out = uncached(ms);
      cache.set(key, out);
    }
    return out;
  };
}

/** Start (UTC instant, ms) of the team-local interval after the one starting at `startMs`. */
export function nextIntervalStart(startMs: number, interval: Interval, tz: string): number {
  return toInstant(addInterval(toNaive(startMs * 1000, tz), interval), tz) / 1000;
}

// ---- calendar buckets labelled YYYY-MM-DD (downloads, adoption)

export type PeriodInterval = 'day' | 'week' | 'month';

export interface PeriodOptions extends TimeContext {
  interval: PeriodInterval;
}

const ymd = (n: number) => format(naiveDate(n), 'yyyy-MM-dd');
const fromYmd = (label: string) => {
  const [y, m, d] = label.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) * 1000;
};

const periodCaches = new Map<string, Map<number, string>>();

/** Label (YYYY-MM-DD, the local date the bucket starts on) of the bucket holding instant ts (ms). */
export function periodOf(ts: number, o: PeriodOptions): string {
  // memoised per quarter hour like intervalStarter: reports label every download this way
  const cacheKey = `${o.timezone}|${o.weekStart}|${o.interval}`;
  let cache = periodCaches.get(cacheKey);
  if (!cache || cache.size > 200_000) periodCaches.set(cacheKey, (cache = new Map()));
  const key = Math.floor(ts / 900_000);
  let label = cache.get(key);
  if (label === undefined) {
    label = ymd(startOfInterval(toNaive(ts * 1000, o.timezone), o.interval, o.weekStart));
    cache.set(key, label);
  }
  return label;
}

/** Next bucket label after `label` (a month's is always the 1st). */
export function nextPeriod(label: string, interval: PeriodInterval): string {
  const next = addInterval(fromYmd(label), interval);
  return ymd(interval === 'month' ? startOfInterval(next, 'month', 0) : next);
}

/** Every bucket label from the one holding `from` to the one holding `to` (inclusive). */
export function periodsBetween(from: number, to: number, o: PeriodOptions): string[] {
  const out: string[] = [];
  const last = periodOf(to, o);
  for (let p = periodOf(from, o); p <= last; p = nextPeriod(p, o.interval)) {
    out.push(p);
    if (out.length > 100_000) break;
  }
  return out;
}

/** UTC instant (ms) of local midnight starting `date` (YYYY-MM-DD) in tz. */
export function startOfLocalDay(date: string, tz: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new TZDate(y, m - 1, d, 0, 0, 0, 0, tz).getTime();
}
