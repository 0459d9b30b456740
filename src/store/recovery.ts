/**
 * A load that was killed: detected on open by the marker file it writes next to the store
 * (`<store>.loading`, removed once the load is committed and checkpointed), then repaired.
 *
 * The load is one DuckDB transaction and every finished load is checkpointed, so the write-ahead
 * log can hold only the killed load's commit. On open with the marker present:
 *   - DuckDB replays that log (the load committed) or finds none (it did not): the store holds
 *     the load in full or not at all;
 *   - a log DuckDB cannot replay is removed: the killed load is rolled back;
 *   - events whose person or distinct id mapping is missing (a half-written store) get their
 *     persons rebuilt from the events, which carry every person id.
 */
import { existsSync, rmSync } from 'node:fs';
import { CORRUPT_STORE_HINT, CORRUPT_STORE_RE, UsageError } from '../errors.js';
import { rebuildPersons } from './load/persons.js';
import { scalar } from './load/sql.js';
import type { StoreHandle as Store } from './handle.js';

export function loadMarkerPath(storePath: string): string {
  return `${storePath}.loading`;
}

/** The store's file is damaged: exit 2 and what to do, instead of an internal error. */
export function corruptStoreError(e: unknown, path: string): UsageError | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  if (!CORRUPT_STORE_RE.test(msg)) return undefined;
  return new UsageError(
    `the event store ${path} is corrupt: ${msg.split('\n')[0]!.replace(/^[A-Za-z ]*Error: /, '')}`,
    CORRUPT_STORE_HINT,
  );
}

/**
 * Repair after a killed load; returns a note saying what was done. `open` opens the file
 * read-write without recovery (the caller's own open).
 */
export async function recoverInterruptedLoad(path: string, open: (path: string) => Promise<Store>): Promise<string> {
  let store: Store;
  let rolledBack = false;
  try {
    store = await open(path);
  } catch (e) {
    if (!/replaying WAL/i.test((e as Error).message) || !existsSync(`${path}.wal`)) throw e;
    rmSync(`${path}.wal`, { force: true });
    rolledBack = true;
    store = await open(path);
  }
  let rebuilt = 0;
  try {
    rebuilt = await scalar(
      store,
      `SELECT (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = e.person_id))
        + (SELECT count(*) FROM (SELECT DISTINCT distinct_id FROM events) d
           WHERE NOT EXISTS (SELECT 1 FROM person_distinct_ids x WHERE x.distinct_id = d.distinct_id))`,
    );
    if (rebuilt > 0) await rebuildPersons(store);
    await store.conn.run('CHECKPOINT');
  } finally {
    await store.close();
  }
  rmSync(loadMarkerPath(path), { force: true });
  if (rolledBack) return 'a load that was killed before it finished has been rolled back: load its files again';
  if (rebuilt > 0) return 'a load that was killed left events without their persons: the persons were rebuilt from the events';
  return 'a load was killed before it finished: the store holds it in full or not at all (loading its files again is harmless)';
}
