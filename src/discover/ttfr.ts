/**
 * Time to first resource (RFD 0094's first two questions): how long from signup (or first seen)
 * to the first resource added per account, or from wizard start to completion per session.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import { buildTimeToFirstQuery, loadTracks, NULL_BREAKDOWN, type TimeToFirstOptions } from '../definitions/discover.js';
import { percentileFromBins, binWidth, ttcOf, type Bins } from './percentiles.js';
import type { PostHogFunnelStep } from './funnel.js';

export interface HistogramBin {
  fromSeconds: number;
  toSeconds: number;
  count: number;
}

export interface ResourceTimeRow {
  resource: string;
  completed: number;
  medianSeconds: number | null;
  averageSeconds: number | null;
}

export interface TimeToFirstReport {
  mode: 'account' | 'wizard';
  from: string;
  entered: number;
  converted: number;
  conversionRate: number;
  medianSeconds: number | null;
  averageSeconds: number | null;
  p75Seconds: number | null;
  p90Seconds: number | null;
  /** Width of the histogram bins used for p75/p90 (their precision). */
  percentileBinSeconds: number | null;
  histogram: HistogramBin[];
  byResource?: ResourceTimeRow[];
  warnings: string[];
}

function stepsOf(results: unknown): PostHogFunnelStep[][] {
  if (!Array.isArray(results) || results.length === 0) return [];
  return Array.isArray(results[0]) ? (results as PostHogFunnelStep[][]) : [results as PostHogFunnelStep[]];
}

function histogram(bins: Bins): HistogramBin[] {
  const w = binWidth(bins);
  return bins.map(([start, count]) => ({ fromSeconds: start, toSeconds: start + w, count }));
}

export async function timeToFirst(
  engine: Engine,
  o: Omit<TimeToFirstOptions, 'vizType' | 'binCount'> & { bins?: number },
  ctx: QueryContext,
): Promise<TimeToFirstReport> {
  const warnings: string[] = [];
  let signupEvent = o.wizard ? null : o.signupEvent;
  const run = async (signup: string | null) =>
    engine.runMany(
      [
        buildTimeToFirstQuery({ ...o, signupEvent: signup, vizType: 'steps' }),
        buildTimeToFirstQuery({ ...o, signupEvent: signup, vizType: 'time_to_convert', binCount: o.bins }),
        buildTimeToFirstQuery({ ...o, signupEvent: signup, vizType: 'time_to_convert', binCount: 90 }),
        ...(o.wizard ? [buildTimeToFirstQuery({ ...o, signupEvent: null, vizType: 'steps', byResource: true })] : []),
      ] as never,
      ctx,
    );
  let [steps, ttc, fine, perResource] = await run(signupEvent);
  let lists = stepsOf(steps!.results);
  if (!o.wizard && signupEvent && lists.length === 0) {
    warnings.push(`no '${signupEvent}' events in this range: measuring from the first event seen instead (set --signup-event).`);
    signupEvent = null;
    [steps, ttc, fine] = await run(null);
    lists = stepsOf(steps!.results);
  }
  const entered = lists.reduce((s, l) => s + (l[0]?.count ?? 0), 0);
  const converted = lists.reduce((s, l) => s + (l[1]?.count ?? 0), 0);
  const { bins, average } = ttcOf(ttc!.results);
  const fineBins = ttcOf(fine!.results).bins;
  let byResource: ResourceTimeRow[] | undefined;
  if (o.wizard) {
    byResource = stepsOf(perResource?.results)
      .map((l) => {
        const v = Array.isArray(l[0]?.breakdown_value) ? String((l[0]!.breakdown_value as unknown[])[0] ?? '') : String(l[0]?.breakdown_value ?? '');
        return { resource: v, completed: l[1]?.count ?? 0, medianSeconds: l[1]?.median_conversion_time ?? null, averageSeconds: l[1]?.average_conversion_time ?? null };
      })
      .filter((r) => r.completed > 0 && r.resource !== '' && r.resource !== NULL_BREAKDOWN)
      .map((r) => ({ ...r, resource: loadTracks().find((t) => t.resource === r.resource)?.slug ?? r.resource }))
      .sort((a, b) => (b.medianSeconds ?? 0) - (a.medianSeconds ?? 0));
  }
  const median = lists[0]?.[1]?.median_conversion_time ?? null;
  return {
    mode: o.wizard ? 'wizard' : 'account',
    from: o.wizard ? 'wizard started' : signupEvent ? `signup (${signupEvent})` : "first seen (the account's first event)",
    entered,
    converted,
    conversionRate: entered > 0 ? converted / entered : 0,
    medianSeconds: median,
    averageSeconds: average ?? lists[0]?.[1]?.average_conversion_time ?? null,
    p75Seconds: percentileFromBins(fineBins, 0.75),
    p90Seconds: percentileFromBins(fineBins, 0.9),
    percentileBinSeconds: fineBins.length ? binWidth(fineBins) : null,
    histogram: histogram(bins),
    byResource,
    warnings,
  };
}
