/**
 * Discover funnel reports: run each track's FunnelsQuery on an engine and turn PostHog's
 * response into rows a product manager can read. Returns data; rendering lives in commands.
 */
import type { Engine, QueryContext, QueryResponse } from '../engines/types.js';
import {
  buildTrackCompletionQuery,
  buildTrackFunnelQuery,
  stepTitle,
  trackSteps,
  type Track,
  type TrackFunnelOptions,
} from '../definitions/discover.js';
import { stepViews, type FunnelStepView } from '../output/funnel.js';

export interface PostHogFunnelStep {
  name?: string;
  custom_name?: string | null;
  action_id?: string | null;
  order?: number;
  count: number;
  average_conversion_time: number | null;
  median_conversion_time: number | null;
  breakdown_value?: unknown;
}

/** A step of a Discover funnel: the shared step view plus its taxonomy key and event name. */
export interface FunnelStepRow extends FunnelStepView {
  key: string;
  event: string;
}

export interface FunnelBreakdownRow {
  value: string;
  steps: FunnelStepRow[];
}

export interface TrackFunnelReport {
  slug: string;
  title: string;
  resource: string;
  steps: FunnelStepRow[];
  sessions: number;
  completed: number;
  completionRate: number;
  medianSecondsToComplete: number | null;
  averageSecondsToComplete: number | null;
  breakdowns?: FunnelBreakdownRow[];
  warnings: string[];
}

export interface FunnelRunResult {
  reports: TrackFunnelReport[];
  /** The step funnels that were run (what --print-query shows). */
  queries: Record<string, unknown>[];
  /** Responses to the `extra` queries, in their order. */
  extra: QueryResponse[];
}

function asStepLists(results: unknown): PostHogFunnelStep[][] {
  if (!Array.isArray(results) || results.length === 0) return [];
  if (Array.isArray(results[0])) return results as PostHogFunnelStep[][];
  return [results as PostHogFunnelStep[]];
}

function bucketValue(steps: PostHogFunnelStep[]): string[] {
  const v = steps[0]?.breakdown_value;
  if (Array.isArray(v)) return v.map((x) => String(x));
  if (v === undefined || v === null) return [];
  return [String(v)];
}

export function stepRows(keys: string[], events: string[], steps: PostHogFunnelStep[] | undefined): FunnelStepRow[] {
  const none = { count: 0, average_conversion_time: null, median_conversion_time: null };
  const views = stepViews(keys.map((_, i) => steps?.[i] ?? none));
  return views.map((v, i) => ({
    step: v.step,
    key: keys[i]!,
    name: stepTitle(keys[i]!),
    event: events[i]!,
    count: v.count,
    conversionFromPrevious: v.conversionFromPrevious,
    conversionFromFirst: v.conversionFromFirst,
    dropOff: v.dropOff,
    medianSeconds: v.medianSeconds,
    averageSeconds: v.averageSeconds,
  }));
}

/** Sum step lists of several buckets (e.g. all values of an extra breakdown) into one. */
function sumBuckets(lists: PostHogFunnelStep[][]): PostHogFunnelStep[] | undefined {
  if (lists.length === 0) return undefined;
  if (lists.length === 1) return lists[0];
  // Times cannot be combined exactly from medians; keep a count-weighted average for averages
  // and leave medians empty (the per-bucket rows carry them).
  const n = lists[0]!.length;
  return Array.from({ length: n }, (_, i) => {
    let count = 0;
    let wsum = 0;
    let w = 0;
    for (const l of lists) {
      const s = l[i]!;
      count += s.count;
      if (s.average_conversion_time !== null) {
        wsum += s.average_conversion_time * s.count;
        w += s.count;
      }
    }
    return { count, average_conversion_time: w > 0 ? wsum / w : null, median_conversion_time: null };
  });
}

export async function runTrackFunnels(
  engine: Engine,
  tracks: Track[],
  opts: TrackFunnelOptions,
  ctx: QueryContext,
  /** more queries sent in the same batch (the local engine answers them from the same scan) */
  extra: Record<string, unknown>[] = [],
): Promise<FunnelRunResult> {
  const funnelQueries = tracks.map((t) => buildTrackFunnelQuery(t, opts));
  const completionQueries = tracks.map((t) => buildTrackCompletionQuery(t, opts));
  const responses = await engine.runMany([...funnelQueries, ...completionQueries, ...extra] as never, ctx);
  const reports = tracks.map((track, ti) => {
    const keys = opts.steps ?? trackSteps(track, opts.deployment);
    const events = (funnelQueries[ti]!.series as { event: string }[]).map((s) => s.event);
    const lists = asStepLists(responses[ti]!.results).filter((l) => bucketValue(l)[0] === track.resource);
    const total = sumBuckets(lists);
    const steps = stepRows(keys, events, total);
    const completion = asStepLists(responses[tracks.length + ti]!.results).find((l) => bucketValue(l)[0] === track.resource);
    const sessions = steps[0]?.count ?? 0;
    const completed = steps[steps.length - 1]?.count ?? 0;
    const warnings: string[] = [];
    if (sessions === 0) {
      warnings.push(`${track.slug}: no wizard session selected ${track.resource} in this range.`);
    } else {
      for (let i = 1; i < steps.length; i++) {
        if (steps[i]!.count === 0 && steps[i - 1]!.count > 0) {
          warnings.push(
            `${track.slug}: no session reached step ${i + 1} "${steps[i]!.name}" (${steps[i]!.event}) in this range — ` +
              'a wrong event name or property key in queries/taxonomy.json, or a flow change, is the usual cause.',
          );
          break;
        }
      }
    }
    const report: TrackFunnelReport = {
      slug: track.slug,
      title: track.title,
      resource: track.resource,
      steps,
      sessions,
      completed,
      completionRate: sessions > 0 ? completed / sessions : 0,
      medianSecondsToComplete: completion?.[1]?.median_conversion_time ?? null,
      averageSecondsToComplete: completion?.[1]?.average_conversion_time ?? null,
      warnings,
    };
    if (opts.breakdown) {
      report.breakdowns = lists
        .map((l) => ({ value: bucketValue(l).slice(1).join(' / ') || '(none)', steps: stepRows(keys, events, l) }))
        .sort((a, b) => b.steps[0]!.count - a.steps[0]!.count || a.value.localeCompare(b.value));
    }
    return report;
  });
  return { reports, queries: funnelQueries, extra: responses.slice(2 * tracks.length) };
}

/** Rank tracks: highest completion rate first, then fastest median time to complete. */
export function rankReports(reports: TrackFunnelReport[]): TrackFunnelReport[] {
  return [...reports].sort(
    (a, b) =>
      (b.sessions > 0 ? 1 : 0) - (a.sessions > 0 ? 1 : 0) ||
      b.completionRate - a.completionRate ||
      (a.medianSecondsToComplete ?? Infinity) - (b.medianSecondsToComplete ?? Infinity) ||
      a.slug.localeCompare(b.slug),
  );
}
