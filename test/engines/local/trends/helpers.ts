/**
 * Test helpers: an in-memory store filled straight from event objects (no loader involved), so
 * the trends engine can be checked against PostHog's own cases.
 */
import { Store, sqlString } from '../../../../src/store/store.js';
import { taxonomyPropertyKeys } from '../../../../src/events/taxonomy.js';

export interface TestEvent {
  event: string;
  distinct_id: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  uuid?: string;
}

export interface TestPerson {
  distinct_ids: string[];
  properties?: Record<string, unknown>;
}

function uuidFor(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** Open an in-memory store holding the events; persons group distinct ids (default: one each). */
export async function storeWith(events: TestEvent[], persons: TestPerson[] = [], opts: { materialize?: boolean; path?: string } = {}): Promise<Store> {
  const store = await Store.open(opts.path ?? ':memory:');
  const personOf = new Map<string, string>();
  const personProps = new Map<string, Record<string, unknown>>();
  persons.forEach((p, i) => {
    const id = `person-${i}`;
    for (const d of p.distinct_ids) personOf.set(d, id);
    personProps.set(id, p.properties ?? {});
  });
  for (const e of events) {
    if (!personOf.has(e.distinct_id)) {
      const id = `person-d-${e.distinct_id}`;
      personOf.set(e.distinct_id, id);
      personProps.set(id, {});
    }
  }
  const rows = events.map((e, i) => {
    const props = JSON.stringify(e.properties ?? {});
    return `(${sqlString(e.uuid ?? uuidFor(i + 1))}, ${sqlString(e.event)}, ${sqlString(e.distinct_id)}, ${sqlString(personOf.get(e.distinct_id)!)}, ${sqlString(e.timestamp)}::TIMESTAMPTZ, ${sqlString(props)}::JSON)`;
  });
  for (let i = 0; i < rows.length; i += 500) {
    await store.conn.run(`INSERT INTO events (uuid, event, distinct_id, person_id, timestamp, properties) VALUES ${rows.slice(i, i + 500).join(', ')}`);
  }
  // created_at = the person's first event, as `load` derives it
  const firstSeen = new Map<string, string>();
  for (const e of events) {
    const id = personOf.get(e.distinct_id)!;
    const t = new Date(e.timestamp).toISOString();
    if (!firstSeen.has(id) || t < firstSeen.get(id)!) firstSeen.set(id, t);
  }
  const created = (id: string) => (firstSeen.has(id) ? `${sqlString(firstSeen.get(id)!)}::TIMESTAMPTZ` : 'NULL');
  const pRows = [...personProps.entries()].map(([id, props]) => `(${sqlString(id)}, ${sqlString(JSON.stringify(props))}::JSON, ${created(id)})`);
  if (pRows.length) await store.conn.run(`INSERT INTO persons VALUES ${pRows.join(', ')}`);
  const dRows = [...personOf.entries()].map(([d, id]) => `(${sqlString(d)}, ${sqlString(id)})`);
  if (dRows.length) await store.conn.run(`INSERT INTO person_distinct_ids VALUES ${dRows.join(', ')}`);
  if (opts.materialize !== false) await store.materialize(taxonomyPropertyKeys());
  return store;
}
