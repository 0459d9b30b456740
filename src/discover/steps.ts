/**
 * "Which steps take the most time?" — per step of each track: sessions that reached it, the
 * exact median time from the previous step (funnel steps), and p90 from PostHog's
 * time-to-convert histogram between the two steps.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import { buildTrackFunnelQuery, funnelSteps, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { runTrackFunnels } from './funnel.js';
import { percentileFromBins, binWidth, ttcOf } from './percentiles.js';

export interface StepTimeRow {
  resource: string;
  step: number;
  name: string;
  event: string;
  from: string;
  /** An optional step: sessions that showed it; times are measured between required steps. */
  optional: boolean;
  sessions: number;
  medianSeconds: number | null;
  averageSeconds: number | null;
  p90Seconds: number | null;
  /** Precision of p90: the histogram's bin width in seconds. */
  p90BinSeconds: number | null;
}

export async function stepTimes(engine: Engine, tracks: Track[], opts: TrackFunnelOptions, ctx: QueryContext): Promise<StepTimeRow[]> {
  // one time-to-convert histogram per step (its p90), sent with the track funnels so the local
  // engine answers them all from one scan; steps nobody reached are left out below
  // one time-to-convert histogram per required step (its p90), sent with the track funnels so
  // the local engine answers them all from one scan; steps nobody reached are left out below.
  // Histograms cannot hold optional steps: they run between consecutive required steps.
  const ttcQueries: Record<string, unknown>[] = [];
  const index: { ti: number; step: number }[] = [];
  tracks.forEach((t, ti) => {
    const flow = funnelSteps(t, opts);
    let k = 0;
    flow.forEach((s, i) => {
      if (s.optional) return;
      if (k > 0) {
        ttcQueries.push(
          buildTrackFunnelQuery(t, { ...opts, breakdown: undefined, vizType: 'time_to_convert', funnelFromStep: k - 1, funnelToStep: k, binCount: 90 }),
        );
        index.push({ ti, step: i });
      }
      k++;
    });
  });
  const { reports, extra: ttc } = await runTrackFunnels(engine, tracks, opts, ctx, ttcQueries);
  const p90 = new Map<string, { p90: number | null; width: number | null }>();
  index.forEach(({ ti, step }, k) => {
    if ((reports[ti]!.steps[step]?.count ?? 0) === 0) return;
    const { bins } = ttcOf(ttc[k]!.results);
    p90.set(`${ti}:${step}`, { p90: percentileFromBins(bins, 0.9), width: bins.length ? binWidth(bins) : null });
  });
  const rows: StepTimeRow[] = [];
  reports.forEach((r, ti) => {
    r.steps.forEach((s, i) => {
      if (i === 0) return;
      const q = p90.get(`${ti}:${i}`);
      rows.push({
        resource: r.slug,
        step: s.step,
        name: s.name,
        event: s.event,
        from: [...r.steps.slice(0, i)].reverse().find((x) => !x.optional)!.name,
        optional: s.optional,
        sessions: s.count,
        medianSeconds: s.medianSeconds,
        averageSeconds: s.averageSeconds,
        p90Seconds: q?.p90 ?? null,
        p90BinSeconds: q?.width ?? null,
      });
    });
  });
  return rows;
}
