/**
 * The local LIFECYCLE engine: a PostHog LifecycleQuery over the DuckDB store with the semantics of
 * PostHog's lifecycle_query_runner.py, answered in its response shape (one result per status, in
 * the order new, returning, resurrecting, dormant; dormant counts are negative).
 *
 * Per person, over the events of the range widened by one interval on each side:
 *   - the sorted distinct interval starts of their events are their activity;
 *   - the first activity is "new" when it falls in the interval of the person's created_at (the
 *     person's first event ever, as PostHog's person record has it), else "resurrecting";
 *   - a later activity is "returning" when the previous interval was active, else "resurrecting";
 *   - the interval after each activity with no activity is "dormant".
 * Only interval starts inside [date_from, date_to] are counted (whole intervals, or the exact
 * bounds with dateRange.explicitDate). Events with $process_person_profile = false are skipped.
 */
import type { Store } from '../../../store/store.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import type { LifecycleQuery } from '../../../query/schema.js';
import { addInterval, formatDay, formatLabel, isoNaive, startOfInterval as startOf, toNaive, TrendsDateRange, type Interval as TrendsInterval } from '../../../time/index.js';
import { actorActivity, checkCommon, checkEventsSeries, earliestNaive } from '../actor-scan.js';

export const LIFECYCLE_STATUSES = ['new', 'returning', 'resurrecting', 'dormant'] as const;
export type LifecycleStatus = (typeof LIFECYCLE_STATUSES)[number];

/** "$process_person_profile != 'false'" as HogQL prints it (a missing property passes). */
const PERSON_PROFILE_FILTER = `coalesce(json_extract_string(e.properties, '$."$process_person_profile"') <> 'false', TRUE)`;

export async function runLifecycle(store: Store, query: LifecycleQuery, ctx: QueryContext): Promise<QueryResponse> {
  checkEventsSeries(query.series, 'query.series');
  checkCommon(query);
  const series = query.series[0]!;
  const event = series.kind === 'EventsNode' ? series.event : undefined;
  const interval = (query.interval ?? 'day') as TrendsInterval;
  const tz = ctx.timezone;
  const exact = !!query.dateRange?.explicitDate;
  const earliest = query.dateRange?.date_from === 'all' ? await earliestNaive(store, tz, event) : undefined;
  const range = new TrendsDateRange(query.dateRange, interval, ctx, { exact, earliestNaive: earliest });

  const fromStart = range.dateFromStartOfInterval();
  const toStart = range.dateToStartOfInterval();
  const lower = exact ? range.dateFrom() : fromStart;
  const upper = exact ? range.dateTo() : toStart;
  const periods = range.allValues();

  const { buckets: activity, createdUs } = await actorActivity(
    store,
    tz,
    ctx.weekStart,
    {
      event,
      properties: [
        { filters: query.properties, where: 'query.properties' },
        { filters: series.properties, where: 'query.series[0].properties' },
      ],
    },
    { from: addInterval(fromStart, interval, -1), to: addInterval(toStart, interval, 1), toInclusive: false, interval },
    [PERSON_PROFILE_FILTER],
    true,
  );

  const counts = new Map<LifecycleStatus, Map<number, number>>(LIFECYCLE_STATUSES.map((s) => [s, new Map()]));
  const add = (status: LifecycleStatus, period: number) => {
    if (period < lower || period > upper) return;
    const m = counts.get(status)!;
    m.set(period, (m.get(period) ?? 0) + 1);
  };
  for (const [actor, buckets] of activity) {
    const c = createdUs.get(actor);
    const created = c === undefined ? undefined : startOf(toNaive(c, tz), interval, ctx.weekStart);
    buckets.forEach((b, i) => {
      const previous = i === 0 ? created : buckets[i - 1];
      if (previous === b) add('new', b);
      else if (i > 0 && addInterval(b, interval, -1) === previous) add('returning', b);
      else add('resurrecting', b);
      const next = buckets[i + 1];
      const following = addInterval(b, interval, 1);
      if (next !== following) add('dormant', following);
    });
  }

  const label = event === null || event === undefined ? 'All events' : event;
  const action: Record<string, unknown> = { id: event ?? null, name: label, type: 'events', order: 0, math: 'total' };
  if (series.custom_name !== undefined && series.custom_name !== null) action.custom_name = series.custom_name;
  const results = LIFECYCLE_STATUSES.map((status) => {
    const m = counts.get(status)!;
    const data = periods.map((p) => (status === 'dormant' ? 0 - (m.get(p) ?? 0) : m.get(p) ?? 0));
    return {
      action,
      data,
      count: data.reduce((a, b) => a + b, 0),
      labels: periods.map((p) => formatLabel(p, range)),
      days: periods.map((p) => formatDay(p, interval === 'minute' ? 'hour' : interval)),
      label: `${label} - ${status}`,
      status,
    };
  });
  return {
    results,
    is_cached: false,
    timezone: tz,
    resolved_date_range: { date_from: isoNaive(range.dateFrom(), tz), date_to: isoNaive(range.dateTo(), tz) },
  };
}

