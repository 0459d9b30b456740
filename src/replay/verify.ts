/**
 * "Which of these uuids does the project hold?" over PostHog's query API, for replay to ask after
 * a request that got no answer (it may have been stored) instead of re-sending blindly.
 *
 * A TrendsQuery counting events per uuid (event_metadata filter and breakdown on uuid) rather than
 * HogQL: it costs one request of the 240/min budget (HogQL queries may be limited to 120/h on
 * older plans), and the sandbox answers it with the same engine as the reports.
 */
import { addDays } from 'date-fns/addDays';
import type { PostHogClient } from '../engines/posthog/client.js';
import type { UuidVerifier } from './replay.js';

const day = (d: Date): string => d.toISOString().slice(0, 10);

/** The query asking PostHog how many stored events carry each uuid (±1 day around the timestamps). */
export function storedUuidsQuery(uuids: readonly string[], from: Date, to: Date): Record<string, unknown> {
  return {
    kind: 'TrendsQuery',
    series: [{ kind: 'EventsNode', event: null, name: 'All events', math: 'total' }],
    dateRange: { date_from: day(addDays(from, -1)), date_to: day(addDays(to, 1)) },
    interval: 'day',
    properties: [{ key: 'uuid', type: 'event_metadata', operator: 'exact', value: [...uuids] }],
    breakdownFilter: { breakdown_type: 'event_metadata', breakdown: 'uuid', breakdown_limit: uuids.length },
    trendsFilter: { display: 'ActionsTable' },
  };
}

export function postHogUuidVerifier(client: PostHogClient): UuidVerifier {
  return async (uuids, from, to) => {
    const r = await client.query(storedUuidsQuery(uuids, from, to) as never, 'discover-metrics replay: stored uuids');
    const wanted = new Set(uuids);
    const have = new Set<string>();
    for (const item of Array.isArray(r.results) ? (r.results as { breakdown_value?: unknown; aggregated_value?: number }[]) : []) {
      const v = String(item.breakdown_value ?? '').toLowerCase();
      if (wanted.has(v) && (item.aggregated_value ?? 0) > 0) have.add(v);
    }
    return have;
  };
}
