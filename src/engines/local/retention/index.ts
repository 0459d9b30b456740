/**
 * The local RETENTION engine: a PostHog RetentionQuery over the DuckDB store with the semantics of
 * PostHog's retention query runner (fixed calendar intervals), answered in its response shape:
 * one cohort per interval of the range, each with `totalIntervals` values "Day 0".."Day N-1".
 *
 * The range (QueryDateRangeWithIntervals): date_to is the start of the interval after the one
 * holding dateRange.date_to (exclusive); date_from is the start of dateRange.date_from's interval,
 * or date_to minus totalIntervals intervals when no date_from is given.
 *
 * Per person:
 *   - start intervals: the intervals of the range holding a start ("target") event. With
 *     retention_first_time only the interval of their first start event ever counts (and only
 *     when it is inside the range); retention_first_ever_occurrence takes that first event
 *     without the start entity's property filters.
 *   - for each start interval i the person counts in cohort i at offset 0, and at every offset
 *     k in 1..totalIntervals-1 whose interval (inside the range) holds a return event.
 *   - cumulative: a person counts at every offset up to the last one they returned in.
 */
import type { Store } from '../../../store/store.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import type { RetentionEntity, RetentionQuery } from '../../../query/schema.js';
import { QueryValidationError } from '../../../errors.js';
import { addInterval, isoNaive, startOfInterval as startOf, toInstant, toNaive, TrendsDateRange, US_MINUTE, type Interval as TrendsInterval } from '../../../time/index.js';
import { actorBuckets, checkCommon, earliestNaive, filterSql, type ScanFilter } from '../actor-scan.js';

const DEFAULT_TOTAL_INTERVALS = 7;
const DEFAULT_ENTITY: RetentionEntity = { id: '$pageview', type: 'events' };

function fail(where: string, message: string): never {
  throw new QueryValidationError(`${where}: ${message}`, 'Run it with --engine posthog, or adjust the query.');
}

/** The range of a retention query: interval starts date_range[0..n-1], date_from inclusive, date_to exclusive. */
export interface RetentionRange {
  interval: TrendsInterval;
  dateFrom: number;
  dateTo: number;
  starts: number[];
  lookahead: number;
}

export async function retentionRange(store: Store, query: RetentionQuery, ctx: QueryContext): Promise<RetentionRange> {
  const f = query.retentionFilter;
  const interval = (f.period ?? 'Day').toLowerCase() as TrendsInterval;
  const lookahead = f.totalIntervals ?? DEFAULT_TOTAL_INTERVALS;
  const earliest = query.dateRange?.date_from === 'all' ? await earliestNaive(store, ctx.timezone) : undefined;
  const base = new TrendsDateRange(query.dateRange, interval, ctx, { earliestNaive: earliest });
  const dateTo = startOf(addInterval(base.dateTo(), interval, 1), interval, ctx.weekStart);
  const dateFrom = query.dateRange?.date_from
    ? startOf(base.dateFrom(), interval, ctx.weekStart)
    : startOf(addInterval(dateTo, interval, -lookahead), interval, ctx.weekStart);
  const starts: number[] = [];
  for (let d = dateFrom; d < dateTo; d = addInterval(d, interval)) {
    starts.push(d);
    if (starts.length > 100_000) fail('query.dateRange', 'the range has more than 100000 intervals; use a larger period or a shorter range');
  }
  return { interval, dateFrom, dateTo, starts, lookahead };
}

function entityFilter(e: RetentionEntity, where: string, query: RetentionQuery, withEntityProps = true): ScanFilter {
  if (e.type === 'actions' || e.kind === 'ActionsNode') fail(`${where}.type`, 'action entities are not supported by the local engine (no actions in the store)');
  if (e.type === 'data_warehouse' || e.kind === 'DataWarehouseNode') fail(`${where}.type`, 'data warehouse entities are not supported by the local engine');
  return {
    event: e.id === null || e.id === undefined ? null : String(e.id),
    properties: [
      { filters: query.properties, where: 'query.properties' },
      ...(withEntityProps ? [{ filters: e.properties, where: `${where}.properties` }] : []),
    ],
  };
}

/** Each person's first matching event ever (naive local µs of its interval start). */
async function firstEver(store: Store, f: ScanFilter, range: RetentionRange, ctx: QueryContext): Promise<Map<string, number>> {
  const { from, conds } = filterSql(store, f);
  const sql = `SELECT e.person_id, epoch_us(min(e.timestamp)) FROM ${from}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} GROUP BY e.person_id`;
  const r = await store.conn.runAndReadAll(sql);
  const out = new Map<string, number>();
  for (const [id, us] of r.getRows()) out.set(String(id), startOf(toNaive(Number(us), ctx.timezone), range.interval, ctx.weekStart));
  return out;
}

export async function runRetention(store: Store, query: RetentionQuery, ctx: QueryContext): Promise<QueryResponse> {
  const f = query.retentionFilter;
  checkCommon(query);
  if (query.breakdownFilter && (query.breakdownFilter.breakdown !== null && query.breakdownFilter.breakdown !== undefined || (query.breakdownFilter.breakdowns ?? []).length > 0)) {
    fail('query.breakdownFilter', 'retention breakdowns are not supported by the local engine');
  }
  if (f.timeWindowMode === '24_hour_windows') fail('query.retentionFilter.timeWindowMode', '24 hour windows are not supported by the local engine');
  if (f.retentionCustomBrackets && f.retentionCustomBrackets.length) fail('query.retentionFilter.retentionCustomBrackets', 'custom brackets are not supported by the local engine');
  if ((f.minimumOccurrences ?? 1) > 1) fail('query.retentionFilter.minimumOccurrences', 'minimum occurrences above 1 are not supported by the local engine');
  if (f.aggregationType && f.aggregationType !== 'count') fail('query.retentionFilter.aggregationType', `aggregation '${f.aggregationType}' is not supported by the local engine`);

  const range = await retentionRange(store, query, ctx);
  const tz = ctx.timezone;
  const startEntity = f.targetEntity ?? DEFAULT_ENTITY;
  const returnEntity = f.returningEntity ?? DEFAULT_ENTITY;
  const scan = { from: range.dateFrom, to: range.dateTo, toInclusive: false, interval: range.interval };
  const startFilter = entityFilter(startEntity, 'query.retentionFilter.targetEntity', query);
  const starts = await actorBuckets(store, tz, ctx.weekStart, startFilter, scan);
  const returns = await actorBuckets(store, tz, ctx.weekStart, entityFilter(returnEntity, 'query.retentionFilter.returningEntity', query), scan);

  const type = f.retentionType ?? 'retention_recurring';
  let anchors: Map<string, number> | undefined;
  if (type === 'retention_first_time') anchors = await firstEver(store, startFilter, range, ctx);
  else if (type === 'retention_first_ever_occurrence') {
    anchors = await firstEver(store, entityFilter(startEntity, 'query.retentionFilter.targetEntity', query, false), range, ctx);
  }

  const index = new Map(range.starts.map((s, i) => [s, i]));
  const n = range.starts.length;
  const counts: number[][] = Array.from({ length: n }, () => new Array<number>(range.lookahead).fill(0));
  const actors = new Set([...starts.keys(), ...(type === 'retention_first_ever_occurrence' ? anchors!.keys() : [])]);
  for (const actor of actors) {
    let cohorts: number[];
    if (type === 'retention_recurring') {
      cohorts = (starts.get(actor) ?? []).map((b) => index.get(b)).filter((i): i is number => i !== undefined);
    } else {
      const a = anchors!.get(actor);
      const inRange = a === undefined ? undefined : index.get(a);
      const ok = type === 'retention_first_ever_occurrence' ? inRange !== undefined : inRange !== undefined && (starts.get(actor) ?? []).includes(a!);
      cohorts = ok ? [inRange!] : [];
    }
    if (cohorts.length === 0) continue;
    const back = new Set((returns.get(actor) ?? []).map((b) => index.get(b)).filter((i): i is number => i !== undefined));
    for (const i of cohorts) {
      const offsets = [0];
      for (let k = 1; k < range.lookahead && i + k < n; k++) if (back.has(i + k)) offsets.push(k);
      if (f.cumulative) {
        const max = offsets[offsets.length - 1]!;
        for (let k = 0; k <= max; k++) counts[i]![k]! += 1;
      } else {
        for (const k of offsets) counts[i]![k]! += 1;
      }
    }
  }

  const title = range.interval.charAt(0).toUpperCase() + range.interval.slice(1);
  const results = range.starts.map((s, i) => {
    // PostHog adds the zone's UTC offset to hourly cohort dates (RetentionQueryRunner.get_date)
    const date = range.interval === 'hour' ? s + Math.round((s - toInstant(s, tz)) / US_MINUTE) * US_MINUTE : s;
    return {
      values: counts[i]!.map((count, k) => ({ count, label: `${title} ${k}` })),
      label: `${title} ${i}`,
      date: isoNaive(date, tz),
    };
  });
  return { results, is_cached: false, timezone: tz };
}
