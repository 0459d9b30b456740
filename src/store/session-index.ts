/**
 * The session index: every event of the store laid out by Discover wizard session, each
 * session's events in time order, kept in a file beside the store (`<store>.sessions`).
 *
 * A funnel per wizard session needs exactly that grouping. Without the index every funnel scan
 * reads the events out of DuckDB and groups them by session again (about two thirds of a 10M-event
 * funnel's time); with it, a funnel reads each row's time and a small "combination" id from
 * memory and looks up what the row means for its steps per combination, not per row.
 *
 * What it holds
 *   - sessions: the store's hash of the session id (see hashedKeys in store.ts; every row has
 *     one, NULL hashed too, so rows without a session form one group, as in the funnel scan);
 *   - per row: epoch microseconds and a combination id. Rows are ordered by (session hash, time,
 *     rowid): ties in time keep the store's order, as in the scan;
 *   - per combination (table session_combos in the store): one distinct tuple of the event name
 *     and the store's few-valued materialized columns. A funnel's per-row SQL (step codes, its
 *     WHERE without the time range, the breakdown) is evaluated over this table by DuckDB itself,
 *     so the index gives exactly the values the scan would; a query that needs another column
 *     cannot be bound there and scans as before.
 *
 * It is derived data: built after each `load` (and by `store index`), stamped with the store's
 * generation (Store.transaction), row count and last rowid. Any write after that (the sandbox's
 * captures, an interrupted rebuild) makes the stamps differ, and funnels read the events as
 * before. The file is written whole or not at all (writeWhole), and its stamp and build id must
 * also match the ones committed in meta with session_combos, so a file and a table from
 * different builds (or another store's file) are never combined.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { writeWhole } from '../write-whole.js';
import { checkTypes, doubles, duckdbTypes, hashHalves, int32s } from './chunks.js';
import { quoteIdent, sqlString } from './sql.js';
import { GENERATION_KEY, hashedKeys, type Store } from './store.js';
import { debug } from '../debug.js';
import { DenseIds } from './dense-ids.js';

export const SESSION_COMBOS = 'session_combos';
const META_KEY = 'session_index';
const MAGIC = 'DMSIDX03';

/** A materialized column joins the combinations if DuckDB's statistics estimate at most this many values. */
const MAX_COLUMN_VALUES = 256;
/** More distinct combinations than this and the index is not built (a per-combination table would not pay). */
const MAX_COMBOS = 1 << 20;

export interface SessionIndexStamp {
  generation: string;
  rows: number;
  maxRowid: string;
}

export interface SessionIndex {
  /** the property key the rows are grouped by (the Discover session id) and its hash column */
  key: string;
  hashColumn: string;
  stamp: SessionIndexStamp;
  rows: number;
  /** session s's rows are start[s] .. start[s + 1] (on a SharedArrayBuffer, like ts and combo) */
  start: Int32Array;
  /** epoch microseconds per row */
  ts: Float64Array;
  /** combination id per row: session_combos.id */
  combo: Int32Array;
  combos: number;
  /** the earliest and latest row's time */
  minTs: number;
  maxTs: number;
  /**
   * The distinct combinations of each session, as a set id: session s has the combinations
   * setItems[setStart[setOf[s]] .. setStart[setOf[s] + 1]). Sessions with the same set look
   * alike to every funnel over the whole time range.
   */
  setOf: Int32Array;
  setStart: Int32Array;
  setItems: Int32Array;
}

interface Header {
  stamp: SessionIndexStamp;
  build: string;
  key: string;
  hashColumn: string;
  rows: number;
  sessions: number;
  combos: number;
  minTs: number;
  maxTs: number;
  sets: number;
  setItems: number;
}

/** Where the index of the store at `storePath` lives. */
export function sessionIndexPath(storePath: string): string {
  return `${storePath}.sessions`;
}

/** The store's current stamp. */
async function currentStamp(store: Store): Promise<SessionIndexStamp> {
  const r = await store.conn.runAndReadAll(
    `SELECT (SELECT max(value) FROM meta WHERE key = '${GENERATION_KEY}'), count(*), max(rowid) FROM events`,
  );
  const [g, n, m] = r.getRows()[0]!;
  return { generation: String(g ?? '0'), rows: Number(n), maxRowid: String(m ?? -1) };
}

const sameStamp = (a: SessionIndexStamp, b: SessionIndexStamp) => a.generation === b.generation && a.rows === b.rows && a.maxRowid === b.maxRowid;

/** The key the index groups by and its hash column, if the store has one. */
function indexedKey(store: Store): { key: string; hashColumn: string } | null {
  for (const key of hashedKeys()) {
    const hashColumn = store.keyHashColumn(key);
    if (hashColumn) return { key, hashColumn };
  }
  return null;
}

/** The columns of a combination: the event name and the materialized columns with few values. */
async function comboColumns(store: Store, key: string): Promise<string[]> {
  const keyCol = store.materializedColumn(key);
  const cols = store.materializedKeys().map((k) => store.materializedColumn(k)!).filter((c) => c !== keyCol);
  if (cols.length === 0) return ['event'];
  // stats() is answered from the table's statistics, without a scan
  const r = await store.conn.runAndReadAll(`SELECT ${cols.map((c) => `stats(${quoteIdent(c)})`).join(', ')} FROM events LIMIT 1`);
  const row = r.getRows()[0] ?? [];
  return ['event', ...cols.filter((_, i) => {
    const m = /Approx Unique: (\d+)/.exec(String(row[i] ?? ''));
    return m !== null && Number(m[1]) <= MAX_COLUMN_VALUES;
  })];
}

export interface SessionIndexBuild {
  path: string;
  rows: number;
  sessions: number;
  combos: number;
  ms: number;
}

/**
 * Builds (or rebuilds) the session index of a writable store. Returns null, and removes any old
 * index, when the store has no session hash column, no events or too many combinations.
 */
export async function buildSessionIndex(store: Store): Promise<SessionIndexBuild | null> {
  const t0 = performance.now();
  const path = sessionIndexPath(store.path);
  const keyed = store.path === ':memory:' ? null : indexedKey(store);
  if (!keyed) return null;
  const conn = store.conn;
  const types = await duckdbTypes();
  let built: SessionIndexBuild | null = null;
  const phases: string[] = [];
  let last = t0;
  const phase = (label: string) => {
    const now = performance.now();
    phases.push(`${label} ${(now - last).toFixed(0)} ms`);
    last = now;
  };
  await store.transaction(
    async () => {
      const stamp = await currentStamp(store);
      const cols = await comboColumns(store, keyed.key);
      const tuple = cols.map((c) => `e.${quoteIdent(c)}`).join(', ');
      await conn.run(`DELETE FROM meta WHERE key = '${META_KEY}'`);
      await conn.run(`CREATE OR REPLACE TABLE ${SESSION_COMBOS} AS
        SELECT (row_number() OVER (ORDER BY combo_hash) - 1)::INTEGER AS id, *
        FROM (SELECT DISTINCT hash(${tuple}) AS combo_hash, ${tuple} FROM events e)`);
      phase('combinations');
      const [[n, distinct]] = (await conn.runAndReadAll(`SELECT count(*), count(DISTINCT combo_hash) FROM ${SESSION_COMBOS}`)).getRows() as [bigint, bigint][];
      const combos = Number(n);
      // two combinations with one 64-bit hash would be joined to each other's rows
      if (stamp.rows === 0 || combos !== Number(distinct) || combos > MAX_COMBOS) {
        await conn.run(`DROP TABLE ${SESSION_COMBOS}`);
        rmSync(path, { force: true });
        return;
      }
      const result = await conn.run(`SELECT e.${quoteIdent(keyed.hashColumn)} AS h, epoch_us(e.timestamp)::DOUBLE AS ts, c.id AS combo
        FROM events e JOIN ${SESSION_COMBOS} c ON c.combo_hash = hash(${tuple})
        ORDER BY h, ts, e.rowid`);
      phase('sorted rows');
      const rows = stamp.rows;
      const ts = new Float64Array(rows);
      const combo = new Int32Array(rows);
      let start = new Int32Array(1 << 16);
      let sessions = 0;
      let at = 0;
      let lastLo = 0;
      let lastHi = 0;
      if (result.chunkCount > 0) checkTypes(result, [types.UBIGINT, types.DOUBLE, types.INTEGER], 'session index');
      for (let ci = 0; ci < result.chunkCount; ci++) {
        const chunk = result.getChunk(ci);
        const count = chunk.rowCount;
        if (count === 0) continue;
        if (at + count > rows) throw new Error(`session index: more rows than the ${rows} stored`);
        const h = hashHalves(chunk, 0, count);
        ts.set(doubles(chunk, 1, count), at);
        combo.set(int32s(chunk, 2, count), at);
        for (let i = 0; i < count; i++) {
          const lo = h[2 * i]!;
          const hi = h[2 * i + 1]!;
          if (at + i === 0 || lo !== lastLo || hi !== lastHi) {
            if (sessions + 1 >= start.length) {
              const grown = new Int32Array(start.length * 2);
              grown.set(start);
              start = grown;
            }
            start[sessions++] = at + i;
            lastLo = lo;
            lastHi = hi;
          }
        }
        at += count;
        chunk.reset();
      }
      if (at !== rows) throw new Error(`session index: read ${at} rows of ${rows}`);
      start[sessions] = rows;
      let minTs = Infinity;
      let maxTs = -Infinity;
      for (let r = 0; r < rows; r++) {
        const t = ts[r]!;
        if (t < minTs) minTs = t;
        if (t > maxTs) maxTs = t;
      }
      phase('read');
      const sets = comboSets(start, sessions, combo, combos);
      phase('sets');
      // the build's own id, in the file and in meta: a file from another build (another store's,
      // copied beside this one) never passes for this store's, even with equal counts
      const build = randomUUID();
      const header: Header = { stamp, build, ...keyed, rows, sessions, combos, minTs, maxTs, sets: sets.setStart.length - 1, setItems: sets.setItems.length };
      writeWhole(path, fileParts(header, [start.subarray(0, sessions + 1), ts, combo, sets.setOf, sets.setStart, sets.setItems]));
      phase('file');
      await conn.run(`INSERT INTO meta VALUES ('${META_KEY}', ${sqlString(JSON.stringify({ ...stamp, build }))})`);
      built = { path, rows, sessions, combos, ms: performance.now() - t0 };
    },
    { keepGeneration: true },
  );
  phase('commit');
  debug('load', () => `session index: ${built ? `${built.rows} rows, ${built.sessions} sessions, ${built.combos} combinations in ${built.ms.toFixed(0)} ms` : 'not built'} (${phases.join(', ')})`);
  if (built) cache.delete(store);
  return built;
}

/**
 * buildSessionIndex after a write, for the load paths: the events are committed by then, so a
 * failure here (a full disk, say) must not fail the load. The index stays stale and funnels read
 * the events as before; `store index` reports the error.
 */
export async function refreshSessionIndex(store: Store): Promise<void> {
  try {
    await buildSessionIndex(store);
  } catch (e) {
    debug('load', () => `session index not rebuilt: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Each session's distinct combinations, as ids of distinct sets (see SessionIndex.setOf). A set
 * is found by a 64-bit hash of its sorted members and then compared member by member, so two
 * sets with one hash are still told apart (the second goes to a map by its text).
 */
export function comboSets(
  start: Int32Array,
  sessions: number,
  combo: Int32Array,
  combos: number,
  /** another hash of a set's members (tests: the path two sets with one hash take) */
  hashOf?: (members: Int32Array) => number,
): { setOf: Int32Array; setStart: Int32Array; setItems: Int32Array } {
  const setOf = new Int32Array(sessions);
  const byHash = new DenseIds(1 << 12);
  const collided = new Map<string, number>();
  // set id of each hash id (they part once two sets share a hash)
  let hashToSet = new Int32Array(1 << 12);
  const seen = new Int32Array(combos).fill(-1);
  let setStart = new Int32Array(1 << 12);
  let items = new Int32Array(1 << 14);
  let nSets = 0;
  let nItems = 0;
  let one = new Int32Array(64);
  const add = (members: Int32Array): number => {
    if (nSets + 2 > setStart.length) setStart = grow(setStart, nSets + 2);
    if (nItems + members.length > items.length) items = grow(items, nItems + members.length);
    items.set(members, nItems);
    nItems += members.length;
    setStart[++nSets] = nItems;
    return nSets - 1;
  };
  for (let s = 0; s < sessions; s++) {
    let k = 0;
    for (let r = start[s]!; r < start[s + 1]!; r++) {
      const c = combo[r]!;
      if (seen[c] === s) continue;
      seen[c] = s;
      if (k === one.length) one = grow(one, k + 1);
      one[k++] = c;
    }
    const members = one.subarray(0, k).sort();
    let h1 = 0x811c9dc5;
    let h2 = k;
    for (let i = 0; i < k; i++) {
      h1 = Math.imul(h1 ^ members[i]!, 0x01000193);
      h2 = Math.imul(h2 ^ members[i]!, 0x9e3779b1) + 0x7f4a7c15;
    }
    // (new hash ids are 0, 1, ... like set ids, until a collision adds a set the hashes do not know)
    const byId = hashOf ? byHash.get(hashOf(members), 0) : byHash.get(h1, h2);
    let id: number;
    if (byHash.isNew) id = add(members);
    else {
      id = hashToSet[byId]!;
      if (!sameMembers(items, setStart[id]!, setStart[id + 1]!, members)) {
        // the same hash as another set
        const key = members.join(',');
        id = collided.get(key) ?? add(members);
        collided.set(key, id);
      }
    }
    if (byHash.isNew) {
      if (byId >= hashToSet.length) hashToSet = grow(hashToSet, byId + 1);
      hashToSet[byId] = id;
    }
    setOf[s] = id;
  }
  return { setOf, setStart: setStart.slice(0, nSets + 1), setItems: items.slice(0, nItems) };
}

function sameMembers(items: Int32Array, from: number, to: number, members: Int32Array): boolean {
  if (to - from !== members.length) return false;
  for (let i = 0; i < members.length; i++) if (items[from + i] !== members[i]) return false;
  return true;
}

function grow(a: Int32Array, atLeast: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(atLeast, a.length * 2));
  b.set(a);
  return b;
}

/** Header, then the arrays, each starting at a multiple of 8 bytes (written as they are, with zeros between). */
function fileParts(header: Header, arrays: readonly (Int32Array | Float64Array)[]): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(header));
  const head = new Uint8Array(pad8(16 + json.length));
  head.set(Buffer.from(MAGIC), 0);
  new DataView(head.buffer).setUint32(8, json.length, true);
  head.set(json, 16);
  const parts: Uint8Array[] = [head];
  for (const a of arrays) {
    parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (a.byteLength % 8 !== 0) parts.push(new Uint8Array(8 - (a.byteLength % 8)));
  }
  return parts;
}

const pad8 = (n: number) => Math.ceil(n / 8) * 8;

/** Indexes read by this process, per open store (the stamp is checked on every use). */
const cache = new WeakMap<Store, SessionIndex>();

/**
 * The store's session index if it is there and current (same stamp in the file, in meta and of
 * the events now), else null: the caller reads the events as before.
 */
export async function openSessionIndex(store: Store): Promise<SessionIndex | null> {
  if (store.path === ':memory:') return null;
  const keyed = indexedKey(store);
  if (!keyed) return null;
  const now = await currentStamp(store);
  const held = cache.get(store);
  if (held && sameStamp(held.stamp, now)) return held;
  cache.delete(store);
  const meta = await store.conn.runAndReadAll(`SELECT max(value) FROM meta WHERE key = '${META_KEY}'`);
  const committed = meta.getRows()[0]?.[0];
  if (typeof committed !== 'string') return null;
  const path = sessionIndexPath(store.path);
  if (!existsSync(path)) return null;
  let stamp: SessionIndexStamp & { build?: string };
  try {
    stamp = JSON.parse(committed) as SessionIndexStamp & { build?: string };
  } catch {
    return null;
  }
  if (!sameStamp(stamp, now)) return null;
  const index = readIndexFile(path, keyed, stamp.build);
  if (!index || !sameStamp(index.stamp, now)) return null;
  cache.set(store, index);
  return index;
}

/** The index file, on shared memory (funnel worker threads read it too); null if it is not one of ours or is cut short. */
function readIndexFile(path: string, keyed: { key: string; hashColumn: string }, build: string | undefined): SessionIndex | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 16) return null;
    const buf = new SharedArrayBuffer(size);
    const all = new Uint8Array(buf);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, all, at, Math.min(size - at, 1 << 30), at);
      if (n === 0) return null;
      at += n;
    }
    if (Buffer.from(all.subarray(0, 8)).toString('latin1') !== MAGIC) return null;
    const len = new DataView(buf).getUint32(8, true);
    const header = JSON.parse(Buffer.from(all.subarray(16, 16 + len)).toString('utf8')) as Header;
    if (!build || header.build !== build || header.key !== keyed.key || header.hashColumn !== keyed.hashColumn) return null;
    // the arrays in file order: [elements, bytes per element]
    const layout: [number, number][] = [
      [header.sessions + 1, 4],
      [header.rows, 8],
      [header.rows, 4],
      [header.sessions, 4],
      [header.sets + 1, 4],
      [header.setItems, 4],
    ];
    const at: number[] = [];
    let offset = pad8(16 + len);
    for (const [n, width] of layout) {
      at.push(offset);
      offset += pad8(n * width);
    }
    if (offset !== size) return null;
    return {
      ...keyed,
      stamp: header.stamp,
      rows: header.rows,
      start: new Int32Array(buf, at[0]!, header.sessions + 1),
      ts: new Float64Array(buf, at[1]!, header.rows),
      combo: new Int32Array(buf, at[2]!, header.rows),
      combos: header.combos,
      minTs: header.minTs,
      maxTs: header.maxTs,
      setOf: new Int32Array(buf, at[3]!, header.sessions),
      setStart: new Int32Array(buf, at[4]!, header.sets + 1),
      setItems: new Int32Array(buf, at[5]!, header.setItems),
    };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
