/**
 * The local TRENDS engine: runs a PostHog TrendsQuery over the DuckDB store with PostHog's
 * semantics (trends_query_runner.py, trends_query_builder.py, aggregation_operations.py,
 * breakdown.py, display.py) and answers in PostHog's TrendsQueryResponse shape.
 *
 * Work split: DuckDB scans and aggregates events per (interval bucket, breakdown value); the
 * small per-bucket result is shaped here (zero fill, breakdown ranking/"other", cumulative sums,
 * labels), exactly as PostHog's outer queries and runner do.
 */
import { QueryValidationError, UsageError } from '../../../errors.js';
import type { Store } from '../../../store/store.js';
import { sqlString } from '../../../store/store.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import type { TrendsQuery } from '../../../query/schema.js';
import { propertyFiltersSql, usesPersonProperties } from '../filters.js';
import {
  CompareToDateRange,
  PreviousPeriodDateRange,
  TrendsDateRange,
  US_DAY,
  formatDay,
  formatLabel,
  isoNaive,
  toInstant,
  toNaive,
  type TrendsInterval,
} from './range.js';
import {
  breakdownLabel,
  breakdownSpec,
  breakdownUsesPersons,
  breakdownValueSql,
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
const PROPERTY_MATH: Record<string, string> = {
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
  median: 'q:0.5',
  p75: 'q:0.75',
  p90: 'q:0.9',
  p95: 'q:0.95',
  p99: 'q:0.99',
};
const COUNT_PER_ACTOR_MATH: Record<string, string> = {
  avg_count_per_actor: 'avg',
  min_count_per_actor: 'min',
  max_count_per_actor: 'max',
  median_count_per_actor: 'q:0.5',
  p75_count_per_actor: 'q:0.75',
  p90_count_per_actor: 'q:0.9',
  p95_count_per_actor: 'q:0.95',
  p99_count_per_actor: 'q:0.99',
};
const ACTIVE_MATH: Record<string, number> = { weekly_active: 7, monthly_active: 30 };
const FIRST_TIME_MATH = ['first_time_for_user', 'first_matching_event_for_user'];

export const SUPPORTED_MATH = [
  ...SIMPLE_MATH,
  ...Object.keys(ACTIVE_MATH),
  ...FIRST_TIME_MATH,
  ...Object.keys(PROPERTY_MATH),
  ...Object.keys(COUNT_PER_ACTOR_MATH),
];

const INTERVAL_ORDER: TrendsInterval[] = ['minute', 'hour', 'day', 'week', 'month'];

interface SeriesNode {
  kind: string;
  event?: string | null;
  name?: string | null;
  custom_name?: string | null;
  math?: string | null;
  math_property?: string | null;
  math_property_type?: string | null;
  math_hogql?: string | null;
  math_group_type_index?: number | null;
  properties?: unknown;
  [k: string]: unknown;
}

interface Plan {
  query: TrendsQuery;
  ctx: QueryContext;
  display: string;
  totalValue: boolean;
  cumulative: boolean;
  breakdown?: BreakdownSpec;
  /** number of series in the query (before compare duplication) */
  seriesCount: number;
}

interface Row {
  bucket: number | null;
  bv: BreakdownValue | null;
  value: number;
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

  const results: TrendsResult[] = [];
  for (const [i, s] of series.entries()) results.push(...(await runSeries(store, plan, s, i, range, range, compare ? 'current' : undefined)));
  if (previous) {
    for (const [i, s] of series.entries()) results.push(...(await runSeries(store, plan, s, i, previous, range, 'previous')));
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
    if (PROPERTY_MATH[math] && (typeof s.math_property !== 'string' || s.math_property === '')) {
      fail(`${where}.math_property`, `math '${math}' needs a math_property`, 'Name the numeric event property to aggregate.');
    }
    if (s.math_group_type_index !== null && s.math_group_type_index !== undefined) fail(`${where}.math_group_type_index`, 'group math is not supported by the local engine');
  });
  if (query.aggregation_group_type_index !== null && query.aggregation_group_type_index !== undefined) {
    fail('query.aggregation_group_type_index', 'group aggregation is not supported by the local engine');
  }
  if (query.samplingFactor !== null && query.samplingFactor !== undefined && query.samplingFactor !== 1) {
    fail('query.samplingFactor', 'sampling is not supported by the local engine (it always reads every event)');
  }
  if (query.trendsFilter?.formula) fail('query.trendsFilter.formula', 'formulas are not supported by the local engine');
  const tf = query.trendsFilter as Record<string, unknown> | null | undefined;
  if (tf && Array.isArray(tf.formulaNodes) && tf.formulaNodes.length > 0) fail('query.trendsFilter.formulaNodes', 'formulas are not supported by the local engine');
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

// ---------------------------------------------------------------------------------------------
// SQL

function ts(naive: number, tz: string): string {
  return `make_timestamptz(${toInstant(naive, tz)}::BIGINT)`;
}

function localTs(tz: string, col = 'e.timestamp'): string {
  return `timezone(${sqlString(tz)}, ${col})`;
}

/** toStartOf<Interval> on a local (naive) TIMESTAMP expression. */
function bucketSql(local: string, interval: TrendsInterval, weekStart: 0 | 1): string {
  switch (interval) {
    case 'week':
      return weekStart === 1 ? `date_trunc('week', ${local})` : `(date_trunc('week', ${local} + INTERVAL 1 DAY) - INTERVAL 1 DAY)`;
    default:
      return `date_trunc('${interval}', ${local})`;
  }
}

interface ScanParts {
  from: string;
  /** WHERE conditions other than time */
  filters: string[];
  /** event name condition (separate: first-time math applies it differently) */
  eventCond?: string;
  bvCols: string[];
}

function scanParts(store: Store, plan: Plan, s: SeriesNode, seriesIndex: number): ScanParts {
  const needPersons =
    usesPersonProperties(plan.query.properties) ||
    usesPersonProperties(s.properties) ||
    breakdownUsesPersons(plan.breakdown) ||
    (s.math_property_type === 'person_properties' && !!s.math_property);
  const from = needPersons ? 'events e LEFT JOIN persons p ON p.id = e.person_id' : 'events e';
  const filters: string[] = [];
  const env = { store, eventAlias: 'e', personAlias: 'p' };
  const g = propertyFiltersSql(plan.query.properties, { ...env, where: 'query.properties' });
  if (g !== 'TRUE') filters.push(g);
  const sp = propertyFiltersSql(s.properties, { ...env, where: `query.series[${seriesIndex}].properties` });
  if (sp !== 'TRUE') filters.push(sp);
  const eventCond = typeof s.event === 'string' ? `e.event = ${sqlString(s.event)}` : undefined;
  const bvCols = plan.breakdown ? plan.breakdown.parts.map((p) => breakdownValueSql(store, p)) : [];
  return { from, filters, eventCond, bvCols };
}

function mathPropertySql(store: Store, s: SeriesNode): string {
  const key = s.math_property!;
  if (s.math_property_type === 'person_properties') return `TRY_CAST(json_extract_string(p.properties, ${sqlString(`$."${key.replace(/"/g, '\\"')}"`)}) AS DOUBLE)`;
  if (key === '$time') return 'epoch(e.timestamp)';
  const col = store.materializedColumn(key);
  const raw = col ? `e."${col.replace(/"/g, '""')}"` : `json_extract_string(e.properties, ${sqlString(`$."${key.replace(/"/g, '\\"')}"`)})`;
  return `TRY_CAST(${raw} AS DOUBLE)`;
}

function aggSql(fn: string, x: string): string {
  if (fn.startsWith('q:')) return `coalesce(quantile_cont(${x}, ${fn.slice(2)}), 0)`;
  return `coalesce(${fn}(${x}), 0)`;
}

function bvSelect(n: number): string {
  return Array.from({ length: n }, (_, i) => `, bv${i}`).join('');
}

async function readRows(store: Store, sql: string, hasBucket: boolean, nBv: number, multiple: boolean): Promise<Row[]> {
  const r = await store.conn.runAndReadAll(sql);
  return r.getRows().map((row) => {
    let i = 0;
    const bucket = hasBucket ? Number(row[i++]) : null;
    let bv: BreakdownValue | null = null;
    if (nBv > 0) {
      const vals = row.slice(i, i + nBv).map((v) => String(v));
      i += nBv;
      bv = multiple ? vals : vals[0]!;
    }
    const v = row[i];
    return { bucket, bv, value: v === null || v === undefined ? 0 : Number(v) };
  });
}

/** Rows (bucket, breakdown value, value) for one series over one date range. */
async function seriesRows(store: Store, plan: Plan, s: SeriesNode, seriesIndex: number, range: TrendsDateRange): Promise<Row[]> {
  const tz = plan.ctx.timezone;
  const math = s.math ?? 'total';
  const parts = scanParts(store, plan, s, seriesIndex);
  const nBv = parts.bvCols.length;
  const multiple = !!plan.breakdown?.multiple;
  const bvCols = parts.bvCols.map((c, i) => `, ${c} AS bv${i}`).join('');
  const bvs = bvSelect(nBv);
  const groupBv = nBv > 0 ? Array.from({ length: nBv }, (_, i) => `bv${i}`) : [];
  const bucket = bucketSql(localTs(tz), range.interval, plan.ctx.weekStart);

  if (ACTIVE_MATH[math]) return activeUsersRows(store, plan, s, range, parts, ACTIVE_MATH[math]!);
  if (FIRST_TIME_MATH.includes(math)) return firstTimeRows(store, plan, s, range, parts);

  const where = [
    `e.timestamp >= ${ts(range.adjustedDateFrom(), tz)}`,
    `e.timestamp <= ${ts(range.dateTo(), tz)}`,
    ...(parts.eventCond ? [parts.eventCond] : []),
    ...parts.filters,
  ].join(' AND ');

  const timeCol = plan.totalValue ? '' : `epoch_us(${bucket}) AS b, `;
  const bSel = plan.totalValue ? '' : 'b, ';
  const groupCols = [...(plan.totalValue ? [] : ['b']), ...groupBv];
  const groupBy = groupCols.length ? ` GROUP BY ${groupCols.join(', ')}` : '';

  // cumulative unique users: each actor counts once, on the first interval it is seen
  if (!plan.totalValue && plan.cumulative && math === 'dau') {
    const sql =
      `WITH ev AS (SELECT e.person_id AS actor, ${bucket} AS bt${bvCols} FROM ${parts.from} WHERE ${where}), ` +
      `firsts AS (SELECT actor${bvs}, epoch_us(min(bt)) AS b FROM ev GROUP BY actor${bvs}) ` +
      `SELECT b${bvs}, count(*) FROM firsts GROUP BY b${bvs}`;
    return readRows(store, sql, true, nBv, multiple);
  }

  if (COUNT_PER_ACTOR_MATH[math]) {
    const fn = COUNT_PER_ACTOR_MATH[math]!;
    const inner = `SELECT ${timeCol}e.person_id AS actor${bvCols}, count(*) AS c FROM ${parts.from} WHERE ${where} GROUP BY ${[...(plan.totalValue ? [] : ['b']), 'actor', ...groupBv].join(', ')}`;
    const sql = `SELECT ${bSel}${groupBv.length ? groupBv.join(', ') + ', ' : ''}${aggSql(fn, 'c')} FROM (${inner})${groupBy}`;
    return readRows(store, sql, !plan.totalValue, nBv, multiple);
  }

  let agg: string;
  let extra = '';
  if (math === 'total') agg = 'count(*)';
  else if (math === 'dau') agg = 'count(DISTINCT e.person_id)';
  else if (math === 'unique_session') {
    agg = 'count(DISTINCT coalesce(sid, \'\'))';
    extra = `, ${propertyRaw(store, '$session_id')} AS sid`;
  } else {
    agg = aggSql(PROPERTY_MATH[math]!, 'mp');
    extra = `, ${mathPropertySql(store, s)} AS mp`;
  }
  if (math === 'total' || math === 'dau') {
    const sql = `SELECT ${timeCol}${groupBv.map((g, i) => `${parts.bvCols[i]} AS ${g}, `).join('')}${agg} FROM ${parts.from} WHERE ${where}${groupBy}`;
    return readRows(store, sql, !plan.totalValue, nBv, multiple);
  }
  const sql = `SELECT ${bSel}${groupBv.length ? groupBv.join(', ') + ', ' : ''}${agg} FROM (SELECT ${timeCol}1 AS one${bvCols}${extra} FROM ${parts.from} WHERE ${where})${groupBy}`;
  return readRows(store, sql, !plan.totalValue, nBv, multiple);
}

function propertyRaw(store: Store, key: string): string {
  const col = store.materializedColumn(key);
  return col ? `e."${col.replace(/"/g, '""')}"` : `json_extract_string(e.properties, ${sqlString(`$."${key}"`)})`;
}

/**
 * weekly_active / monthly_active (aggregation_operations.py): events from date_from - N days are
 * reduced to (start of day — of hour for hourly — , actor); the value at bucket d counts distinct
 * actors with d - N days < t <= d. On total-value displays: distinct actors in the N days ending
 * at date_to.
 */
async function activeUsersRows(store: Store, plan: Plan, _s: SeriesNode, range: TrendsDateRange, parts: ScanParts, days: number): Promise<Row[]> {
  const tz = plan.ctx.timezone;
  const nBv = parts.bvCols.length;
  const bvs = bvSelect(nBv);
  const bvCols = parts.bvCols.map((c, i) => `, ${c} AS bv${i}`).join('');
  const unit = range.interval === 'hour' ? 'hour' : range.interval === 'minute' ? 'minute' : 'day';
  const lower = plan.totalValue ? range.dateTo() - days * US_DAY : range.dateFrom() - days * US_DAY;
  const where = [
    `e.timestamp >= ${ts(lower, tz)}`,
    `e.timestamp <= ${ts(range.dateTo(), tz)}`,
    ...(parts.eventCond ? [parts.eventCond] : []),
    ...parts.filters,
  ].join(' AND ');
  const buckets = range.allValues();
  if (buckets.length === 0) return [];
  const dList = buckets.map((b) => `make_timestamp(${b}::BIGINT)`).join(', ');
  const reduced = `SELECT DISTINCT date_trunc('${unit}', ${localTs(tz)}) AS t, e.person_id AS actor${bvCols} FROM ${parts.from} WHERE ${where}`;
  const joined =
    `WITH r AS (${reduced}), d AS (SELECT unnest([${dList}]) AS d) ` +
    `SELECT d.d AS d, r.actor AS actor${bvs.replace(/bv/g, 'r.bv')} FROM r JOIN d ON r.t <= d.d AND r.t > d.d - INTERVAL ${days} DAY`;
  if (plan.totalValue) {
    const sql = `SELECT ${nBv ? Array.from({ length: nBv }, (_, i) => `bv${i}`).join(', ') + ', ' : ''}count(DISTINCT actor) FROM (${joined})${nBv ? ` GROUP BY ${Array.from({ length: nBv }, (_, i) => `bv${i}`).join(', ')}` : ''}`;
    const rows = await readRows(store, sql, false, nBv, !!plan.breakdown?.multiple);
    return rows;
  }
  const sql = `SELECT epoch_us(d) AS b${bvs}, count(DISTINCT actor) FROM (${joined}) GROUP BY b${bvs}`;
  return readRows(store, sql, true, nBv, !!plan.breakdown?.multiple);
}

/**
 * first_time_for_user (FirstTimeForUserEventsQueryAlternator): per person, the first ever event
 * of the series (up to date_to, any properties) must itself pass the filters and fall inside the
 * range; it is counted in its bucket. first_matching_event_for_user: the first event that passes
 * the filters must fall inside the range. Breakdown values come from that first event.
 */
async function firstTimeRows(store: Store, plan: Plan, s: SeriesNode, range: TrendsDateRange, parts: ScanParts): Promise<Row[]> {
  const tz = plan.ctx.timezone;
  const nBv = parts.bvCols.length;
  const bvs = bvSelect(nBv);
  const filters = parts.filters.length ? parts.filters.map((f) => `(${f})`).join(' AND ') : 'TRUE';
  const matching = s.math === 'first_matching_event_for_user' && parts.filters.length > 0;
  const where = [`e.timestamp <= ${ts(range.dateTo(), tz)}`, ...(parts.eventCond ? [parts.eventCond] : [])].join(' AND ');
  const minTs = matching ? `min(e.timestamp) FILTER (WHERE ${filters})` : 'min(e.timestamp)';
  const cond = `e.timestamp >= ${ts(range.adjustedDateFrom(), tz)} AND ${filters}`;
  const bvAgg = parts.bvCols
    .map((c, i) => `, ${matching ? `arg_min(${c}, e.timestamp) FILTER (WHERE ${filters})` : `arg_min(${c}, e.timestamp)`} AS bv${i}`)
    .join('');
  const firsts =
    `SELECT e.person_id AS actor, ${minTs} AS min_ts, min(e.timestamp) FILTER (WHERE ${cond}) AS min_cond${bvAgg} ` +
    `FROM ${parts.from} WHERE ${where} GROUP BY e.person_id HAVING min_ts = min_cond`;
  if (plan.totalValue) {
    const sql = `SELECT ${nBv ? Array.from({ length: nBv }, (_, i) => `bv${i}`).join(', ') + ', ' : ''}count(*) FROM (${firsts})${nBv ? ` GROUP BY ${Array.from({ length: nBv }, (_, i) => `bv${i}`).join(', ')}` : ''}`;
    return readRows(store, sql, false, nBv, !!plan.breakdown?.multiple);
  }
  const bucket = bucketSql(localTs(tz, 'min_ts'), range.interval, plan.ctx.weekStart);
  const sql = `SELECT epoch_us(${bucket}) AS b${bvs}, count(*) FROM (${firsts}) GROUP BY b${bvs}`;
  return readRows(store, sql, true, nBv, !!plan.breakdown?.multiple);
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
): Promise<TrendsResult[]> {
  const rows = await seriesRows(store, plan, s, index, range);
  const items = plan.totalValue ? totalValueItems(plan, rows) : timeSeriesItems(plan, rows, range);
  const tz = plan.ctx.timezone;
  const label = typeof s.event === 'string' ? s.event : 'All events';
  const actionDays = range.allValues().map((d) => isoNaive(d, tz));
  const action = {
    days: actionDays,
    id: s.event ?? null,
    type: 'events',
    order: index,
    name: s.event ?? 'All events',
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
    return [{ bv: null, data: plan.cumulative ? runningSum(data) : data }];
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


