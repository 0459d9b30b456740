/**
 * Conversion per period for one track (`funnel --interval`): the track's own funnel, run once
 * per day, week or month of the range, so a period's sessions and completions are counted
 * exactly as the funnel report counts them (PostHog's funnel-trends response carries only the
 * rate, not these counts). Periods are calendar buckets in the team timezone.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import type { Track, TrackFunnelOptions } from '../definitions/discover.js';
import { isIncompletePeriod, nextPeriod, periodOf, resolveDateRange, type PeriodInterval } from '../time/index.js';
import { runTrackFunnels } from './funnel.js';
import { UsageError } from '../errors.js';

export interface TrendRow {
  /** first day of the period (YYYY-MM-DD, team timezone), like PostHog's `days` */
  period: string;
  /** the days of the period inside the range (inclusive) */
  from: string;
  to: string;
  sessions: number;
  completed: number;
  rate: number;
  medianSeconds: number | null;
  /** the range cuts the period, or the period is not over yet: its rate may still move */
  incomplete: boolean;
}

const MAX_PERIODS = 400;

function dayBefore(label: string): string {
  const [y, m, d] = label.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d - 1)).toISOString().slice(0, 10);
}

export interface Period {
  period: string;
  from: string;
  to: string;
  incomplete: boolean;
}

/** The periods covering [firstDay, lastDay] (local dates), each clipped to the range. */
export function periodsOfRange(firstDay: string, lastDay: string, interval: PeriodInterval, weekStart: 0 | 1, notOver: (period: string) => boolean): Period[] {
  const o = { interval, timezone: 'UTC', weekStart };
  const at = (day: string) => Date.parse(`${day}T12:00:00Z`);
  const out: Period[] = [];
  for (let p = periodOf(at(firstDay), o); p <= lastDay; p = nextPeriod(p, interval)) {
    const end = dayBefore(nextPeriod(p, interval));
    const from = p < firstDay ? firstDay : p;
    const to = end > lastDay ? lastDay : end;
    out.push({ period: p, from, to, incomplete: from !== p || to !== end || notOver(p) });
    if (out.length > MAX_PERIODS) {
      throw new UsageError(`--interval: the range has more than ${MAX_PERIODS} ${interval}s`, 'Use a shorter range or a longer --interval.');
    }
  }
  return out;
}

function localDay(ms: number, tz: string): string {
  return periodOf(ms, { interval: 'day', timezone: tz, weekStart: 0 });
}

/** The periods of a range given as --from/--to, in the team timezone. */
export function periodsOfDateRange(dateRange: TrackFunnelOptions['dateRange'], interval: PeriodInterval, ctx: QueryContext): Period[] {
  if (dateRange.date_from === 'all') throw new UsageError('--interval: give --from a date (all has no first period)');
  const r = resolveDateRange({ ...dateRange }, 'day', ctx, { where: '--from/--to' });
  const day = (ms: number) => localDay(ms, ctx.timezone);
  return periodsOfRange(day(r.from.getTime()), day(r.to.getTime()), interval, ctx.weekStart, (p) => isIncompletePeriod(p, interval, ctx));
}

/** Conversion per period for several tracks: one batch per period (the tracks share its scan). */
export async function funnelTrends(
  engine: Engine,
  tracks: Track[],
  opts: TrackFunnelOptions,
  interval: PeriodInterval,
  ctx: QueryContext,
): Promise<Map<string, TrendRow[]>> {
  const out = new Map<string, TrendRow[]>(tracks.map((t) => [t.slug, []]));
  for (const p of periodsOfDateRange(opts.dateRange, interval, ctx)) {
    const { reports } = await runTrackFunnels(engine, tracks, { ...opts, dateRange: { date_from: p.from, date_to: p.to } }, ctx);
    for (const rep of reports) {
      out.get(rep.slug)!.push({ ...p, sessions: rep.sessions, completed: rep.completed, rate: rep.completionRate, medianSeconds: rep.medianSecondsToComplete });
    }
  }
  return out;
}

export async function funnelTrend(engine: Engine, track: Track, opts: TrackFunnelOptions, interval: PeriodInterval, ctx: QueryContext): Promise<TrendRow[]> {
  return (await funnelTrends(engine, [track], opts, interval, ctx)).get(track.slug)!;
}
