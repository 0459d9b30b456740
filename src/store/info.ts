/**
 * What the store holds: counts, date span, event names — data for `store info`.
 */
import type { Store } from './store.js';

export interface StoreInfo {
  path: string;
  events: number;
  persons: number;
  distinctIds: number;
  /** First/last event timestamp (ISO 8601, UTC), null when empty. */
  first: string | null;
  last: string | null;
  eventNames: { name: string; count: number }[];
  /** Property keys stored as columns (fast filters/breakdowns). */
  materialized: string[];
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const d = new Date(String(v).replace(' ', 'T').replace(/\+00$/, 'Z'));
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString();
}

export async function storeInfo(store: Store): Promise<StoreInfo> {
  const c = store.conn;
  const totals = (
    await c.runAndReadAll(`SELECT
      (SELECT count(*) FROM events),
      (SELECT count(*) FROM persons),
      (SELECT count(*) FROM person_distinct_ids),
      (SELECT strftime(min(timestamp) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') FROM events),
      (SELECT strftime(max(timestamp) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') FROM events)`)
  ).getRows()[0]!;
  const names = (await c.runAndReadAll(`SELECT event, count(*) AS n FROM events GROUP BY event ORDER BY n DESC, event`)).getRows();
  return {
    path: store.path,
    events: Number(totals[0]),
    persons: Number(totals[1]),
    distinctIds: Number(totals[2]),
    first: iso(totals[3]),
    last: iso(totals[4]),
    eventNames: names.map(([name, n]) => ({ name: String(name), count: Number(n) })),
    materialized: store.materializedKeys().sort(),
  };
}
