/**
 * "Did the change help?": every track's funnel in two date ranges, compared with the statistics
 * in src/stats. The funnels come from runTrackFunnels (so what counts as a session and as
 * completed is the funnel report's own definition); the time to complete's confidence interval
 * comes from the completion funnel's time-to-convert histogram. Returns data only.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import { buildTrackCompletionQuery, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import type { DateRange } from '../query/schema.js';
import { runTrackFunnels, type TrackFunnelReport } from './funnel.js';
import { ttcOf } from './percentiles.js';
import { compareProportions, minimumDetectableChange, type ProportionTest } from '../stats/proportions.js';
import { medianIntervalFromHistogram } from '../stats/median.js';
import { formatPercent, formatPoints } from '../output/format.js';

export type Verdict = 'improved' | 'regressed' | 'no detectable change';

export interface PeriodSummary {
  sessions: number;
  completed: number;
  rate: number;
  medianSeconds: number | null;
  /** 95% rank-based interval of the median time to complete (to the histogram's bin edges) */
  medianCi: [number, number] | null;
}

/** A two-proportion test's result and its verdict: after − before. */
export type Tested = ProportionTest & { verdict: Verdict };

export interface StepComparison extends Tested {
  step: number;
  key: string;
  name: string;
  /** sessions that reached the previous required step, and this one; rate = conversion from it */
  before: { entered: number; reached: number; rate: number };
  after: { entered: number; reached: number; rate: number };
}

export interface TrackComparison extends Tested {
  slug: string;
  title: string;
  before: PeriodSummary;
  after: PeriodSummary;
  /** smallest change of the completion rate these sample sizes detect (80% power), or null */
  minimumDetectableChange: number | null;
  /** the median time to complete changed beyond both periods' intervals */
  timeChange: 'faster' | 'slower' | 'no detectable change' | 'unknown';
  summary: string;
  steps: StepComparison[];
}

export interface ComparisonResult {
  tracks: TrackComparison[];
  /** the step funnels sent for the "before" range (what --print-query shows) */
  queries: Record<string, unknown>[];
}

const HISTOGRAM_BINS = 90; // PostHog's maximum: the narrowest bins, so the tightest interval

/** The completion funnel as a time-to-convert histogram (first → last step, sessions of this track). */
export function buildCompletionHistogramQuery(track: Track, o: TrackFunnelOptions): Record<string, unknown> {
  const q = buildTrackCompletionQuery(track, o);
  // a histogram has no breakdown; the last step's resource filter already keeps this track's sessions
  delete q.breakdownFilter;
  const ff = { ...(q.funnelsFilter as Record<string, unknown>) };
  delete ff.breakdownAttributionType;
  delete ff.breakdownAttributionValue;
  ff.funnelVizType = 'time_to_convert';
  ff.binCount = HISTOGRAM_BINS;
  return { ...q, funnelsFilter: ff };
}

export function verdictOf(t: ProportionTest): Verdict {
  if (!t.significant) return 'no detectable change';
  return t.difference > 0 ? 'improved' : 'regressed';
}

function period(r: TrackFunnelReport, histogram: unknown): PeriodSummary {
  const { bins } = ttcOf(histogram);
  return {
    sessions: r.sessions,
    completed: r.completed,
    rate: r.completionRate,
    medianSeconds: r.medianSecondsToComplete,
    medianCi: medianIntervalFromHistogram(bins),
  };
}

function timeChange(b: PeriodSummary, a: PeriodSummary): TrackComparison['timeChange'] {
  if (!b.medianCi || !a.medianCi) return 'unknown';
  if (a.medianCi[1] < b.medianCi[0]) return 'faster';
  if (a.medianCi[0] > b.medianCi[1]) return 'slower';
  return 'no detectable change';
}

const pct = formatPercent;
const pts = formatPoints;
export const formatPValue = (p: number | null) => (p === null ? '–' : p < 0.001 ? '< 0.001' : p.toFixed(3));

/**
 * Each required step against the previous required step, in both periods. Optional steps are left
 * out: a session may skip them, so their count is no share of the previous step's sessions (and the
 * step after an optional one is a share of the required step before it, not of the optional one).
 */
export function stepComparisons(before: TrackFunnelReport, after: TrackFunnelReport): StepComparison[] {
  const out: StepComparison[] = [];
  let prev = -1; // index of the previous required step
  after.steps.forEach((s, i) => {
    if (s.optional) return;
    if (prev >= 0) {
      const b = { entered: before.steps[prev]?.count ?? 0, reached: before.steps[i]?.count ?? 0 };
      const a = { entered: after.steps[prev]!.count, reached: s.count };
      const t = compareProportions({ x: b.reached, n: b.entered }, { x: a.reached, n: a.entered });
      out.push({
        step: s.step,
        key: s.key,
        name: s.name,
        before: { ...b, rate: b.entered > 0 ? b.reached / b.entered : 0 },
        after: { ...a, rate: a.entered > 0 ? a.reached / a.entered : 0 },
        ...t,
        verdict: verdictOf(t),
      });
    }
    prev = i;
  });
  return out;
}

/** One sentence a PM can paste: what changed, how sure, and where. */
export function summarize(c: Omit<TrackComparison, 'summary'>): string {
  const { before: b, after: a } = c;
  if (b.sessions === 0 || a.sessions === 0) {
    return `Not enough data: ${b.sessions} sessions before and ${a.sessions} after.`;
  }
  const ci = c.ci ? `95% CI ${pts(c.ci[0])} to ${pts(c.ci[1])}` : 'no interval';
  const change = `${pct(b.rate)} → ${pct(a.rate)} (${pts(c.difference)} points, ${ci}, p ${c.pValue !== null && c.pValue < 0.001 ? '' : '= '}${formatPValue(c.pValue)})`;
  let text: string;
  if (c.verdict === 'improved') text = `Improved: completion ${change}.`;
  else if (c.verdict === 'regressed') text = `Regressed: completion ${change}.`;
  else {
    const mde = c.minimumDetectableChange;
    text =
      `No detectable change: completion ${change}. ` +
      (mde === null
        ? `${b.sessions} and ${a.sessions} sessions are too few to detect any change.`
        : `With ${b.sessions} and ${a.sessions} sessions, only a change of about ${(mde * 100).toFixed(1)} points or more would be detected (80% power).`);
  }
  const moved = c.steps.filter((s) => s.significant).sort((x, y) => (x.pValue ?? 1) - (y.pValue ?? 1));
  if (moved.length > 0) {
    const s = moved[0]!;
    text += ` Largest step change: ${s.name} ${pct(s.before.rate)} → ${pct(s.after.rate)} (${s.verdict}).`;
  }
  if (c.timeChange === 'faster' || c.timeChange === 'slower') text += ` Median time to complete is ${c.timeChange}.`;
  return text;
}

export function compareReports(before: TrackFunnelReport, after: TrackFunnelReport, hBefore: unknown, hAfter: unknown): TrackComparison {
  const t = compareProportions({ x: before.completed, n: before.sessions }, { x: after.completed, n: after.sessions });
  const b = period(before, hBefore);
  const a = period(after, hAfter);
  const partial: Omit<TrackComparison, 'summary'> = {
    slug: after.slug,
    title: after.title,
    before: b,
    after: a,
    ...t,
    verdict: verdictOf(t),
    minimumDetectableChange: minimumDetectableChange(b.rate, b.sessions, a.sessions),
    timeChange: timeChange(b, a),
    steps: stepComparisons(before, after),
  };
  return { ...partial, summary: summarize(partial) };
}

/** Run every track's funnel in both ranges (one batch per range) and compare them. */
export async function compareTracks(
  engine: Engine,
  tracks: Track[],
  opts: Omit<TrackFunnelOptions, 'dateRange' | 'breakdown'>,
  ranges: { before: DateRange; after: DateRange },
  ctx: QueryContext,
): Promise<ComparisonResult> {
  const side = async (dateRange: DateRange) => {
    const o = { ...opts, dateRange };
    const histograms = tracks.map((t) => buildCompletionHistogramQuery(t, o));
    return runTrackFunnels(engine, tracks, o, ctx, histograms);
  };
  const b = await side(ranges.before);
  const a = await side(ranges.after);
  const comparisons = tracks.map((_, i) => compareReports(b.reports[i]!, a.reports[i]!, b.extra[i]?.results, a.extra[i]?.results));
  return { tracks: comparisons, queries: b.queries };
}
