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

/** How many stored events carry each of these uuids (absent: none), asked `batch` uuids per query. */
export async function storedUuidCounts(client: PostHogClient, uuids: readonly string[], from: Date, to: Date, batch = 500): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < uuids.length; i += batch) {
    const part = uuids.slice(i, i + batch);
    const r = await client.query(storedUuidsQuery(part, from, to) as never, 'discover-metrics: stored uuids');
    const wanted = new Set(part.map((u) => u.toLowerCase()));
    for (const item of Array.isArray(r.results) ? (r.results as { breakdown_value?: unknown; aggregated_value?: number }[]) : []) {
      const v = String(item.breakdown_value ?? '').toLowerCase();
      const n = Number(item.aggregated_value ?? 0);
      if (wanted.has(v) && n > 0) counts.set(v, (counts.get(v) ?? 0) + n);
    }
  }
  return counts;
}

export function postHogUuidVerifier(client: PostHogClient): UuidVerifier {
  return async (uuids, from, to) => new Set((await storedUuidCounts(client, uuids, from, to, uuids.length || 1)).keys());
}
