/**
 * What a local store holds, in the shape of PostHog's event and property definitions: every event
 * name with its volume and last time seen, and every event and person property key.
 */
import type { Store } from './store.js';

export interface EventDefinition {
  name: string;
  /** Events with this name (the local store counts them all; PostHog gives its 30-day volume). */
  volume: number | null;
  lastSeenAt: string | null;
}

export interface PropertyDefinition {
  name: string;
  type: 'event' | 'person';
}

export interface Definitions {
  events: EventDefinition[];
  properties: PropertyDefinition[];
}

export async function storeDefinitions(store: Store): Promise<Definitions> {
  const ev = await store.conn.runAndReadAll(`SELECT event, count(*), CAST(max(timestamp) AS VARCHAR) FROM events GROUP BY event ORDER BY event`);
  const events = ev.getRows().map(([name, n, last]) => ({ name: String(name), volume: Number(n), lastSeenAt: last === null ? null : String(last) }));
  const keys = async (table: string): Promise<string[]> => {
    const r = await store.conn.runAndReadAll(
      `SELECT DISTINCT k FROM (SELECT unnest(json_keys(properties)) AS k FROM ${table} WHERE json_type(properties) = 'OBJECT') ORDER BY k`,
    );
    return r.getRows().map(([k]) => String(k));
  };
  const properties: PropertyDefinition[] = [
    ...(await keys('events')).map((name) => ({ name, type: 'event' as const })),
    ...(await keys('persons')).map((name) => ({ name, type: 'person' as const })),
  ];
  return { events, properties };
}
