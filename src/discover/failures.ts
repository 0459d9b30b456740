/**
 * "Where do users experience failures?" — ERROR outcomes and abandonments per step, and the most
 * common error messages. An ABORTED is an abandonment only when the session ended there (see
 * definitions/abandonment.ts): leaving to create an AWS integration and coming back, or going
 * back from the first view to the resource cards, is not a failure.
 */
import type { Engine, QueryContext, QueryResponse } from '../engines/types.js';
import {
  buildFailuresByStepQuery,
  buildTopErrorsQuery,
  firstView,
  NULL_BREAKDOWN,
  OTHER_BREAKDOWN,
  stepEventName,
  stepTitle,
  trackSteps,
  type Deployment,
  type Track,
  type TrendsItem,
} from '../definitions/discover.js';
import { buildCameBackQuery, buildWentBackQuery } from '../definitions/abandonment.js';
import type { DateRange } from '../query/schema.js';
import type { PostHogFunnelStep } from './funnel.js';

export interface StepFailureRow {
  resource: string;
  step: number;
  key: string;
  name: string;
  event: string;
  /** ERROR outcomes (events: a session can fail several times before it succeeds). */
  errors: number;
  /** Wizard sessions that reached the step (sent its event, any outcome). */
  sessions: number;
  /** Wizard sessions that failed on the step at least once. */
  failedSessions: number;
  /** failedSessions / sessions; null when no session reached the step. */
  errorRate: number | null;
  /** Sessions that left the wizard at this step and did not come back (abandonments). */
  aborted: number;
  /** Every ABORTED event sent under this step. */
  abortedEvents: number;
  /** Sessions that left from this step and came back later with the same session id. */
  cameBack: number;
  /** Accounts that went back from this first view to the resource cards (a new session at once). */
  wentBack: number;
}

export interface ErrorMessageRow {
  message: string;
  errors: number;
  accounts: number;
}

export interface FailuresReport {
  steps: StepFailureRow[];
  /** ABORTED on `started` (before a resource was chosen); only in the all-resources view. */
  abortedBeforeSelection: number | null;
  topErrors: ErrorMessageRow[];
  queries: Record<string, unknown>[];
}

function rate(part: number, whole: number): number | null {
  return whole > 0 ? Math.min(1, part / whole) : null;
}

function value(item: TrendsItem): number {
  return item.aggregated_value ?? item.count ?? 0;
}

function breakdownString(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return v === null || v === undefined ? NULL_BREAKDOWN : String(v);
}

function funnelBuckets(r: QueryResponse | undefined): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  const res = r?.results;
  if (!Array.isArray(res) || res.length === 0) return out;
  const lists = (Array.isArray(res[0]) ? res : [res]) as PostHogFunnelStep[][];
  for (const l of lists) {
    const v = l[0]?.breakdown_value;
    const key = Array.isArray(v) ? String(v[0] ?? '') : v === null || v === undefined ? '' : String(v);
    const prev = out.get(key) ?? [0, 0];
    out.set(key, [prev[0] + (l[0]?.count ?? 0), prev[1] + (l[1]?.count ?? 0)]);
  }
  return out;
}

export async function failures(
  engine: Engine,
  tracks: Track[],
  o: { dateRange: DateRange; deployment: Deployment; top: number; all: boolean },
  ctx: QueryContext,
): Promise<FailuresReport> {
  const q = failureQueries(tracks, o);
  const responses = await engine.runMany(q.all as never, ctx);
  const [a, b] = responses;
  const cameBack = new Map(q.stepKeys.map((k, i) => [k, funnelBuckets(responses[2 + i])]));
  const wentBack = new Map(q.firstViews.map((k, i) => [k, funnelBuckets(responses[2 + q.stepKeys.length + i])]));
  const series = q.byStep.series as { custom_name: string }[];
  const counts = new Map<string, number>(); // `${kind}:${key}|${resource}` -> n
  for (const item of (a!.results as TrendsItem[]) ?? []) {
    const name = item.action?.custom_name ?? (item.action?.order !== undefined ? series[item.action.order]?.custom_name : undefined);
    if (!name) continue;
    const k = `${name}|${breakdownString(item.breakdown_value)}`;
    counts.set(k, (counts.get(k) ?? 0) + value(item));
  }
  const steps: StepFailureRow[] = [];
  for (const t of tracks) {
    const first = firstView(t, o.deployment);
    trackSteps(t, o.deployment).forEach((key, i) => {
      if (key === 'started') return; // carries no resource
      const [left, returned] = cameBack.get(key)?.get(t.resource) ?? [0, 0];
      const back = key === first ? (wentBack.get(key)?.get(t.resource)?.[1] ?? 0) : 0;
      steps.push({
        resource: t.slug,
        step: i + 1,
        key,
        name: stepTitle(key),
        event: stepEventName(key),
        errors: counts.get(`error:${key}|${t.resource}`) ?? 0,
        sessions: counts.get(`reached:${key}|${t.resource}`) ?? 0,
        failedSessions: counts.get(`failed:${key}|${t.resource}`) ?? 0,
        errorRate: rate(counts.get(`failed:${key}|${t.resource}`) ?? 0, counts.get(`reached:${key}|${t.resource}`) ?? 0),
        aborted: Math.max(0, left - returned - back),
        abortedEvents: counts.get(`aborted:${key}|${t.resource}`) ?? 0,
        cameBack: returned,
        wentBack: back,
      });
    });
  }
  const abortedBeforeSelection = o.all ? (counts.get(`aborted:started|${NULL_BREAKDOWN}`) ?? 0) : null;
  const msgs = new Map<string, ErrorMessageRow>();
  for (const item of (b!.results as TrendsItem[]) ?? []) {
    const raw = breakdownString(item.breakdown_value);
    const message = raw === NULL_BREAKDOWN ? '(no error text)' : raw === OTHER_BREAKDOWN ? '(other messages)' : raw;
    const row = msgs.get(message) ?? { message, errors: 0, accounts: 0 };
    const which = item.action?.custom_name ?? (item.action?.order === 1 ? 'accounts' : 'errors');
    if (which === 'accounts') row.accounts += value(item);
    else row.errors += value(item);
    msgs.set(message, row);
  }
  // Real messages ranked by volume; the buckets that are not a message ("(other messages)", "(no
  // error text)") go last. A message only in the accounts series' top list has its errors in
  // "(other messages)": it is left out rather than shown with 0 errors.
  const bucket = (m: string) => m === '(other messages)' || m === '(no error text)';
  const topErrors = [...msgs.values()]
    .filter((m) => m.errors > 0)
    .sort((x, y) => Number(bucket(x.message)) - Number(bucket(y.message)) || y.errors - x.errors || x.message.localeCompare(y.message));
  return { steps, abortedBeforeSelection, topErrors, queries: q.all };
}

/** Every query the failures report sends, in order: by step, top errors, came back per step, went back per first view. */
export function failureQueries(tracks: Track[], o: { dateRange: DateRange; deployment: Deployment; top: number; all: boolean }) {
  const stepKeys = [...new Set(tracks.flatMap((t) => trackSteps(t, o.deployment)))];
  const resources = o.all ? undefined : tracks.map((t) => t.resource);
  const byStep = buildFailuresByStepQuery(stepKeys, o.dateRange, resources, o.deployment);
  const top = buildTopErrorsQuery(o.dateRange, resources, o.top, o.deployment);
  const left = stepKeys.filter((k) => k !== 'started');
  const firstViews = [...new Set(tracks.map((t) => firstView(t, o.deployment)))];
  const viewResources = (k: string) => tracks.filter((t) => firstView(t, o.deployment) === k).map((t) => t.resource);
  const all = [
    byStep,
    top,
    ...left.map((k) => buildCameBackQuery(k, o.dateRange, o.deployment, resources)),
    ...firstViews.map((k) => buildWentBackQuery(k, o.dateRange, o.deployment, viewResources(k))),
  ];
  return { byStep, top, stepKeys: left, firstViews, all };
}
