/**
 * Test helpers: build a temporary event store in-process from PostHog-shaped events
 * (rows inserted with SQL, taxonomy keys not materialized unless asked).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Store, sqlString } from '../../../src/store/store.js';

export interface TestEvent {
  event: string;
  distinct_id: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  person_id?: string;
  uuid?: string;
}

export interface TestPerson {
  distinct_ids: string[];
  properties?: Record<string, unknown>;
  id?: string;
}

export interface TempStore {
  store: Store;
  path: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** Person id for a distinct id: the person listing it, else the distinct id itself. */
export function personIdFor(distinctId: string, persons: readonly TestPerson[] = []): string {
  const i = persons.findIndex((p) => p.distinct_ids.includes(distinctId));
  if (i < 0) return `person:${distinctId}`;
  return persons[i]!.id ?? `person:${persons[i]!.distinct_ids[0]}`;
}

export async function tempStore(events: readonly TestEvent[], persons: readonly TestPerson[] = [], materialize: string[] = []): Promise<TempStore> {
  const dir = mkdtempSync(join(tmpdir(), 'dm-engine-'));
  const path = join(dir, 'events.duckdb');
  const store = await Store.open(path);
  const rows = events.map((e) => {
    const pid = e.person_id ?? personIdFor(e.distinct_id, persons);
    return `(${sqlString(e.uuid ?? randomUUID())}::UUID, ${sqlString(e.event)}, ${sqlString(e.distinct_id)}, ${sqlString(pid)}, ${sqlString(e.timestamp)}::TIMESTAMPTZ, ${sqlString(JSON.stringify(e.properties ?? {}))}::JSON)`;
  });
  for (let i = 0; i < rows.length; i += 1000) {
    await store.conn.run(`INSERT INTO events (uuid, event, distinct_id, person_id, timestamp, properties) VALUES ${rows.slice(i, i + 1000).join(',\n')}`);
  }
  const seen = new Set<string>();
  for (const e of events) {
    const pid = e.person_id ?? personIdFor(e.distinct_id, persons);
    if (seen.has(pid)) continue;
    seen.add(pid);
    const p = persons.find((x) => x.distinct_ids.includes(e.distinct_id));
    await store.conn.run(`INSERT INTO persons VALUES (${sqlString(pid)}, ${sqlString(JSON.stringify(p?.properties ?? {}))}::JSON, NULL)`);
    for (const d of p ? p.distinct_ids : [e.distinct_id]) {
      await store.conn.run(`INSERT INTO person_distinct_ids VALUES (${sqlString(d)}, ${sqlString(pid)})`);
    }
  }
  if (materialize.length) await store.materialize(materialize);
  return {
    store,
    path,
    dir,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
