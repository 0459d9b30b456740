/**
 * Discover funnel reports: run each track's FunnelsQuery on an engine and turn PostHog's
 * response into rows a product manager can read. Returns data; rendering lives in commands.
 */
import type { Engine, QueryContext, QueryResponse } from '../engines/types.js';
import {
  buildSharedCompletionQuery,
  buildTrackCompletionQuery,
  buildTrackFunnelQuery,
  funnelSteps,
  completionEnds,
  stepTitle,
  type FlowStep,
  type Track,
  type TrackFunnelOptions,
} from '../definitions/discover.js';
import { stepViews, type FunnelStepView } from '../output/funnel.js';
import { breakdownText } from '../output/format.js';

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
  count: number;
  /** An optional step never holds a session up: it counts the sessions that showed it. */
  optional: boolean;
  /** Conversion from the previous required step (0..1); null for the first step. */
  conversionFromPrevious: number | null;
  /** Conversion from the first step (0..1). */
  conversionFromFirst: number;
  /** Sessions lost since the previous required step (0 on optional steps). */
  dropOff: number;
  /** Time from the previous required step (null on optional steps). */
  medianSeconds: number | null;
  averageSeconds: number | null;
}

export interface FunnelBreakdownRow {
  value: string;
  steps: FunnelStepRow[];
}

export interface TrackFunnelReport {
  slug: string;
  title: string;
  resource: string;
  /** Why the track's guided flow exists in an old UI only; absent for current flows. */
  legacy?: string;
  steps: FunnelStepRow[];
  sessions: number;
  /** Sessions that added the resource: passed the last required step (`completed` or not). */
  completed: number;
  /** The step whose passing means the resource was added. */
  addedAt: string;
  /** Sessions that sent `completed` (the UI loses it when a tab closes on the Finished page). */
  completedEventSent: number | null;
  completionRate: number;
  medianSecondsToComplete: number | null;
  averageSecondsToComplete: number | null;
  breakdowns?: FunnelBreakdownRow[];
  /** Most sessions lack the breakdown property on the step its value is read from (they show as None). */
  breakdownMissing?: { sessions: number; of: number; step: string; event: string };
  warnings: string[];
}

export interface FunnelRunResult {
  reports: TrackFunnelReport[];
  /** Every query that was sent, in order (step funnels, completion funnels, extra). */
  queries: Record<string, unknown>[];
  /** Responses to the `extra` queries, in their order. */
  extra: QueryResponse[];
}

/** The queries a funnel report sends. */
export interface FunnelPlan {
  /** One step funnel per track. */
  steps: Record<string, unknown>[];
  /**
   * Funnels of the required steps alone, for tracks with optional steps: the same counts for
   * those steps, and their times (PostHog leaves optional steps out of a path's timings).
   */
  times: Record<string, unknown>[];
  /** Index into `times` for each track (-1: no optional steps, the step funnel's times serve). */
  timeOf: number[];
  /** Completion funnels (time to complete); fewer than tracks when tracks share one. */
  completion: Record<string, unknown>[];
  /** Index into `completion` for each track (-1: none planned). */
  completionOf: number[];
}

/**
 * Plan the queries for tracks: a step funnel each and, when `completion`, the completion funnels —
 * shared by tracks with the same first and last step in ordered funnels (one query per group).
 */
export function planTrackFunnels(tracks: readonly Track[], opts: TrackFunnelOptions, completion = true): FunnelPlan {
  const steps = tracks.map((t) => buildTrackFunnelQuery(t, opts));
  const times: Record<string, unknown>[] = [];
  const timeOf = tracks.map((t) => {
    const flow = funnelSteps(t, opts);
    if (!flow.some((s) => s.optional)) return -1;
    times.push(buildTrackFunnelQuery(t, { ...opts, steps: flow.filter((s) => !s.optional).map((s) => s.key) }));
    return times.length - 1;
  });
  if (!completion) return { steps, times, timeOf, completion: [], completionOf: tracks.map(() => -1) };
  if (opts.order !== 'ordered' || tracks.length < 2) {
    return { steps, times, timeOf, completion: tracks.map((t) => buildTrackCompletionQuery(t, opts)), completionOf: tracks.map((_, i) => i) };
  }
  const groups = new Map<string, Track[]>();
  for (const t of tracks) groups.set(completionEnds(t, opts), [...(groups.get(completionEnds(t, opts)) ?? []), t]);
  const keys = [...groups.keys()];
  return {
    steps,
    times,
    timeOf,
    completion: keys.map((k) => buildSharedCompletionQuery(groups.get(k)!, opts)),
    completionOf: tracks.map((t) => keys.indexOf(completionEnds(t, opts))),
  };
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

/**
 * Report rows from PostHog funnel steps. `counts` gives every step's count (the funnel with its
 * optional steps); `times` gives the required steps' times (a funnel of the required steps only:
 * PostHog leaves optional steps out of a path's timings).
 */
export function stepRows(flow: FlowStep[], events: string[], counts: PostHogFunnelStep[] | undefined, times: PostHogFunnelStep[] | undefined): FunnelStepRow[] {
  const first = counts?.[0]?.count ?? 0;
  let prevRequired: number | null = null;
  let requiredIndex = 0;
  return flow.map((f, i) => {
    const count = counts?.[i]?.count ?? 0;
    const prev = prevRequired;
    const t = f.optional ? undefined : times?.[requiredIndex++];
    if (!f.optional) prevRequired = count;
    return {
      step: i + 1,
      key: f.key,
      name: stepTitle(f.key),
      event: events[i]!,
      count,
      optional: f.optional,
      conversionFromPrevious: prev === null ? null : prev > 0 ? count / prev : 0,
      conversionFromFirst: first > 0 ? count / first : 0,
      dropOff: prev === null || f.optional ? 0 : Math.max(0, prev - count),
      medianSeconds: i === 0 ? null : (t?.median_conversion_time ?? null),
      averageSeconds: i === 0 ? null : (t?.average_conversion_time ?? null),
    };
  });
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
  /** run the completion funnels (time to complete); `steps` does not need them */
  completion = true,
): Promise<FunnelRunResult> {
  const flows = tracks.map((t) => funnelSteps(t, opts));
  const plan = planTrackFunnels(tracks, opts, completion);
  const funnelQueries = plan.steps;
  const sent = [...funnelQueries, ...plan.times, ...plan.completion, ...extra];
  const responses = await engine.runMany(sent as never, ctx);
  const n = tracks.length;
  const timeResponses = responses.slice(n, n + plan.times.length);
  const completionResponses = responses.slice(n + plan.times.length, n + plan.times.length + plan.completion.length);
  const reports = tracks.map((track, ti) => {
    const flow = flows[ti]!;
    const events = (funnelQueries[ti]!.series as { event: string }[]).map((s) => s.event);
    const mine = (r: QueryResponse | undefined) => asStepLists(r?.results).filter((l) => bucketValue(l)[0] === track.resource);
    const lists = mine(responses[ti]);
    const to = plan.timeOf[ti]!;
    const timeLists = to < 0 ? lists : mine(timeResponses[to]);
    const steps = stepRows(flow, events, sumBuckets(lists), sumBuckets(timeLists));
    const ci = plan.completionOf[ti]!;
    const completion = ci < 0 ? undefined : mine(completionResponses[ci])[0];
    const sessions = steps[0]?.count ?? 0;
    const added = [...steps].reverse().find((s) => !s.optional)!;
    const completedStep = steps.find((s) => s.key === 'completed');
    const completed = added.count;
    const warnings: string[] = [];
    if (sessions === 0) {
      warnings.push(`${track.slug}: no wizard session selected ${track.resource} in this range.`);
    } else {
      for (let i = 1; i < steps.length; i++) {
        if (!steps[i]!.optional && steps[i]!.count === 0 && steps[i - 1]!.count > 0) {
          warnings.push(
            `${track.slug}: no session reached step ${i + 1} "${steps[i]!.name}" (${steps[i]!.event}) in this range — ` +
              'a wrong event name or property key in queries/taxonomy.json, or a flow change, is the usual cause (discover-metrics doctor checks them).',
          );
          break;
        }
      }
    }
    const report: TrackFunnelReport = {
      slug: track.slug,
      title: track.title,
      resource: track.resource,
      ...(track.legacy ? { legacy: track.legacy } : {}),
      steps,
      sessions,
      completed,
      addedAt: added.key,
      completedEventSent: completedStep ? completedStep.count : null,
      completionRate: sessions > 0 ? completed / sessions : 0,
      medianSecondsToComplete: completion?.[1]?.median_conversion_time ?? null,
      averageSecondsToComplete: completion?.[1]?.average_conversion_time ?? null,
      warnings,
    };
    if (opts.breakdown) {
      const timeByValue = new Map(timeLists.map((l) => [bucketValue(l).slice(1).join(' / '), l]));
      report.breakdowns = lists
        .map((l) => {
          const parts = bucketValue(l).slice(1);
          return { value: breakdownText(parts.length > 1 ? parts : parts[0]), steps: stepRows(flow, events, l, timeByValue.get(parts.join(' / '))) };
        })
        .sort((a, b) => b.steps[0]!.count - a.steps[0]!.count || a.value.localeCompare(b.value));
      // the value is read from one step (the resource choice): a property other steps carry shows as None
      const none = report.breakdowns.filter((b) => b.value === 'None').reduce((n, b) => n + b.steps[0]!.count, 0);
      if (sessions > 0 && none * 2 > sessions) {
        const at = steps.find((s) => s.key === 'resourceSelection') ?? steps[0]!;
        report.breakdownMissing = { sessions: none, of: sessions, step: at.name, event: at.event };
      }
    }
    return report;
  });
  return { reports, queries: sent, extra: responses.slice(n + plan.times.length + plan.completion.length) };
}

/** Rank tracks: current flows before legacy ones, then highest completion rate, then fastest median time to complete. */
export function rankReports(reports: TrackFunnelReport[]): TrackFunnelReport[] {
  return [...reports].sort(
    (a, b) =>
      (b.sessions > 0 ? 1 : 0) - (a.sessions > 0 ? 1 : 0) ||
      (a.legacy ? 1 : 0) - (b.legacy ? 1 : 0) ||
      b.completionRate - a.completionRate ||
      (a.medianSecondsToComplete ?? Infinity) - (b.medianSecondsToComplete ?? Infinity) ||
      a.slug.localeCompare(b.slug),
  );
}
