/**
 * Wall-clock time in a timezone. PostHog does its date arithmetic on timezone-aware Python
 * datetimes that share one tzinfo, which Python treats as wall-clock arithmetic. We do the same on
 * "naive local" microseconds: the team's wall-clock time encoded as if it were UTC (so a day is
 * always 24 h and DST never moves a boundary). Only bounds that reach SQL become instants again.
 * Microseconds, because PostHog's ends are 23:59:59.999999 and a JS Date holds milliseconds.
 */
import { TZDate } from '@date-fns/tz';
import { getDaysInMonth } from 'date-fns/getDaysInMonth';

/** Team settings that change date semantics. weekStart: 0 = Sunday (PostHog's default), 1 = Monday. */
export interface TimeContext {
  timezone: string;
  weekStart: 0 | 1;
}

export const US_SECOND = 1_000_000;
export const US_MINUTE = 60 * US_SECOND;
export const US_HOUR = 60 * US_MINUTE;
export const US_DAY = 24 * US_HOUR;

/** Wall-clock parts in a timezone. month is 1-based. */
export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
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
  };
}

/**
 * UTC instant (ms) of a wall-clock time in tz. Out-of-range fields are normalized (day 0 =
 * last day of previous month, etc.). Nonexistent local times (DST gap) move forward like
 * Python's zoneinfo "fold=0" handling does in practice.
 */
export function fromLocal(p: LocalParts, tz: string): number {
  return new TZDate(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms, tz).getTime();
}

/** Naive-local microseconds as parts (micro: 0..999999). */
export interface NaiveParts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  micro: number;
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

/** Naive-local microseconds of wall-clock parts (out-of-range fields normalize like Date.UTC). */
export function naiveOf(p: NaiveParts): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, 0) * 1000 + p.micro;
}

/** A naive-local time as a Date whose wall clock (read in UTC) is that time, for date-fns. */
export function naiveDate(n: number): TZDate {
  return new TZDate(Math.floor(n / 1000), 'UTC');
}

/** Back from a date-fns result on naiveDate(n), keeping n's sub-millisecond part when asked. */
export function fromNaiveDate(d: Date, subMs = 0): number {
  return d.getTime() * 1000 + subMs;
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
  return getDaysInMonth(new TZDate(year, month - 1, 1, 'UTC'));
}
