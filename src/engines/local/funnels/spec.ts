/**
 * A FunnelsQuery with PostHog's defaults applied and PostHog's validation rules checked
 * (funnel_validation_rules.py, funnel_udf.py, base.py), ready for the local engine.
 */
import { QueryValidationError, UsageError } from '../../../errors.js';
import type { FunnelsQuery, SeriesNode } from '../../../query/schema.js';
import type { QueryContext } from '../../types.js';
import { resolveDateRange, type Interval, type ResolvedDateRange } from '../../../time/index.js';
import { parseFieldExpr, type FieldRef } from '../hogql.js';

export type OrderType = 'ordered' | 'strict' | 'unordered';
export type VizType = 'steps' | 'time_to_convert' | 'trends';
export type Attribution = 'first_touch' | 'last_touch' | 'all_events' | 'step';

export interface StepSpec {
  event: string | null;
  name: string | null;
  customName: string | null;
  properties: unknown;
  optional: boolean;
  /**
   * Series math first_time_for_user: the step matches only the person's first-ever event of
   * this name ('event'), or first-ever event also passing the step's filters ('with_filters').
   */
  firstTime?: 'event' | 'with_filters';
  /** where in the query (for errors) */
  where: string;
}

export interface ExclusionSpec {
  event: string | null;
  properties: unknown;
  from: number;
  to: number;
  where: string;
}

export interface BreakdownProp {
  property: string;
  type: 'event' | 'person' | 'event_metadata';
}

export interface FunnelSpec {
  query: FunnelsQuery;
  steps: StepSpec[];
  exclusions: ExclusionSpec[];
  windowSeconds: number;
  order: OrderType;
  viz: VizType;
  attribution: Attribution;
  attributionStep: number;
  interval: Interval;
  range: ResolvedDateRange;
  globalProperties: unknown;
  breakdown: BreakdownProp[] | null;
  breakdownLimit: number;
  aggregateBy: FieldRef;
  /** explicit aggregation expression was given (not person) */
  aggregateByHogQL: string | null;
  fromStep: number;
  toStep: number | null;
  binCount: number | null;
  optionalSteps: number[];
}

/** DATERANGE_MAP in posthog/utils.py, seconds. */
export const WINDOW_UNIT_SECONDS: Record<string, number> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  week: 7 * 86400,
  month: 31 * 86400,
};

export const BREAKDOWN_VALUES_LIMIT = 25;

function fail(message: string): never {
  throw new QueryValidationError(message);
}

function semanticRepr(p: unknown): string {
  if (!p || typeof p !== 'object') return '';
  const o = p as Record<string, unknown>;
  if (o.type === 'hogql' || o.type === 'cohort') return `${String(o.type)}: ${String(o.key)} ${reprValue(o.value)}`;
  return `${String(o.type ?? 'event')}: ${String(o.key)} ${String(o.operator ?? 'exact')} ${reprValue(o.value)}`;
}
function reprValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}
function propList(props: unknown): string[] {
  if (!Array.isArray(props)) return [];
  return props.map(semanticRepr).filter((s) => s !== '').sort();
}
function sameEvent(a: { event?: string | null; kind?: string }, b: { event?: string | null; kind?: string }): boolean {
  return (a.kind ?? 'EventsNode') === (b.kind ?? 'EventsNode') && (a.event ?? null) === (b.event ?? null);
}
/** entities.is_equal */
function isEqual(a: { event?: string | null; kind?: string; properties?: unknown }, b: { event?: string | null; kind?: string; properties?: unknown }): boolean {
  if (!sameEvent(a, b)) return false;
  return JSON.stringify(propList(a.properties)) === JSON.stringify(propList(b.properties));
}
/** entities.is_superset: a's properties are a sub-multiset of b's. */
function isSuperset(a: { event?: string | null; kind?: string; properties?: unknown }, b: { event?: string | null; kind?: string; properties?: unknown }): boolean {
  if (!sameEvent(a, b)) return false;
  const counts = new Map<string, number>();
  for (const p of propList(b.properties)) counts.set(p, (counts.get(p) ?? 0) + 1);
  for (const p of propList(a.properties)) {
    const n = counts.get(p) ?? 0;
    if (n === 0) return false;
    counts.set(p, n - 1);
  }
  return true;
}

/** PostHog's validation rules, same messages. Throws QueryValidationError (exit 2). */
export function validateFunnelsQuery(q: FunnelsQuery): void {
  const series = q.series;
  const ff = q.funnelsFilter ?? {};
  if (series.length < 2) fail('Funnels require at least two steps.');
  const maxIdx = series.length - 1;
  if (ff.funnelFromStep !== null && ff.funnelFromStep !== undefined) {
    if (!(ff.funnelFromStep >= 0 && ff.funnelFromStep <= maxIdx - 1)) fail(`funnelFromStep is out of bounds. It must be between 0 and ${maxIdx - 1}.`);
  }
  if (ff.funnelToStep !== null && ff.funnelToStep !== undefined) {
    if (!(ff.funnelToStep >= 1 && ff.funnelToStep <= maxIdx)) fail(`funnelToStep is out of bounds. It must be between 1 and ${maxIdx}.`);
    if (ff.funnelFromStep !== null && ff.funnelFromStep !== undefined && ff.funnelFromStep >= ff.funnelToStep) {
      fail('Funnel step range is invalid. funnelToStep should be greater than funnelFromStep.');
    }
  }
  const exclusions = ff.exclusions ?? [];
  if (ff.funnelOrderType === 'unordered') {
    for (const x of exclusions) if (x.funnelFromStep !== 0 || x.funnelToStep !== maxIdx) fail('Partial Exclusions not allowed in unordered funnels');
  }
  for (const x of exclusions) {
    if (x.funnelFromStep >= x.funnelToStep) fail('Exclusion event range is invalid. End of range should be greater than start.');
    if (x.funnelFromStep >= series.length - 1) fail('Exclusion event range is invalid. Start of range is greater than number of steps.');
    if (x.funnelToStep > series.length - 1) fail('Exclusion event range is invalid. End of range is greater than number of steps.');
    for (const entity of series.slice(x.funnelFromStep, x.funnelToStep + 1)) {
      if (isEqual(entity, x) || isSuperset(entity, x)) fail("Exclusion steps cannot contain an event that's part of funnel steps.");
    }
  }
  if (series.some((s) => (s as { optionalInFunnel?: boolean | null }).optionalInFunnel)) {
    const viz = ff.funnelVizType ?? null;
    if (!(viz === null || viz === 'steps') || ff.funnelOrderType === 'unordered') {
      fail('Optional funnel steps are only supported in funnels with step order Sequential or Strict and the graph type "Conversion Steps".');
    }
    if ((series[0] as { optionalInFunnel?: boolean | null }).optionalInFunnel) fail('The first step of a funnel cannot be optional.');
    for (let i = 1; i < series.length; i++) {
      const prev = series[i - 1]!;
      const cur = series[i]!;
      if ((isEqual(prev, cur) || isSuperset(cur, prev)) && (prev as { optionalInFunnel?: boolean | null }).optionalInFunnel && !(cur as { optionalInFunnel?: boolean | null }).optionalInFunnel) {
        fail('An optional step cannot be the same as the following required step.');
      }
    }
  }
  if (ff.funnelOrderType === 'unordered' && ff.breakdownAttributionType === 'step' && (ff.breakdownAttributionValue ?? 0) !== 0) {
    fail('Only the first step can be used for breakdown attribution in unordered funnels');
  }
  if ((ff.funnelVizType ?? 'steps') === 'time_to_convert') {
    const to = ff.funnelToStep || series.length - 1;
    if (!(to > 0 && to < series.length)) {
      fail(`Filter parameter funnel_to_step can only be one of ${Array.from({ length: series.length - 1 }, (_, i) => i + 1).join(', ')} for time to convert!`);
    }
  }
}

function stepOf(node: SeriesNode, i: number): StepSpec {
  const where = `query.series[${i}]`;
  if (node.kind !== 'EventsNode') {
    throw new UsageError(`${where}: ${node.kind} steps (actions) are not supported by the local engine`, 'Use EventsNode steps, or run the query with --engine posthog.');
  }
  const math = node.math;
  return {
    ...(math === 'first_time_for_user' ? { firstTime: 'event' as const } : {}),
    ...(math === 'first_time_for_user_with_filters' ? { firstTime: 'with_filters' as const } : {}),
    event: node.event ?? null,
    name: node.name ?? node.event ?? null,
    customName: node.custom_name ?? null,
    properties: node.properties ?? null,
    optional: !!node.optionalInFunnel,
    where,
  };
}

export function buildFunnelSpec(q: FunnelsQuery, ctx: QueryContext): FunnelSpec {
  validateFunnelsQuery(q);
  const ff = q.funnelsFilter ?? {};
  const steps = q.series.map(stepOf);
  const order: OrderType = ff.funnelOrderType ?? 'ordered';
  const viz: VizType = ff.funnelVizType ?? 'steps';
  const unit = ff.funnelWindowIntervalUnit ?? 'day';
  const windowSeconds = Math.trunc((ff.funnelWindowInterval ?? 14) * WINDOW_UNIT_SECONDS[unit]!);
  if (q.aggregation_group_type_index !== null && q.aggregation_group_type_index !== undefined) {
    throw new UsageError('query.aggregation_group_type_index: group aggregation is not supported by the local engine', 'Run the query with --engine posthog.');
  }
  if (q.samplingFactor !== null && q.samplingFactor !== undefined && q.samplingFactor !== 1) {
    throw new UsageError('query.samplingFactor: sampling is not supported by the local engine (it always reads every event)');
  }
  if ((q as Record<string, unknown>).compareFilter != null) {
    throw new UsageError('query.compareFilter: PostHog\'s FunnelsQuery has no compareFilter (PostHog refuses the query)', 'Run the funnel once per period instead.');
  }
  if (q.interval === 'second') throw new UsageError("query.interval: 'second' is not supported by the local engine for funnels");
  const interval: Interval = q.interval ?? 'day';
  const range = resolveDateRange(q.dateRange ?? null, interval, ctx);

  // PostHog's funnel runner reads only breakdownFilter.breakdown (+ breakdown_type); a
  // `breakdowns` list is ignored there, so it is ignored here too (results without breakdown)
  let breakdown: BreakdownProp[] | null = null;
  const bf = q.breakdownFilter;
  if (bf && bf.breakdown !== null && bf.breakdown !== undefined && bf.breakdown !== '') {
    const type = bf.breakdown_type ?? 'event';
    const list = Array.isArray(bf.breakdown) ? bf.breakdown : [bf.breakdown];
    breakdown = list.map((p) => breakdownProp(String(p), type, 'query.breakdownFilter'));
  }
  const hogql = ff.funnelAggregateByHogQL;
  let aggregateBy: FieldRef = { kind: 'column', column: 'person_id' };
  let aggregateByHogQL: string | null = null;
  if (hogql && hogql.trim() !== '' && hogql.trim() !== 'person_id') {
    aggregateBy = parseFieldExpr(hogql, 'query.funnelsFilter.funnelAggregateByHogQL');
    aggregateByHogQL = hogql;
  }
  const exclusions: ExclusionSpec[] = (ff.exclusions ?? []).map((x, i) => ({
    event: x.event ?? null,
    properties: x.properties ?? null,
    from: x.funnelFromStep,
    to: x.funnelToStep,
    where: `query.funnelsFilter.exclusions[${i}]`,
  }));
  return {
    query: q,
    steps,
    exclusions,
    windowSeconds,
    order,
    viz,
    attribution: ff.breakdownAttributionType ?? 'first_touch',
    attributionStep: ff.breakdownAttributionValue ?? 0,
    interval,
    range,
    globalProperties: q.properties ?? null,
    breakdown,
    breakdownLimit: bf?.breakdown_limit ?? BREAKDOWN_VALUES_LIMIT,
    aggregateBy,
    aggregateByHogQL,
    fromStep: ff.funnelFromStep ?? 0,
    toStep: ff.funnelToStep ?? null,
    binCount: ff.binCount ?? null,
    optionalSteps: steps.map((s, i) => (s.optional ? i + 1 : 0)).filter((x) => x > 0),
  };
}

function breakdownProp(property: string, type: string, where: string): BreakdownProp {
  if (type !== 'event' && type !== 'person' && type !== 'event_metadata') {
    throw new UsageError(`${where}: breakdown type '${type}' is not supported by the local engine`, 'Supported: event, person, event_metadata (or run with --engine posthog).');
  }
  return { property, type };
}
