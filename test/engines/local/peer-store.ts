/**
 * A peer case's events and persons in a temporary store, in-process, as `load` would store them
 * (the case's own person ids and seeded uuids; each person created at its first event), and the
 * case's team settings as the engine's context.
 */
import { personOf, seededUuid, type PeerCase } from '../../peer/harness.js';
import { tempStore, type TempStore } from './helpers.js';
import type { QueryContext } from '../../../src/engines/types.js';

export async function peerCaseStore(c: PeerCase): Promise<TempStore> {
  const events = c.events.map((e, i) => ({ ...e, uuid: seededUuid(`${c.id}/event/${i}`), person_id: personOf(c, e.distinct_id).id }));
  const persons = (c.persons ?? []).map((p) => ({ ...p, id: personOf(c, p.distinct_ids[0]!).id }));
  const t = await tempStore(events, persons);
  await t.store.conn.run('UPDATE persons SET created_at = (SELECT min(timestamp) FROM events e WHERE e.person_id = persons.id)');
  return t;
}

export function peerCaseContext(c: PeerCase): QueryContext {
  return { timezone: c.team?.timezone ?? 'UTC', weekStart: c.team?.week_start_day === 1 ? 1 : 0, now: c.now ? new Date(c.now) : new Date() };
}
