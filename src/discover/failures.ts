/**
 * "Where do users experience failures?" — ERROR and ABORTED outcomes per step (ABORTED is sent
 * under the step the user was on when leaving), and the most common error messages.
 */
import type { DateRange, Engine, QueryContext } from '../engines/types.js';
import {
  buildFailuresByStepQuery,
  buildTopErrorsQuery,
  NULL_BREAKDOWN,
  OTHER_BREAKDOWN,
  stepEventName,
  stepTitle,
  trackSteps,
  type Deployment,
  type Track,
  type TrendsItem,
} from '../definitions/discover.js';

export interface StepFailureRow {
  resource: string;
  step: number;
  key: string;
  name: string;
  event: string;
  errors: number;
  aborted: number;
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

function value(item: TrendsItem): number {
  return item.aggregated_value ?? item.count ?? 0;
}

function breakdownString(v: unknown): string {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return v === null || v === undefined ? NULL_BREAKDOWN : String(v);
}

export async function failures(
  engine: Engine,
  tracks: Track[],
  o: { dateRange: DateRange; deployment: Deployment; top: number; all: boolean },
  ctx: QueryContext,
): Promise<FailuresReport> {
  const stepKeys = [...new Set(tracks.flatMap((t) => trackSteps(t, o.deployment)))];
  const resources = o.all ? undefined : tracks.map((t) => t.resource);
  const byStep = buildFailuresByStepQuery(stepKeys, o.dateRange, resources);
  const top = buildTopErrorsQuery(o.dateRange, resources, o.top);
  const [a, b] = await engine.runMany([byStep, top] as never, ctx);
  const series = byStep.series as { custom_name: string }[];
  const counts = new Map<string, number>(); // `${kind}:${key}|${resource}` -> n
  for (const item of (a!.results as TrendsItem[]) ?? []) {
    const name = item.action?.custom_name ?? (item.action?.order !== undefined ? series[item.action.order]?.custom_name : undefined);
    if (!name) continue;
    const k = `${name}|${breakdownString(item.breakdown_value)}`;
    counts.set(k, (counts.get(k) ?? 0) + value(item));
  }
  const steps: StepFailureRow[] = [];
  for (const t of tracks) {
    trackSteps(t, o.deployment).forEach((key, i) => {
      if (key === 'started') return; // carries no resource
      steps.push({
        resource: t.slug,
        step: i + 1,
        key,
        name: stepTitle(key),
        event: stepEventName(key),
        errors: counts.get(`error:${key}|${t.resource}`) ?? 0,
        aborted: counts.get(`aborted:${key}|${t.resource}`) ?? 0,
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
  const topErrors = [...msgs.values()].sort((x, y) => y.errors - x.errors || x.message.localeCompare(y.message));
  return { steps, abortedBeforeSelection, topErrors, queries: [byStep, top] };
}
