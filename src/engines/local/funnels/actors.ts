/**
 * Actor objects for funnel actors queries, shaped like PostHog's ActorsQuery "actor" column:
 * {id, distinct_ids, properties, created_at}.
 */
import { sqlString, type Store } from '../../../store/store.js';

export interface ActorObject {
  id: string | null;
  distinct_ids: string[];
  properties: Record<string, unknown>;
  created_at?: string | null;
}

async function inBatches<T>(ids: string[], fn: (batch: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 5000) out.push(...(await fn(ids.slice(i, i + 5000))));
  return out;
}

export async function actorRows(store: Store, ids: (string | null)[], byPerson: boolean): Promise<ActorObject[]> {
  const actors = ids.map((id) => ({ id, distinct_ids: [] as string[], properties: {} as Record<string, unknown>, created_at: null as string | null }));
  if (byPerson) {
    const byId = new Map(actors.filter((a) => a.id !== null).map((a) => [a.id!, a]));
    const keys = [...byId.keys()];
    const persons = await inBatches(keys, async (batch) => {
      const r = await store.conn.runAndReadAll(
        `SELECT id, properties::VARCHAR, CAST(created_at AS VARCHAR) FROM persons WHERE id IN (${batch.map(sqlString).join(', ')})`,
      );
      return r.getRows();
    });
    for (const [id, props, created] of persons) {
      const a = byId.get(String(id));
      if (!a) continue;
      try {
        a.properties = props ? (JSON.parse(String(props)) as Record<string, unknown>) : {};
      } catch {
        a.properties = {};
      }
      a.created_at = created === null ? null : String(created);
    }
    const dids = await inBatches(keys, async (batch) => {
      const list = batch.map(sqlString).join(', ');
      const r = await store.conn.runAndReadAll(
        `SELECT person_id, distinct_id FROM person_distinct_ids WHERE person_id IN (${list})
         UNION SELECT DISTINCT person_id, distinct_id FROM events WHERE person_id IN (${list})
         ORDER BY 1, 2`,
      );
      return r.getRows();
    });
    for (const [pid, did] of dids) {
      const a = byId.get(String(pid));
      if (a && !a.distinct_ids.includes(String(did))) a.distinct_ids.push(String(did));
    }
  }
  actors.sort((x, y) => String(x.id).localeCompare(String(y.id)));
  return actors;
}
