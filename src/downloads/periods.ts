/**
 * Calendar buckets in a timezone, labelled like PostHog's trends `days` (the local date the
 * interval starts on: 2026-11-01 for a day, the week's first day, the month's first day).
 */
import { TZDate } from '@date-fns/tz';

export type PeriodInterval = 'day' | 'week' | 'month';
export const PERIOD_INTERVALS: readonly PeriodInterval[] = ['day', 'week', 'month'];

export interface PeriodOptions {
  interval: PeriodInterval;
  timezone: string;
  /** 0 = Sunday (PostHog default), 1 = Monday. */
  weekStart: 0 | 1;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function localDate(ts: number, tz: string): { y: number; m: number; d: number } {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(tz, f);
  }
  const [y, m, d] = f.format(new Date(ts)).split('-').map(Number) as [number, number, number];
  return { y, m, d };
}

function ymd(y: number, m: number, d: number): string {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.toISOString().slice(0, 10);
}

/** Label (YYYY-MM-DD) of the bucket holding instant ts. */
export function periodOf(ts: number, o: PeriodOptions): string {
  const { y, m, d } = localDate(ts, o.timezone);
  if (o.interval === 'day') return ymd(y, m, d);
  if (o.interval === 'month') return ymd(y, m, 1);
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  const back = (dow - o.weekStart + 7) % 7;
  return ymd(y, m, d - back);
}

/** Next bucket label after `label`. */
export function nextPeriod(label: string, interval: PeriodInterval): string {
  const [y, m, d] = label.split('-').map(Number) as [number, number, number];
  if (interval === 'day') return ymd(y, m, d + 1);
  if (interval === 'week') return ymd(y, m, d + 7);
  return ymd(y, m + 1, 1);
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

/** UTC instant of local midnight starting `date` (YYYY-MM-DD) in tz. */
export function startOfLocalDay(date: string, tz: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new TZDate(y, m - 1, d, 0, 0, 0, 0, tz).getTime();
}
