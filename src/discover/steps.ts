/**
 * "Which steps take the most time?" — per step of each track: sessions that reached it, the
 * exact median time from the previous step (funnel steps), and p90 from PostHog's
 * time-to-convert histogram between the two steps.
 */
import type { Engine, QueryContext, QueryResponse } from '../engines/types.js';
import { buildTrackFunnelQuery, funnelSteps, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { runTrackFunnels, type TrackFunnelReport } from './funnel.js';
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

/**
 * One time-to-convert histogram per required step after the first (its p90), with the track and
 * step it serves. Histograms cannot hold optional steps: they run between consecutive required steps.
 */
export function planStepHistograms(tracks: readonly Track[], opts: TrackFunnelOptions): { queries: Record<string, unknown>[]; index: { ti: number; step: number }[] } {
  const queries: Record<string, unknown>[] = [];
  const index: { ti: number; step: number }[] = [];
  tracks.forEach((t, ti) => {
    const flow = funnelSteps(t, opts);
    let k = 0;
    flow.forEach((s, i) => {
      if (s.optional) return;
      if (k > 0) {
        queries.push(buildTrackFunnelQuery(t, { ...opts, breakdown: undefined, vizType: 'time_to_convert', funnelFromStep: k - 1, funnelToStep: k, binCount: 90 }));
        index.push({ ti, step: i });
      }
      k++;
    });
  });
  return { queries, index };
}

export async function stepTimes(engine: Engine, tracks: Track[], opts: TrackFunnelOptions, ctx: QueryContext): Promise<StepTimeRow[]> {
  const { queries: ttcQueries, index } = planStepHistograms(tracks, opts);
  let reports: TrackFunnelReport[];
  const ttc = new Map<number, QueryResponse>();
  if (engine.name === 'posthog') {
    // PostHog counts every request against the key's budget: the step funnels first, then a
    // histogram only for the steps some session reached
    reports = (await runTrackFunnels(engine, tracks, opts, ctx, [], false)).reports;
    const needed = index.flatMap(({ ti, step }, k) => ((reports[ti]!.steps[step]?.count ?? 0) > 0 ? [k] : []));
    const res = await engine.runMany(needed.map((k) => ttcQueries[k]!) as never, ctx);
    needed.forEach((k, i) => ttc.set(k, res[i]!));
  } else {
    // the local engine answers the funnels and every histogram from one scan
    const r = await runTrackFunnels(engine, tracks, opts, ctx, ttcQueries, false);
    reports = r.reports;
    r.extra.forEach((x, k) => ttc.set(k, x));
  }
  const p90 = new Map<string, { p90: number | null; width: number | null }>();
  index.forEach(({ ti, step }, k) => {
    if ((reports[ti]!.steps[step]?.count ?? 0) === 0) return;
    const { bins } = ttcOf(ttc.get(k)!.results);
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
