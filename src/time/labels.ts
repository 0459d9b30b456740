/**
 * How times are written in PostHog's responses: bucket labels (format_label_date), `days`
 * entries, and ISO 8601 with the team's offset.
 */
import { tzOffset } from '@date-fns/tz';
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { max } from 'date-fns/max';
import { min } from 'date-fns/min';
import { startOfDay } from 'date-fns/startOfDay';
import { startOfWeek } from 'date-fns/startOfWeek';
import type { Interval } from './buckets.js';
import { naiveDate, naiveParts, toInstant, toNaive, US_MINUTE } from './wallclock.js';

/** `days` entries: %Y-%m-%d, plus %H:%M:%S for hour/minute intervals (naive-local n). */
export function formatDay(n: number, interval: Interval): string {
  return format(naiveDate(n), interval === 'hour' || interval === 'minute' ? 'yyyy-MM-dd HH:mm:ss' : 'yyyy-MM-dd');
}

/** The bounds a week label is clipped to. */
export interface LabelRange {
  interval: Interval;
  weekStart: 0 | 1;
  dateFrom(): number;
  dateTo(): number;
}

/** posthog.hogql_queries.insights.utils.utils.format_label_date (naive-local n). */
export function formatLabel(n: number, range: LabelRange): string {
  const d = naiveDate(n);
  switch (range.interval) {
    case 'hour':
    case 'minute':
      return format(d, 'd-MMM HH:mm');
    case 'month':
      return format(d, 'MMM yyyy');
    case 'week': {
      const weekFirst = startOfWeek(d, { weekStartsOn: range.weekStart });
      const start = max([weekFirst, startOfDay(naiveDate(range.dateFrom()))]);
      const end = max([min([addDays(weekFirst, 6), startOfDay(naiveDate(range.dateTo()))]), start]);
      if (start.getTime() === end.getTime()) return format(start, 'd-MMM-yyyy');
      if (start.getUTCFullYear() !== end.getUTCFullYear()) return `${format(start, 'd-MMM-yyyy')} – ${format(end, 'd-MMM-yyyy')}`;
      if (start.getUTCMonth() !== end.getUTCMonth()) return `${format(start, 'd-MMM')} – ${format(end, 'd-MMM')}`;
      return `${format(start, 'd')}–${format(end, 'd MMM')}`;
    }
    default:
      return format(d, 'd-MMM-yyyy');
  }
}

/** A funnel trends bucket: its `days` entry and label, from the bucket's UTC start (ms). */
export function bucketDayAndLabel(startMs: number, interval: Interval, tz: string): { day: string; label: string } {
  const n = toNaive(startMs * 1000, tz);
  return { day: formatDay(n, interval), label: format(naiveDate(n), 'd-MMM-yyyy') };
}

/**
 * ISO 8601 with microseconds and an offset, like Python's isoformat(). `zulu` spells UTC as Z
 * (PostHog's trends JSON) rather than +00:00 (its funnels' resolved_date_range).
 */
function iso(n: number, offsetMin: number, zulu: boolean): string {
  const micro = naiveParts(n).micro;
  const frac = micro ? `.${String(micro).padStart(6, '0')}` : '';
  const base = `${format(naiveDate(n), "yyyy-MM-dd'T'HH:mm:ss")}${frac}`;
  if (offsetMin === 0 && zulu) return `${base}Z`;
  const off = Math.abs(offsetMin);
  return `${base}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(off / 60)).padStart(2, '0')}:${String(off % 60).padStart(2, '0')}`;
}

/** A naive-local time with the team's offset at that wall-clock time (Z for UTC). */
export function isoNaive(n: number, tz: string): string {
  return iso(n, Math.round((n - toInstant(n, tz)) / US_MINUTE), true);
}

/** An instant (microseconds) in the team's timezone with its offset (+00:00 for UTC). */
export function isoInTz(us: bigint, tz: string): string {
  const n = Number(us);
  return iso(toNaive(n, tz), tzOffset(tz, new Date(Math.floor(n / 1000))), false);
}
