/**
 * Time to first resource (RFD 0094's first two questions): how long from signup (or first seen)
 * to the first resource added per account, or from wizard start to completion per session.
 */
import type { Engine, QueryContext, WindowUnit } from '../engines/types.js';
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
  /** 'log': bins widen (1m, 5m, 15m, 1h, …) because most times fell in the first of even bins. */
  histogramScale: 'linear' | 'log';
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

const MIN = 60;
const HOUR = 3600;
const DAY = 86400;
const UNIT_SECONDS: Record<WindowUnit, number> = { second: 1, minute: MIN, hour: HOUR, day: DAY, week: 7 * DAY, month: 30 * DAY };
/** Log-spaced bin edges (seconds): the steps people think in. */
const LOG_EDGES = [0, MIN, 5 * MIN, 15 * MIN, HOUR, 4 * HOUR, DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 60 * DAY, 90 * DAY, 180 * DAY, 365 * DAY];
/** Shorter windows whose fine histograms resolve the short bins (a 90-day histogram's bins are a day wide). */
const SHORT_WINDOWS = [
  { seconds: HOUR, window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'hour' as const } },
  { seconds: DAY, window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' as const } },
];

/** Most times in the first of even bins: a long tail that even bins hide. */
function longTailed(bins: Bins): boolean {
  const total = bins.reduce((s, [, n]) => s + n, 0);
  return bins.length > 2 && total > 0 && bins[0]![1] * 2 > total;
}

/**
 * Log-spaced bins from fine histograms of nested windows (`sources`, shortest first, each with the
 * longest time it covers): a bin is counted from the shortest window that covers it, a fine bin
 * going to the log bin its start falls in (within one fine bin width).
 */
function logHistogram(sources: { upTo: number; bins: Bins }[]): HistogramBin[] {
  const all = sources[sources.length - 1]!.bins;
  const end = all.length ? all[all.length - 1]![0] + binWidth(all) : 0;
  const edges = LOG_EDGES.filter((e) => e < end);
  edges.push(end);
  const out: HistogramBin[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const [from, to] = [edges[i]!, edges[i + 1]!];
    const source = sources.find((s) => s.upTo >= to) ?? sources[sources.length - 1]!;
    const count = source.bins.filter(([start]) => start >= from && start < to).reduce((n, [, k]) => n + k, 0);
    out.push({ fromSeconds: from, toSeconds: to, count });
  }
  // the end is the fine histogram's last bin end: a sliver past the last edge can stay empty
  while (out.length > 1 && out[out.length - 1]!.count === 0) out.pop();
  return out;
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
        ...shorter.map((s) => buildTimeToFirstQuery({ ...o, window: s.window, signupEvent: signup, vizType: 'time_to_convert', binCount: 90 })),
      ] as never,
      ctx,
    );
  const windowSeconds = o.window.funnelWindowInterval * (UNIT_SECONDS[o.window.funnelWindowIntervalUnit] ?? DAY);
  // the fine histograms of shorter windows, for log bins; not when --bins asks for even ones
  const shorter = o.bins === undefined ? SHORT_WINDOWS.filter((s) => s.seconds < windowSeconds) : [];
  let responses = await run(signupEvent);
  let [steps, ttc, fine] = responses;
  const perResource = o.wizard ? responses[3] : undefined;
  let lists = stepsOf(steps!.results);
  if (!o.wizard && signupEvent && lists.length === 0) {
    warnings.push(`no '${signupEvent}' events in this range: measuring from the first event seen instead (set --signup-event).`);
    signupEvent = null;
    responses = await run(null);
    [steps, ttc, fine] = responses;
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
  const short = responses.slice(o.wizard ? 4 : 3);
  const logBins =
    shorter.length && longTailed(bins)
      ? logHistogram([...shorter.map((s, i) => ({ upTo: s.seconds, bins: ttcOf(short[i]?.results).bins })), { upTo: Infinity, bins: fineBins }])
      : undefined;
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
    ...(logBins ? { histogram: logBins, histogramScale: 'log' as const } : { histogram: histogram(bins), histogramScale: 'linear' as const }),
    byResource,
    warnings,
  };
}
