/**
 * The local TRENDS engine: runs a PostHog TrendsQuery over the DuckDB store with PostHog's
 * semantics (trends_query_runner.py, trends_query_builder.py, aggregation_operations.py,
 * breakdown.py, display.py) and answers in PostHog's TrendsQueryResponse shape.
 *
 * Work split: DuckDB scans and aggregates events per (interval bucket, breakdown value); the
 * small per-bucket result is shaped here (zero fill, breakdown ranking/"other", cumulative sums,
 * labels), exactly as PostHog's outer queries and runner do.
 *
 * Supported: EventsNode series (an event or all events) with math total, dau, weekly_active,
 * monthly_active, unique_session, first_time_for_user, first_matching_event_for_user, property
 * math (sum/avg/min/max/median/p75..p99), count-per-actor math and simple hogql aggregations;
 * intervals minute..month in the team timezone with the team week start; breakdowns on event,
 * person and event_metadata properties (single or `breakdowns`), limits, null/other buckets;
 * compare (previous period or compare_to); cumulative, smoothing and total-value displays;
 * formulas. Not supported locally (an error names the field): actions, cohorts, groups,
 * sessions, histogram breakdowns, sampling. Person properties are read from the persons table
 * (PostHog's "properties at query time" mode).
 */
import { QueryValidationError } from '../../../errors.js';
import type { Store } from '../../../store/store.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import type { TrendsQuery } from '../../../query/schema.js';
import { ACTIVE_MATH, COUNT_PER_ACTOR_MATH, FIRST_TIME_MATH, PROPERTY_MATH, seriesRows, sharedTotalValueRows, type Row, type SeriesNode } from './sql.js';
import {
  CompareToDateRange,
  PreviousPeriodDateRange,
  TrendsDateRange,
  formatDay,
  formatLabel,
  isoNaive,
  toNaive,
  type Interval as TrendsInterval,
} from '../../../time/index.js';
import { compileFormula, naturalCompare } from './formula.js';
import {
  BREAKDOWN_NULL,
  BREAKDOWN_OTHER,
  breakdownLabel,
  breakdownSpec,
  compareValues,
  orderingOf,
  otherValue,
  valueKey,
  type BreakdownSpec,
  type BreakdownValue,
} from './breakdown.js';

/** Displays without a time axis: one aggregated value per series (TrendsDisplay.is_total_value). */
export const TOTAL_VALUE_DISPLAYS = new Set([
  'BoldNumber',
  'ActionsPie',
  'ActionsBarValue',
  'ActionsTable',
  'WorldMap',
  'CalendarHeatmap',
  'ActionsProgress',
]);
export const CUMULATIVE_DISPLAY = 'ActionsLineGraphCumulative';

const SIMPLE_MATH = ['total', 'dau', 'unique_session'];

export const SUPPORTED_MATH = [
  ...SIMPLE_MATH,
  'hogql',
  ...Object.keys(ACTIVE_MATH),
  ...FIRST_TIME_MATH,
  ...Object.keys(PROPERTY_MATH),
  ...Object.keys(COUNT_PER_ACTOR_MATH),
];

const INTERVAL_ORDER: TrendsInterval[] = ['minute', 'hour', 'day', 'week', 'month'];

interface Plan {
  query: TrendsQuery;
  ctx: QueryContext;
  display: string;
  totalValue: boolean;
  cumulative: boolean;
  breakdown?: BreakdownSpec;
  /** number of series in the query (before compare duplication) */
  seriesCount: number;
  /** trendsFilter.smoothingIntervals (applies without a breakdown) */
  smoothing: number;
}

export type TrendsResult = Record<string, unknown>;

/** Run a TrendsQuery on the local store. */
export async function runTrends(store: Store, query: TrendsQuery, ctx: QueryContext): Promise<QueryResponse> {
  const display = query.trendsFilter?.display ?? 'ActionsLineGraph';
  const totalValue = TOTAL_VALUE_DISPLAYS.has(display);
  const cumulative = display === CUMULATIVE_DISPLAY;
  const exact = display === 'BoldNumber';
  const interval = (query.interval ?? 'day') as TrendsInterval;
  validate(query);

  const series = (query.series as SeriesNode[]).map((s) => convertActiveMath(s, interval));
  const plan: Plan = {
    query,
    ctx,
    display,
    totalValue,
    cumulative,
    breakdown: breakdownSpec(query.breakdownFilter, display),
    seriesCount: series.length,
    smoothing: Number((query.trendsFilter as Record<string, unknown> | null | undefined)?.smoothingIntervals ?? 1) || 1,
  };

  const earliestNaive = query.dateRange?.date_from === 'all' ? await earliestEvent(store, ctx.timezone) : undefined;
  const range = new TrendsDateRange(query.dateRange, totalValue ? 'day' : interval, ctx, { exact, earliestNaive });
  const compare = !!query.compareFilter?.compare;
  let previous: TrendsDateRange | undefined;
  if (compare) {
    const compareTo = query.compareFilter?.compare_to;
    previous =
      typeof compareTo === 'string'
        ? new CompareToDateRange(query.dateRange, interval, ctx, compareTo, { exact, earliestNaive })
        : new PreviousPeriodDateRange(query.dateRange, interval, ctx, { exact, earliestNaive });
  }

  // one result list per (series, period): current series first, then the previous period's
  const perQuery: TrendsResult[][] = [];
  const shared = async (r: TrendsDateRange) => sharedTotalValueRows(store, sqlPlan(plan), series.map((s, index) => ({ s, index })), r);
  const currentRows = await shared(range);
  for (const [i, s] of series.entries()) perQuery.push(await runSeries(store, plan, s, i, range, range, compare ? 'current' : undefined, currentRows.get(i)));
  if (previous) {
    const previousRows = await shared(previous);
    for (const [i, s] of series.entries()) perQuery.push(await runSeries(store, plan, s, i, previous, range, 'previous', previousRows.get(i)));
  }

  const formulas = formulaNodes(query);
  let results: TrendsResult[] = [];
  if (formulas.length) {
    const halves = compare ? [perQuery.slice(0, perQuery.length / 2), perQuery.slice(perQuery.length / 2)] : [perQuery];
    formulas.forEach((f, fi) => {
      const apply = compileFormula(f.formula, `query.trendsFilter.formulaNodes[${fi}].formula`);
      for (const half of halves) {
        for (const r of applyFormula(plan, f, apply, half, compare)) results.push({ ...r, order: fi });
      }
    });
  } else {
    for (const list of perQuery) for (const r of list) results.push({ ...r, order: (r.action as { order?: number } | null)?.order ?? 0 });
  }

  let final = results;
  let hasMore = false;
  if (plan.breakdown && results.some((r) => orderingOf(r.breakdown_value as BreakdownValue) === 2)) {
    hasMore = true;
    if (plan.breakdown.hideOther) final = results.filter((r) => orderingOf(r.breakdown_value as BreakdownValue) !== 2);
  }
  return {
    results: final,
    hasMore,
    is_cached: false,
    timezone: ctx.timezone,
    resolved_date_range: { date_from: isoNaive(range.dateFrom(), ctx.timezone), date_to: isoNaive(range.dateTo(), ctx.timezone) },
  };
}

// ---------------------------------------------------------------------------------------------
// validation

function fail(where: string, message: string, hint = 'Run it with --engine posthog, or adjust the query.'): never {
  throw new QueryValidationError(`${where}: ${message}`, hint);
}

function validate(query: TrendsQuery): void {
  if (!Array.isArray(query.series) || query.series.length === 0) fail('query.series', 'a trends query needs at least one series', 'Add an EventsNode, e.g. {"kind": "EventsNode", "event": "$pageview"}.');
  (query.series as SeriesNode[]).forEach((s, i) => {
    const where = `query.series[${i}]`;
    if (s.kind !== 'EventsNode') fail(`${where}.kind`, `${s.kind} series are not supported by the local engine (no actions in the store)`);
    const math = s.math ?? 'total';
    if (!SUPPORTED_MATH.includes(math)) {
      fail(`${where}.math`, `math '${math}' is not supported by the local engine`, `Supported: ${SUPPORTED_MATH.join(', ')}; or run it with --engine posthog.`);
    }
    if (math === 'hogql' && (typeof s.math_hogql !== 'string' || s.math_hogql.trim() === '')) {
      fail(`${where}.math_hogql`, "math 'hogql' needs a math_hogql expression", 'Example: "sum(properties.amount)".');
    }
    if (PROPERTY_MATH[math] && (typeof s.math_property !== 'string' || s.math_property === '')) {
      fail(`${where}.math_property`, `math '${math}' needs a math_property`, 'Name the numeric event property to aggregate.');
    }
    if (s.math_group_type_index !== null && s.math_group_type_index !== undefined) fail(`${where}.math_group_type_index`, 'group math is not supported by the local engine');
    if (s.math_property === '$session_duration' && PROPERTY_MATH[math]) {
      fail(`${where}.math_property`, 'session duration math needs PostHog\'s sessions table, which the local store does not have');
    }
  });
  if (query.aggregation_group_type_index !== null && query.aggregation_group_type_index !== undefined) {
    fail('query.aggregation_group_type_index', 'group aggregation is not supported by the local engine');
  }
  if (query.samplingFactor !== null && query.samplingFactor !== undefined && query.samplingFactor !== 1) {
    fail('query.samplingFactor', 'sampling is not supported by the local engine (it always reads every event)');
  }
  if ((query.interval as string) === 'second') fail('query.interval', "interval 'second' is not supported by the local engine");
  const ic = (query as Record<string, unknown>).intervalCount;
  if (typeof ic === 'number' && ic > 1) fail('query.intervalCount', 'interval counts above 1 are not supported by the local engine');
}

/** convert_active_user_math_based_on_interval: WAU at week+ and MAU at month intervals become dau. */
function convertActiveMath(s: SeriesNode, interval: TrendsInterval): SeriesNode {
  const idx = INTERVAL_ORDER.indexOf(interval);
  if ((s.math === 'weekly_active' && idx >= INTERVAL_ORDER.indexOf('week')) || (s.math === 'monthly_active' && idx >= INTERVAL_ORDER.indexOf('month'))) {
    return { ...s, math: 'dau' };
  }
  return s;
}

async function earliestEvent(store: Store, tz: string): Promise<number | undefined> {
  const r = await store.conn.runAndReadAll('SELECT epoch_us(min(timestamp)) FROM events');
  const v = r.getRows()[0]?.[0];
  return v === null || v === undefined ? undefined : toNaive(Number(v), tz);
}

function sqlPlan(plan: Plan) {
  return { properties: plan.query.properties, timezone: plan.ctx.timezone, weekStart: plan.ctx.weekStart, totalValue: plan.totalValue, cumulative: plan.cumulative, breakdown: plan.breakdown };
}

interface FormulaNode {
  formula: string;
  custom_name?: string | null;
}

/** trendsFilter.formulaNodes, or the older `formulas` / `formula` fields PostHog upgrades into them. */
function formulaNodes(query: TrendsQuery): FormulaNode[] {
  const tf = (query.trendsFilter ?? {}) as Record<string, unknown>;
  if (Array.isArray(tf.formulaNodes) && tf.formulaNodes.length) {
    return (tf.formulaNodes as unknown[]).map((n, i) => {
      const node = n as FormulaNode;
      if (!node || typeof node.formula !== 'string') fail(`query.trendsFilter.formulaNodes[${i}].formula`, 'expected a formula string', 'Example: {"formula": "A / B"}.');
      return node;
    });
  }
  if (Array.isArray(tf.formulas) && tf.formulas.length) return (tf.formulas as unknown[]).map((f) => ({ formula: String(f) }));
  if (typeof tf.formula === 'string' && tf.formula.trim() !== '') return [{ formula: tf.formula }];
  return [];
}

/**
 * TrendsQueryRunner.apply_formula over one period's result lists (one list per series): without a
 * breakdown the first item of each series is combined; with one, items are matched by breakdown
 * value (missing ones count as zeros) and ordered like PostHog.
 */
function applyFormula(
  plan: Plan,
  node: FormulaNode,
  apply: (series: number[][]) => number[],
  results: TrendsResult[][],
  compare: boolean,
): TrendsResult[] {
  if (results.length === 0) return [];
  const combine = (group: TrendsResult[]): TrendsResult => {
    const base: TrendsResult = { ...group[0]! };
    base.label = node.custom_name || `Formula (${node.formula})`;
    base.action = null;
    if (plan.totalValue) {
      const out = apply(group.map((g) => [Number(g.aggregated_value ?? 0)]));
      base.aggregated_value = sum(out);
      base.data = null;
      base.count = 0;
    } else {
      const out = apply(group.map((g) => (g.data as number[] | null) ?? []));
      base.data = out;
      base.count = sum(out);
    }
    return base;
  };
  if (!plan.breakdown && !compare) {
    if (results.some((r) => r.length === 0)) return [];
    return [combine(results.map((r) => r[0]!))];
  }
  const keyOf = (r: TrendsResult) => (plan.breakdown ? r.breakdown_value : r.compare_label) as BreakdownValue;
  const values = new Map<string, BreakdownValue>();
  for (const list of results) for (const r of list) values.set(valueKey(keyOf(r)), keyOf(r));
  const sorted = [...values.values()].sort((a, b) => naturalCompare(Array.isArray(a) ? a.join('\u0000') : a, Array.isArray(b) ? b.join('\u0000') : b));
  const computed: TrendsResult[] = [];
  for (const v of sorted) {
    const k = valueKey(v);
    const match = results.map((list) => list.find((r) => valueKey(keyOf(r)) === k));
    const any = match.find(Boolean);
    if (!any) continue;
    const firstData = (results[0]?.[0]?.data as number[] | undefined) ?? (any.data as number[] | undefined) ?? [];
    const group = match.map(
      (m) =>
        m ?? {
          label: `filler for ${breakdownLabel(v)}`,
          data: new Array<number>(firstData.length).fill(0),
          count: 0,
          aggregated_value: 0,
          action: null,
          breakdown_value: any.breakdown_value,
          compare_label: any.compare_label,
          days: any.days,
          labels: any.labels,
        },
    );
    computed.push(combine(group));
  }
  if (compare) {
    // multisort: compare_label ascending, then count descending (stable)
    return computed
      .map((r, i) => ({ r, i }))
      .sort((x, y) => String(x.r.compare_label).localeCompare(String(y.r.compare_label)) || Number(y.r.count) - Number(x.r.count) || x.i - y.i)
      .map((x) => x.r);
  }
  const rank = (r: TrendsResult) => {
    const bv = r.breakdown_value;
    return bv === BREAKDOWN_NULL ? -1 : bv === BREAKDOWN_OTHER ? -2 : 0;
  };
  const total = (r: TrendsResult) => ('aggregated_value' in r ? Number(r.aggregated_value) : sum((r.data as number[] | null) ?? []));
  const cmpData = (a: number[], b: number[]) => {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  };
  const repr = (v: unknown) => (Array.isArray(v) ? `[${v.map((x) => `'${x}'`).join(', ')}]` : `'${String(v)}'`);
  return computed.sort(
    (a, b) =>
      rank(b) - rank(a) ||
      total(b) - total(a) ||
      Number(b.count) - Number(a.count) ||
      cmpData((b.data as number[] | null) ?? [], (a.data as number[] | null) ?? []) ||
      (repr(b.breakdown_value) < repr(a.breakdown_value) ? -1 : repr(b.breakdown_value) > repr(a.breakdown_value) ? 1 : 0),
  );
}

// ---------------------------------------------------------------------------------------------
// shaping (PostHog's outer query + TrendsQueryRunner.build_series_response)

async function runSeries(
  store: Store,
  plan: Plan,
  s: SeriesNode,
  index: number,
  range: TrendsDateRange,
  labelRange: TrendsDateRange,
  compareLabel: 'current' | 'previous' | undefined,
  precomputed?: Row[],
): Promise<TrendsResult[]> {
  const rows = precomputed ?? (await seriesRows(store, sqlPlan(plan), s, index, range));
  const items = plan.totalValue ? totalValueItems(plan, rows) : timeSeriesItems(plan, rows, range);
  const tz = plan.ctx.timezone;
  const label = typeof s.event === 'string' ? s.event : 'All events';
  const actionDays = range.allValues().map((d) => isoNaive(d, tz));
  const action = {
    days: actionDays,
    id: s.event ?? null,
    type: 'events',
    order: index,
    name: s.event || 'All events',
    custom_name: s.custom_name ?? null,
    math: s.math ?? null,
    math_property: s.math_property ?? null,
    math_hogql: s.math_hogql ?? null,
    math_group_type_index: s.math_group_type_index ?? null,
    properties: {},
  };
  const filter = queryToFilter(plan, range);
  return items.map((it) => {
    const out: TrendsResult = plan.totalValue
      ? { data: [], days: [], count: 0, aggregated_value: it.aggregated, label, filter, action }
      : {
          data: it.data,
          labels: range.allValues().map((d) => formatLabel(d, labelRange)),
          days: range.allValues().map((d) => formatDay(d, range.interval)),
          count: plan.cumulative ? (it.data!.length ? it.data![it.data!.length - 1]! : 0) : sum(it.data!),
          label,
          filter,
          action,
        };
    if (compareLabel) {
      out.compare = true;
      out.compare_label = compareLabel;
    }
    if (plan.breakdown && it.bv !== null) {
      const formatted = breakdownLabel(it.bv);
      out.label = plan.seriesCount > 1 ? `${label} - ${formatted}` : formatted;
      out.breakdown_value = it.bv;
    }
    return out;
  });
}

interface Item {
  bv: BreakdownValue | null;
  data?: number[];
  aggregated?: number;
}

function sum(xs: number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}

/** trendsFilter.smoothingIntervals: floor of the mean of the last n values (fewer at the start). */
function smooth(xs: number[], n: number): number[] {
  return xs.map((_, i) => {
    const from = Math.max(0, i - n + 1);
    const win = xs.slice(from, i + 1);
    return Math.floor(sum(win) / win.length);
  });
}

function runningSum(xs: number[]): number[] {
  let t = 0;
  return xs.map((x) => (t += x));
}

function timeSeriesItems(plan: Plan, rows: Row[], range: TrendsDateRange): Item[] {
  const buckets = range.allValues();
  const index = new Map<number, number>();
  buckets.forEach((b, i) => index.set(b, i));
  const n = buckets.length;
  if (!plan.breakdown) {
    const data = new Array<number>(n).fill(0);
    for (const r of rows) {
      const i = index.get(r.bucket!);
      if (i !== undefined) data[i]! += r.value;
    }
    const shaped = plan.cumulative ? runningSum(data) : data;
    return [{ bv: null, data: plan.smoothing > 1 ? smooth(shaped, plan.smoothing) : shaped }];
  }
  // per breakdown value, per day
  const groups = new Map<string, { bv: BreakdownValue; data: number[] }>();
  for (const r of rows) {
    const i = index.get(r.bucket!);
    if (i === undefined) continue;
    const k = valueKey(r.bv!);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { bv: r.bv!, data: new Array<number>(n).fill(0) }));
    g.data[i]! += r.value;
  }
  // rank by (ordering asc, total desc, value asc); keep the top `limit`, fold the rest into "other"
  const ranked = [...groups.values()]
    .map((g) => ({ ...g, total: sum(g.data), ordering: orderingOf(g.bv) }))
    .sort((a, b) => a.ordering - b.ordering || b.total - a.total || compareValues(a.bv, b.bv));
  const limit = plan.breakdown.limit;
  const kept: { bv: BreakdownValue; data: number[] }[] = [];
  let other: { bv: BreakdownValue; data: number[] } | undefined;
  ranked.forEach((g, i) => {
    if (i < limit) kept.push({ bv: g.bv, data: g.data });
    else {
      other ??= { bv: otherValue(plan.breakdown!), data: new Array<number>(n).fill(0) };
      g.data.forEach((v, j) => (other!.data[j]! += v));
    }
  });
  if (other) kept.push(other);
  const out = kept.map((g) => ({ bv: g.bv, data: plan.cumulative ? runningSum(g.data) : g.data }));
  out.sort((a, b) => orderingOf(a.bv) - orderingOf(b.bv) || sum(b.data) - sum(a.data) || compareValues(a.bv, b.bv));
  return out;
}

function totalValueItems(plan: Plan, rows: Row[]): Item[] {
  if (!plan.breakdown) return [{ bv: null, aggregated: rows.length ? rows[0]!.value : 0 }];
  // rank by total desc (value asc on ties); rows ranked past the limit become "other" and are summed
  const ranked = rows.slice().sort((a, b) => b.value - a.value || compareValues(a.bv!, b.bv!));
  const limit = plan.breakdown.limit;
  const merged = new Map<string, { bv: BreakdownValue; total: number }>();
  ranked.forEach((r, i) => {
    const bv = i + 1 >= limit + 1 ? otherValue(plan.breakdown!) : r.bv!;
    const k = valueKey(bv);
    const m = merged.get(k);
    if (m) m.total += r.value;
    else merged.set(k, { bv, total: r.value });
  });
  return [...merged.values()]
    .sort((a, b) => orderingOf(a.bv) - orderingOf(b.bv) || b.total - a.total || compareValues(a.bv, b.bv))
    .map((m) => ({ bv: m.bv, aggregated: m.total }));
}

/** TrendsQueryRunner._query_to_filter (legacy filter echo). */
function queryToFilter(plan: Plan, range: TrendsDateRange): Record<string, unknown> {
  const q = plan.query;
  const out: Record<string, unknown> = {
    insight: 'TRENDS',
    properties: q.properties ?? undefined,
    filter_test_accounts: q.filterTestAccounts ?? undefined,
    date_to: isoNaive(range.dateTo(), plan.ctx.timezone),
    date_from: isoNaive(range.dateFrom(), plan.ctx.timezone),
    entity_type: 'events',
    sampling_factor: q.samplingFactor ?? undefined,
    aggregation_group_type_index: q.aggregation_group_type_index ?? undefined,
    interval: q.interval ?? undefined,
    ...(q.trendsFilter ?? {}),
    ...(q.breakdownFilter ?? {}),
  };
  for (const k of Object.keys(out)) if (out[k] === undefined || out[k] === null) delete out[k];
  return out;
}


