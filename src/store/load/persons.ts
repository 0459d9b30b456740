/**
 * After the inserts, in the load's transaction: uuid dedup, then persons (distinct_id -> person
 * mapping, new persons, properties recomputed from the events of every touched person).
 */
import type { StoreHandle as Store } from '../handle.js';
import { quoteIdent } from '../sql.js';
import type { Source } from '../sources.js';
import type { LoadSummary } from './types.js';
import { derivedPersonSql, derivedUuidSql, PERSON_OPS, scalar } from './sql.js';
import { step } from './phases.js';

export async function finishLoad(
  store: Store,
  before: number,
  read: number,
  sources: Source[],
  givenPersonIds: boolean,
  phase: (what: string) => void = () => {},
): Promise<LoadSummary> {
  const conn = store.conn;
  const batch = `rowid > ${before}`;
  // 1. uuid dedup (keep the stored row, else the earliest in this load)
  phase('removing duplicate uuids');
  const withinDup = read > 0 ? await scalar(store, `SELECT count(*) - count(DISTINCT uuid) FROM events WHERE ${batch}`) : 0;
  const existingDup =
    read > 0 && before >= 0
      ? await scalar(store, `SELECT count(*) FROM events WHERE ${batch} AND uuid IN (SELECT uuid FROM events WHERE rowid <= ${before})`)
      : 0;
  let duplicates = 0;
  if (withinDup > 0 || existingDup > 0) {
    const r = await conn.run(`DELETE FROM events WHERE rowid IN (
      SELECT rid FROM (
        SELECT rowid AS rid, rowid > ${before} AS fresh,
          row_number() OVER (PARTITION BY uuid ORDER BY rowid > ${before}, timestamp, rowid) AS rn
        FROM events WHERE uuid IN (SELECT uuid FROM events WHERE ${batch})
      ) WHERE rn > 1 AND fresh)`);
    duplicates = r.rowsChanged;
  }
  step('dedup');
  const inserted = read - duplicates;
  let persons = 0;
  let remapped = 0;
  let derivedUuids = 0;
  if (inserted > 0) {
    phase('resolving persons');
    ({ persons, remapped } = await resolvePersons(store, before, givenPersonIds));
    step('persons');
    derivedUuids = await scalar(
      store,
      `SELECT count(*) FROM events WHERE ${batch} AND uuid_extract_version(uuid) = 5
        AND uuid = ${derivedUuidSql('event', 'distinct_id', 'timestamp', 'properties')}`,
    );
  }
  step('derived uuids');
  return {
    read,
    inserted,
    duplicates,
    persons,
    files: sources.map((s) => s.display),
    derivedUuids,
    remappedDistinctIds: remapped,
  };
}

async function resolvePersons(store: Store, before: number, givenPersonIds: boolean): Promise<{ persons: number; remapped: number }> {
  const conn = store.conn;
  const batch = `rowid > ${before}`;
  // Per distinct_id in this load: the person ids its rows got (input person_id, else mapping, else
  // derived). Without any person_id in the input, every row got the mapping of its distinct_id
  // (unchanged since the inserts) or the derived id, i.e. the fallback: no need to compare them.
  const fallback = `COALESCE(p.person_id, ${derivedPersonSql('b.distinct_id')})`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_map AS
    SELECT b.distinct_id, p.person_id AS old_pid, b.tmin,
      ${givenPersonIds ? 'CASE WHEN b.pmin = b.pmax THEN b.pmin END' : fallback} AS target,
      ${fallback} AS fallback
    FROM (SELECT distinct_id, ${givenPersonIds ? 'min(person_id) AS pmin, max(person_id) AS pmax, ' : ''}min(timestamp) AS tmin
          FROM events WHERE ${batch} GROUP BY distinct_id) b
    LEFT JOIN person_distinct_ids p ON p.distinct_id = b.distinct_id`);
  const mixed = await scalar(store, `SELECT count(*) FROM dm_map WHERE target IS NULL`);
  if (mixed > 0) {
    // Rows of one distinct_id carry different person ids: the latest given one wins.
    await conn.run(`UPDATE dm_map SET target = x.t FROM (
        SELECT e.distinct_id, arg_max(e.person_id, e.timestamp) AS t
        FROM events e JOIN dm_map d ON d.distinct_id = e.distinct_id
        WHERE e.${batch} AND d.target IS NULL AND e.person_id <> d.fallback GROUP BY e.distinct_id) x
      WHERE dm_map.distinct_id = x.distinct_id`);
    await conn.run(`UPDATE dm_map SET target = fallback WHERE target IS NULL`);
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_chg AS SELECT * FROM dm_map WHERE old_pid IS DISTINCT FROM target`);
  const remapped = await scalar(store, `SELECT count(*) FROM dm_chg WHERE old_pid IS NOT NULL`);
  if (remapped > 0 || mixed > 0) {
    await conn.run(`UPDATE events SET person_id = c.target FROM (
        SELECT distinct_id, target FROM dm_map WHERE (old_pid IS NOT NULL AND old_pid <> target) OR distinct_id IN (
          SELECT distinct_id FROM dm_map WHERE fallback <> target AND old_pid IS NULL)) c
      WHERE events.distinct_id = c.distinct_id AND events.person_id <> c.target`);
  }
  await conn.run(`DELETE FROM person_distinct_ids WHERE distinct_id IN (SELECT distinct_id FROM dm_chg WHERE old_pid IS NOT NULL)`);
  await conn.run(`INSERT INTO person_distinct_ids SELECT distinct_id, target FROM dm_chg`);

  // Persons: create, extend created_at, merge away persons left without distinct ids.
  const created = await conn.run(`INSERT INTO persons (id, properties, created_at)
    SELECT target, '{}'::JSON, min(tmin) FROM dm_map WHERE target NOT IN (SELECT id FROM persons) GROUP BY target`);
  await conn.run(`UPDATE persons SET created_at = x.t FROM (
      SELECT m.target, least(min(m.tmin), min(o.created_at)) AS t FROM dm_map m
      LEFT JOIN dm_chg c ON c.distinct_id = m.distinct_id LEFT JOIN persons o ON o.id = c.old_pid GROUP BY m.target) x
    WHERE persons.id = x.target AND (persons.created_at IS NULL OR x.t < persons.created_at)`);
  await conn.run(`DELETE FROM persons WHERE id IN (SELECT old_pid FROM dm_chg WHERE old_pid IS NOT NULL)
    AND id NOT IN (SELECT person_id FROM person_distinct_ids)`);

  step('person mapping');
  await recomputePersonProperties(store, before);
  await conn.run(`DROP TABLE IF EXISTS dm_map; DROP TABLE IF EXISTS dm_chg`);
  return { persons: created.rowsChanged, remapped };
}

/** Persons whose properties this load can change, recomputed from all their events in timestamp order. */
async function recomputePersonProperties(store: Store, before: number): Promise<void> {
  const conn = store.conn;
  // An operator without a column occurs in no stored event (a load adds the column of every
  // candidate key its events carry, fillLateKeys included): NULL is its value everywhere.
  const col = (k: string) => {
    const c = store.materializedColumn(k);
    return c ? quoteIdent(c) : undefined;
  };
  const ops = PERSON_OPS.map(col);
  const [set, setOnce, unset] = ops.map((c) => c ?? 'NULL::VARCHAR') as [string, string, string];
  const carries = `(${[...ops.filter((c) => c !== undefined).map((c) => `${c} IS NOT NULL`), 'person_properties IS NOT NULL'].join(' OR ')})`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_aff AS
    SELECT DISTINCT person_id FROM (
      SELECT person_id FROM events WHERE rowid > ${before} AND ${carries}
      UNION ALL SELECT target FROM dm_chg WHERE old_pid IS NOT NULL)`);
  const n = await scalar(store, `SELECT count(*) FROM dm_aff`);
  if (n === 0) return;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_snap AS
    SELECT e.person_id, max(e.timestamp) FILTER (WHERE e.person_properties IS NOT NULL) AS snap
    FROM events e JOIN dm_aff a ON a.person_id = e.person_id WHERE ${carries} GROUP BY e.person_id`);
  const reader = await conn.runAndReadAll(`SELECT e.person_id, ${set}, ${setOnce}, ${unset}, CAST(e.person_properties AS VARCHAR)
    FROM events e JOIN dm_snap s ON s.person_id = e.person_id
    WHERE ${carries} AND (s.snap IS NULL OR e.timestamp >= s.snap)
    ORDER BY e.person_id, e.timestamp, (e.person_properties IS NULL), e.uuid`);
  const results = new Map<string, Record<string, unknown>>();
  for (const [pid, s, so, un, snap] of reader.getRows()) {
    const id = String(pid);
    let state = results.get(id) ?? {};
    if (snap !== null && snap !== undefined) state = { ...(parseObject(String(snap)) ?? {}) };
    applyPersonOps(state, parseAny(s), parseAny(so), parseAny(un));
    results.set(id, state);
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_pp (id VARCHAR, properties VARCHAR)`);
  const entries = [...results.entries()];
  for (let i = 0; i < entries.length; i += 5000) {
    const chunk = entries.slice(i, i + 5000).map(([id, p]) => ({ id, p: JSON.stringify(p) }));
    await conn.run(`INSERT INTO dm_pp SELECT x.id, x.p FROM (SELECT unnest(from_json(CAST($1 AS JSON), '[{"id": "VARCHAR", "p": "VARCHAR"}]'), recursive := true)) x`, [
      JSON.stringify(chunk),
    ]);
  }
  await conn.run(`UPDATE persons SET properties = CAST(x.properties AS JSON) FROM dm_pp x WHERE persons.id = x.id`);
  await conn.run(`DROP TABLE IF EXISTS dm_pp; DROP TABLE IF EXISTS dm_snap; DROP TABLE IF EXISTS dm_aff`);
}

function parseAny(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  try {
    return JSON.parse(String(v));
  } catch {
    return String(v);
  }
}

export function parseObject(text: string): Record<string, unknown> | undefined {
  const v = parseAny(text);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** PostHog's person property update for one event: $set_once (absent keys only), $set, $unset. */
export function applyPersonOps(state: Record<string, unknown>, set: unknown, setOnce: unknown, unset: unknown): Record<string, unknown> {
  if (setOnce && typeof setOnce === 'object' && !Array.isArray(setOnce)) {
    for (const [k, v] of Object.entries(setOnce)) if (!(k in state)) state[k] = v;
  }
  if (set && typeof set === 'object' && !Array.isArray(set)) {
    for (const [k, v] of Object.entries(set)) state[k] = v;
  }
  if (Array.isArray(unset)) {
    for (const k of unset) if (typeof k === 'string') delete state[k];
  } else if (unset && typeof unset === 'object') {
    for (const k of Object.keys(unset)) delete state[k];
  } else if (typeof unset === 'string') {
    delete state[unset];
  }
  return state;
}


/**
 * Persons and distinct id mappings rebuilt from the events alone (repair of a store whose load
 * was cut between its events and its persons): each distinct_id maps to the person of its latest
 * event, each person is created at its first event, and properties are recomputed as a load does.
 */
export async function rebuildPersons(store: Store): Promise<void> {
  const conn = store.conn;
  await store.transaction(async () => {
    await conn.run(`DELETE FROM person_distinct_ids`);
    await conn.run(`INSERT INTO person_distinct_ids SELECT distinct_id, arg_max(person_id, timestamp) FROM events GROUP BY distinct_id`);
    await conn.run(`DELETE FROM persons`);
    await conn.run(`INSERT INTO persons (id, properties, created_at) SELECT person_id, '{}'::JSON, min(timestamp) FROM events GROUP BY person_id`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE dm_chg (distinct_id VARCHAR, old_pid VARCHAR, target VARCHAR)`);
    await recomputePersonProperties(store, -1);
    await conn.run(`DROP TABLE IF EXISTS dm_chg`);
  });
}
