/**
 * Team-local time in SQL without DuckDB's ICU extension: the UTC offsets in effect over a range
 * (with exact transition instants), the local wall clock of a column, and PostHog's toStartOf<Interval>.
 */
import { toInstant, toNaive, US_DAY, US_HOUR, US_MINUTE, US_SECOND, type Interval as TrendsInterval } from '../../../time/index.js';

export interface OffsetSegment {
  /** first instant (µs) of this offset; the first segment starts at -infinity */
  fromUs: number;
  offsetUs: number;
}

/** UTC offsets in effect between two instants (µs), with the exact transition instants. */
// Hand-written: @date-fns/tz's tzScan finds changes to the hour only (and one per month at most).
export function offsetSegments(fromUs: number, toUs: number, tz: string): OffsetSegment[] {
  const off = (us: number) => toNaive(us, tz) - us;
  const start = fromUs - 2 * US_DAY;
  const segs: OffsetSegment[] = [{ fromUs: -Infinity, offsetUs: off(start) }];
  if (tz === 'UTC') return segs;
  let prevT = start;
  let prevOff = segs[0]!.offsetUs;
  const end = toUs + 2 * US_DAY;
  for (let t = start + US_DAY / 4; t <= end + US_DAY / 4; t += US_DAY / 4) {
    const o = off(t);
    if (o !== prevOff) {
      // transitions fall on whole seconds: binary search the first second with the new offset
      let lo = Math.floor(prevT / US_SECOND);
      let hi = Math.ceil(t / US_SECOND);
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (off(mid * US_SECOND) === prevOff) lo = mid;
        else hi = mid;
      }
      segs.push({ fromUs: hi * US_SECOND, offsetUs: off(hi * US_SECOND) });
      prevOff = segs[segs.length - 1]!.offsetUs;
    }
    prevT = t;
  }
  return segs;
}

/** SQL (BIGINT) for the team-local wall clock in µs of a TIMESTAMPTZ column. */
export function localUsSql(col: string, segs: OffsetSegment[]): string {
  const epoch = `epoch_us(${col})`;
  if (segs.length === 1) return segs[0]!.offsetUs === 0 ? epoch : `(${epoch} + ${segs[0]!.offsetUs})`;
  const cases = segs
    .slice(1)
    .map((s, i) => `WHEN ${epoch} < ${s.fromUs} THEN ${segs[i]!.offsetUs}`)
    .join(' ');
  return `(${epoch} + CASE ${cases} ELSE ${segs[segs.length - 1]!.offsetUs} END)`;
}

/** toStartOf<Interval> on a local µs BIGINT expression; result is a local µs BIGINT. */
export function bucketUsSql(local: string, interval: TrendsInterval, weekStart: 0 | 1): string {
  switch (interval) {
    case 'minute':
      return `((${local}) // ${US_MINUTE} * ${US_MINUTE})`;
    case 'hour':
      return `((${local}) // ${US_HOUR} * ${US_HOUR})`;
    case 'day':
      return `((${local}) // ${US_DAY} * ${US_DAY})`;
    case 'week': {
      // 1970-01-01 was a Thursday: weekday(Sunday = 0) = (day + 4) % 7, (Monday = 0) = (day + 3) % 7
      const day = `((${local}) // ${US_DAY})`;
      return `((${day} - (${day} + ${weekStart === 1 ? 3 : 4}) % 7) * ${US_DAY})`;
    }
    case 'month':
      return `epoch_us(date_trunc('month', make_timestamp(${local})))`;
  }
}

/** SQL TIMESTAMPTZ literal for a team-local wall-clock instant (µs). */
export function ts(naive: number, tz: string): string {
  return `make_timestamptz(${toInstant(naive, tz)}::BIGINT)`;
}
