/**
 * Loading events into the store — all or nothing, idempotent on uuid, persons as PostHog keeps them.
 *
 * Fast path (SQL, one transaction): each file is read by DuckDB's own reader (read_json /
 * read_csv / read_parquet, gzip inflated by DuckDB) and inserted straight into `events` with
 * every row validated in the same statement; a bad row makes the statement fail (DuckDB's
 * error()), the transaction rolls back and a slower diagnosis pass reads the file in JS to name
 * the first bad row's place (file:line, file[index], file: row N) and field.
 *
 * Materialized property columns are added as keys occur: the keys in a source's first rows, in
 * lines sampled across a big JSONL file, and those the vocabulary gives the events seen get
 * their columns before its insert and are extracted by it; the insert counts the rows with a
 * value for another candidate key, and only when there are some does a scan of the batch add and
 * fill those columns (fillLateKeys). A candidate key without a column thus has a value in no
 * stored event, and queries read it from the JSON.
 *
 * Rows are stored in input order (preserve_insertion_order, and no join in the insert), so a
 * load's row order does not depend on thread timing.
 *
 * After the inserts (same transaction):
 *   - uuid dedup: rows whose uuid is already stored, or repeated within the load, are removed
 *     (PostHog dedups on uuid), so loading a file twice is harmless;
 *   - persons: distinct_id -> person via person_distinct_ids; an event's person_id (PostHog
 *     exports) sets the mapping (the latest event wins, re-pointing older events: several
 *     distinct_ids become one person); otherwise a new person per distinct_id with a derived id;
 *   - person properties are recomputed for touched persons from their events in timestamp order:
 *     an event's person_properties (export snapshot) replaces them, then `$set_once` (only keys
 *     not present), `$set` (overwrite), `$unset` (remove) from its properties.
 *
 * Events without a uuid get a deterministic UUID (version 5 layout, SHA-1 of event, distinct_id,
 * timestamp in microseconds and the minified properties JSON), so re-loading stays idempotent.
 *
 * This file is the API and the load's order of work; the parts live in load/: sql.ts (the
 * insert's SQL, late keys), sample.ts (keys guessed before an insert), persons.ts (dedup,
 * persons), strict.ts (--strict-vocabulary), diagnose.ts (naming the first bad row), phases.ts,
 * memory.ts (DuckDB's memory capped while loading), run.ts (the insert run without a busy wait).
 */
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { DmError, InputError, UsageError } from '../errors.js';
import type { Store } from './store.js';
import { sqlString } from './sql.js';
import { openSources, type Source } from './sources.js';
import { diagnose } from './load/diagnose.js';
import { finishLoad } from './load/persons.js';
import { pauseForTest, step } from './load/phases.js';
import { ReadWatcher } from './load/progress.js';
import { capLoadMemory } from './load/memory.js';
import { runWithoutSpinning } from './load/run.js';
import { corruptStoreError, loadMarkerPath } from './recovery.js';
import {
  counted,
  disabledOptimizers,
  fillLateKeys,
  insertSql,
  LATE_SEQ,
  PID_SEQ,
  REMAP_TYPE,
  REMAP_VAR,
  scalar,
  withBuildSideKept,
  type Batch,
} from './load/sql.js';
import { locateStrict, strictCheck, StrictVocabularyError } from './load/strict.js';
import type { LoadOptions, LoadSummary, RawEvent } from './load/types.js';
import { debug } from '../debug.js';
import { refreshSessionIndex } from './session-index.js';

export { PERSON_OPS, derivePersonId } from './load/sql.js';
export { deriveEventUuid } from '../events/uuid.js';
export { applyPersonOps } from './load/persons.js';
export { checkRecord } from './load/diagnose.js';
export type { LoadOptions, LoadSummary, RawEvent } from './load/types.js';
export type { LoadProgress, OnLoadProgress } from './load/progress.js';

// -------------------------------------------------------------------------------------------------
// Public API

/** Load files (`-` = stdin) in one transaction. Throws InputError (exit 2) naming the place. */
export async function loadFiles(store: Store, paths: string[], opts: LoadOptions = {}): Promise<LoadSummary> {
  if (store.readOnly) throw new UsageError(`the event store ${store.path} is open read-only`);
  const opened = await openSources(paths, opts.stdin, opts.onProgress);
  let summary: LoadSummary;
  try {
    summary = await markedLoad(store, () => loadSources(store, opened.sources, opts));
  } finally {
    opened.cleanup();
  }
  if (opts.sessionIndex !== false) await refreshSessionIndex(store);
  return summary;
}

/**
 * A load that survives being killed at any point (see recovery.ts): the store is checkpointed
 * first, so the write-ahead log will hold this load's commit only, and a marker file says a load
 * is under way until the load is committed and checkpointed.
 */
async function markedLoad(store: Store, load: () => Promise<LoadSummary>): Promise<LoadSummary> {
  if (store.path === ':memory:') return load();
  const marker = loadMarkerPath(store.path);
  await store.conn.run('CHECKPOINT');
  writeFileSync(marker, `${JSON.stringify({ pid: process.pid, started: new Date().toISOString() })}\n`);
  pauseForTest('marked');
  let summary: LoadSummary;
  try {
    summary = await load();
  } catch (e) {
    rmSync(marker, { force: true }); // rolled back: nothing half-done
    throw e;
  }
  pauseForTest('committed');
  const checkpoint = store.conn.run('CHECKPOINT');
  pauseForTest('checkpoint');
  await checkpoint;
  rmSync(marker, { force: true });
  pauseForTest('done');
  return summary;
}

/**
 * Load in-memory events (sandbox capture, seed, tests) through the same SQL path. All or
 * nothing; errors name `${where}[index]`.
 */
export async function loadEvents(
  store: Store,
  events: Iterable<RawEvent> | AsyncIterable<RawEvent>,
  opts: LoadOptions & { where?: string } = {},
): Promise<LoadSummary> {
  if (store.readOnly) throw new UsageError(`the event store ${store.path} is open read-only`);
  const where = opts.where ?? 'events';
  const dir = mkdtempSync(join(tmpdir(), 'dm-load-'));
  try {
    const file = join(dir, 'events.jsonl');
    const out = createWriteStream(file);
    let buf = '';
    let i = 0;
    for await (const e of events as AsyncIterable<RawEvent>) {
      if (e === null || typeof e !== 'object' || Array.isArray(e)) {
        out.destroy();
        throw new InputError(`${where}[${i}]`, 'expected an event object');
      }
      buf += JSON.stringify(e) + '\n';
      i++;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
    out.end(buf);
    await once(out, 'finish');
    const src: Source = { display: where, path: file, format: 'jsonl', gzip: false, lineWhere: (line) => `${where}[${line - 1}]` };
    const summary = await loadSources(store, [src], opts);
    if (opts.sessionIndex !== false) await refreshSessionIndex(store);
    return { ...summary, files: [where] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// -------------------------------------------------------------------------------------------------
// The load

async function loadSources(store: Store, sources: Source[], opts: LoadOptions): Promise<LoadSummary> {
  const conn = store.conn;
  const pio = await conn.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`);
  const previousPio = String(pio.getRows()[0]?.[0]) === 'true';
  const previousDisabled = await disabledOptimizers(store);
  // Rows are stored in input order, so a load's store does not depend on thread timing (funnels
  // break ties in time by scan order). DuckDB still inserts on every thread (its batch insert); a
  // join in the insert would reorder its rows (even with this setting) and run it on one thread,
  // so the insert has none (nor an IN list of 5+ values, which DuckDB turns into a join).
  await conn.run(`SET preserve_insertion_order = true`);
  // Each insert thread writes its row groups out one at a time instead of buffering 5 (~0.6 GB
  // on the bench): fresh memory costs a page fault per 4 KiB, ~0.5-1 CPU-s per 2M events.
  const previousBuffer = String(
    (await conn.runAndReadAll(`SELECT current_setting('write_buffer_row_group_count')`)).getRows()[0]?.[0] ?? '5',
  );
  await conn.run(`SET write_buffer_row_group_count = 1`);
  const restoreMemory = await capLoadMemory(store);
  try {
    let failed: { source: Source; error: unknown } | undefined;
    let summary: LoadSummary | undefined;
    try {
      summary = await store.transaction(async () => {
        step('start');
        const before = Number((await conn.runAndReadAll(`SELECT COALESCE(max(rowid), -1) FROM events`)).getRows()[0]![0]);
        let read = 0;
        const watch = new ReadWatcher(store, sources, opts.onProgress);
        const batches: Batch[] = [];
        await conn.run(`CREATE OR REPLACE TEMP SEQUENCE ${LATE_SEQ}; CREATE OR REPLACE TEMP SEQUENCE ${PID_SEQ}`);
        for (const [i, source] of sources.entries()) {
          try {
            const ins = await insertSql(store, source, opts.vocabulary !== false);
            debug('sql', () => `load: ${ins.sql}`);
            step('prepare');
            const after = batches.at(-1)?.last ?? String(before);
            const lateBefore = await counted(store, LATE_SEQ);
            const r = await watch.insert(i, () => withBuildSideKept(store, ins.joinsMapping, () => runWithoutSpinning(conn, ins.sql)));
            const lateRows = (await counted(store, LATE_SEQ)) - lateBefore;
            // (rows appended in a transaction have rowids far above the stored ones until it
            // commits, beyond a double's integers: kept as text)
            const last = String((await conn.runAndReadAll(`SELECT COALESCE(max(rowid), ${after}) FROM events WHERE rowid > ${after}`)).getRows()[0]![0]);
            batches.push({ after, last, rows: r.rowsChanged, written: ins.written, lateRows });
            read += r.rowsChanged;
            step(`insert ${source.display}`);
          } catch (e) {
            failed = { source, error: e };
            throw e;
          }
        }
        // what DuckDB's readers do not check (gzip CRC32 and length, a closed JSON array)
        for (const source of sources) {
          const problem = await source.check;
          if (problem) throw problem;
        }
        await conn.run(`DROP TYPE IF EXISTS ${REMAP_TYPE}; RESET VARIABLE ${REMAP_VAR}`);
        // New rows are appended after every stored row, so `rowid > before` is this load's batch.
        const appended = await scalar(store, `SELECT count(*) FROM events WHERE rowid > ${before}`);
        if (appended !== read) throw new Error(`load: expected ${read} appended rows after rowid ${before}, found ${appended}`);
        watch.phase('extracting property columns');
        await fillLateKeys(store, batches);
        const givenPersonIds = await counted(store, PID_SEQ);
        await conn.run(`DROP SEQUENCE ${LATE_SEQ}; DROP SEQUENCE ${PID_SEQ}`);
        step('late keys');
        pauseForTest('inserted');
        if (opts.strictVocabulary) await strictCheck(store, before);
        const done = await finishLoad(store, before, read, sources, givenPersonIds > 0, (t) => watch.phase(t));
        pauseForTest('persons');
        watch.phase('committing');
        return done;
      });
      step('commit');
    } catch (e) {
      const corrupt = corruptStoreError(e, store.path);
      if (corrupt) throw corrupt;
      if (e instanceof StrictVocabularyError) throw await locateStrict(sources, e);
      if (!failed || e instanceof DmError) throw e;
      throw (await failed.source.check) ?? (await diagnose(store, failed.source, failed.error, opts.vocabulary !== false));
    }
    return summary;
  } finally {
    await conn.run(`SET preserve_insertion_order = ${previousPio}`);
    await conn.run(`SET write_buffer_row_group_count = ${Number(previousBuffer) || 5}`);
    await conn.run(`SET disabled_optimizers = ${sqlString(previousDisabled)}`);
    await restoreMemory();
    await conn.run(`DROP TYPE IF EXISTS ${REMAP_TYPE}; RESET VARIABLE ${REMAP_VAR}`).catch(() => undefined);
  }
}

