/**
 * The local STICKINESS engine: a PostHog StickinessQuery over the DuckDB store with the semantics
 * of PostHog's stickiness_query_runner.py, answered in its response shape. Per series: for each
 * person, the number of intervals of the range in which they sent a matching event (an interval
 * counts only when its event count meets stickinessFilter.stickinessCriteria, default "> 0");
 * data[k-1] is the number of persons active in exactly k intervals (k = 1..intervals in the
 * range), or in k or more with computedAs "cumulative". compareFilter adds the previous period.
 */
import type { Store } from '../../../store/store.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import type { StickinessQuery } from '../../../query/schema.js';
import { QueryValidationError } from '../../../errors.js';
import { CompareToDateRange, PreviousPeriodDateRange, TrendsDateRange, type Interval as TrendsInterval } from '../../../time/index.js';
import { bucketSql, checkCommon, checkEventsSeries, filterSql, tsSql } from '../actor-scan.js';

const CRITERIA_SQL: Record<string, string> = { gte: '>=', lte: '<=', exact: '=' };

export async function runStickiness(store: Store, query: StickinessQuery, ctx: QueryContext): Promise<QueryResponse> {
  checkEventsSeries(query.series, 'query.series');
  checkCommon(query);
  if (query.intervalCount !== null && query.intervalCount !== undefined && query.intervalCount !== 1) {
    throw new QueryValidationError('query.intervalCount: interval counts above 1 are not supported by the local engine', 'Run it with --engine posthog.');
  }
  const interval = (query.interval ?? 'day') as TrendsInterval;
  const exact = !!query.dateRange?.explicitDate;
  const current = new TrendsDateRange(query.dateRange, interval, ctx, { exact });
  const compare = !!query.compareFilter?.compare;
  const compareTo = query.compareFilter?.compare_to;
  const previous = compare
    ? typeof compareTo === 'string'
      ? new CompareToDateRange(query.dateRange, interval, ctx, compareTo, { exact })
      : new PreviousPeriodDateRange(query.dateRange, interval, ctx, { exact })
    : undefined;
  const criteria = query.stickinessFilter?.stickinessCriteria;
  const having = criteria ? `count(*) ${CRITERIA_SQL[criteria.operator]} ${Math.trunc(criteria.value)}` : 'count(*) > 0';
  const cumulative = query.stickinessFilter?.computedAs === 'cumulative';

  const results: Record<string, unknown>[] = [];
  for (const [order, s] of query.series.entries()) {
    const periods: [TrendsDateRange, boolean | undefined][] = previous ? [[current, false], [previous, true]] : [[current, undefined]];
    for (const [range, isPrevious] of periods) {
      const event = s.kind === 'EventsNode' ? s.event : undefined;
      const { from, conds } = filterSql(store, {
        event,
        properties: [
          { filters: query.properties, where: 'query.properties' },
          { filters: s.properties, where: `query.series[${order}].properties` },
        ],
      });
      const lower = range.adjustedDateFrom();
      const upper = range.dateTo();
      const bucket = bucketSql(lower, upper, ctx.timezone, interval, ctx.weekStart);
      const where = [`e.timestamp >= ${tsSql(lower, ctx.timezone)}`, `e.timestamp <= ${tsSql(upper, ctx.timezone)}`, ...conds].join(' AND ');
      const sql =
        `SELECT n, count(*) FROM (SELECT actor, count(*) AS n FROM (` +
        `SELECT e.person_id AS actor, ${bucket} AS b FROM ${from} WHERE ${where} GROUP BY actor, b HAVING ${having}` +
        `) GROUP BY actor) GROUP BY n ORDER BY n`;
      const rows = (await store.conn.runAndReadAll(sql)).getRows().map(([n, c]) => [Number(n), Number(c)] as const);
      const total = range.allValues().length;
      const byN = new Map<number, number>(rows);
      const days = [...new Set([...Array.from({ length: total }, (_, i) => i + 1), ...byN.keys()])].sort((a, b) => a - b);
      let data = days.map((d) => byN.get(d) ?? 0);
      const count = data.reduce((a, b) => a + b, 0);
      if (cumulative) data = data.map((_, i) => data.slice(i).reduce((a, b) => a + b, 0));
      const label = event ?? null;
      const unit = range.interval;
      const out: Record<string, unknown> = {
        count,
        data,
        days,
        label: label ?? 'All events',
        labels: days.map((d) => `${d} ${unit}${d === 1 ? '' : 's'}${cumulative ? ' or more' : ''}`),
        action: { order, type: 'events', name: label ?? 'All events', id: label, custom_name: s.custom_name ?? null },
      };
      if (isPrevious !== undefined) {
        out.compare = true;
        out.compare_label = isPrevious ? 'previous' : 'current';
      }
      results.push(out);
    }
  }
  return { results, is_cached: false, timezone: ctx.timezone };
}
