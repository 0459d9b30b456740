/**
 * One ordered pass over the events for a batch of compatible funnels.
 *
 * The SQL scans the events in the date range (with an `event IN (...)` prefilter unless a
 * strict funnel needs every event, and any condition every step requires) and returns per row:
 * a 64-bit hash of the aggregation target, the timestamp in epoch microseconds, one packed
 * INTEGER code (event code, value codes, atom bits; see planAtoms; without a plan, one step
 * bitmask per funnel) and a breakdown hash. Big tables are read in rowid ranges so DuckDB
 * computes the next range while this thread copies the current one out of DuckDB's vectors.
 * Rows go to 256 buckets by target hash as they are copied out, then each bucket is grouped by
 * target with a small hash table (group.ts: cheaper here than a string join or an ORDER BY
 * over millions of rows); every target's rows end up contiguous and in time order, and with an
 * atom plan, targets alike in what they can match sit next to each other.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { Store } from '../../../store/store.js';
import type { FunnelSpec } from './spec.js';
import { BUCKETS, Scatter, finishBuckets, joinGroups, type BucketGroups, type GroupState, type ScanChunk, type SigPlan } from './group.js';
import { NULL_TARGET, buildScanSql, signaturePlan } from './scan-sql.js';
import { scanFromData, type ScanData, type ScanResult } from './scan-data.js';
import { scanFromIndex } from './index-scan.js';
import { debug, debugEnabled } from '../../../debug.js';
import { checkTypes, columnBytes, duckdbTypes, hashHalves } from '../../../store/chunks.js';
import { DenseIds } from '../../../store/dense-ids.js';

export type { BucketGroups, GroupState, Signatures } from './group.js';
export type { FunnelMask } from './masks.js';
export { scanFromData, type ScanData, type ScanResult } from './scan-data.js';

export interface ScanOptions {
  /** also return the aggregation value of every target (actors queries) */
  withTargetNames?: boolean;
  /** keep the grouped columns on shared memory, so funnel passes can run on a worker thread */
  shared?: boolean;
  /** the events table's row count, when the caller has it (eventCount) */
  events?: number;
  /** rows per rowid range a big table is scanned in (default SCAN_PART_ROWS; tests use tiny ones) */
  partRows?: number;
  /** with `shared`: finishes buckets [from, to) of the grouping on another thread (finishBuckets) */
  helper?: (state: GroupState, fromBucket: number, toBucket: number) => Promise<BucketGroups>;
}

interface VectorLike {
  getItem(i: number): unknown;
}

/** Groupings of fewer rows are finished on this thread alone. */
const HELPER_MIN_ROWS = 1_000_000;

/** Tables past twice this many rows are scanned in parts of about this size (at most 8). */
const SCAN_PART_ROWS = 1_500_000;

/** Rows in the events table (known to DuckDB without a scan). */
export async function eventCount(store: Store): Promise<number> {
  const r = await store.conn.runAndReadAll('SELECT count(*) FROM events');
  return Number(r.getRows()[0]?.[0] ?? 0);
}


/** Slots of the direct-mapped cache in front of the breakdown code table (see breakdownCodes). */
const BD_CACHE = 1024;

/**
 * Dense codes of a chunk's breakdown hashes ((lo, hi) pairs). Breakdowns usually have few
 * values, so a small direct-mapped cache of [lo, hi, code] answers most rows without probing
 * the table (a probe per row cost ~0.25 CPU-s on 9M rows).
 */
function breakdownCodes(bh: Uint32Array, count: number, ids: DenseIds, cache: Int32Array): Int32Array {
  const out = new Int32Array(count);
  const mask = BD_CACHE - 1;
  for (let i = 0; i < count; i++) {
    const lo = bh[2 * i]! | 0;
    const hi = bh[2 * i + 1]! | 0;
    const k = ((lo ^ hi) & mask) * 3;
    if (cache[k + 2]! >= 0 && cache[k] === lo && cache[k + 1] === hi) {
      out[i] = cache[k + 2]!;
      continue;
    }
    const id = ids.get(lo, hi);
    cache[k] = lo;
    cache[k + 1] = hi;
    cache[k + 2] = id;
    out[i] = id;
  }
  return out;
}

let known: Map<string, readonly string[]> | undefined;

/** The values Teleport's vocabulary allows per property key (loaded on first use: the worker thread never needs it). */
async function knownValues(): Promise<ReadonlyMap<string, readonly string[]>> {
  if (known) return known;
  const { vocabRules } = await import('../../../store/vocab-rules.js');
  known = new Map();
  for (const r of vocabRules()) if (r.allowed) known.set(r.key, [...(known.get(r.key) ?? []), ...r.allowed]);
  return known;
}

/** Run the scan for a batch of funnels with the same scanKey. */
export async function scanFunnels(store: Store, specs: readonly FunnelSpec[], opts: ScanOptions = {}): Promise<ScanResult> {
  const built = buildScanSql(specs, store, opts);
  const indexed = await scanFromIndex(store, specs, built, opts);
  if (indexed) return indexed;
  const { sql, partSql, namesSql, candidatesSql, plan } = built;
  debug('sql', () => `funnel scan: ${sql}`);
  const hasBd = specs.some((x) => !!x.breakdown);
  const nm = specs.length;
  // with an atom plan: one code per row (event code << atoms | atom bits); else one mask per funnel
  const nCols = plan ? 1 : nm;
  // The columns are sized up front from the table's row count, an upper bound known instantly;
  // pages past the rows actually read are never touched. shared: on SharedArrayBuffers, so a
  // helper thread can take part in the grouping and the funnel passes.
  const expected = opts.events ?? (await eventCount(store));
  const scatter = new Scatter(expected, nCols + (hasBd ? 1 : 0), !!opts.withTargetNames, !!opts.shared);
  const rowNames: string[] = [];
  const timing = debugEnabled('funnel')
    ? (label: string) => {
        const m = process.memoryUsage();
        const cu = process.cpuUsage();
        debug('funnel', `${label} ${(performance.now() - t0).toFixed(0)} ms, ${performance.now().toFixed(0)} ms since start, cpu ${((cu.user + cu.system) / 1000).toFixed(0)} ms, ${process.resourceUsage().minorPageFault} page faults (rss ${(m.rss / 2 ** 20).toFixed(0)} MB, array buffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MB)`);
      }
    : null;
  const t0 = performance.now();
  // A materialized result runs the scan on every thread; a streamed one pulls it through a
  // single pipeline and was ~2x slower to read here (10M rows: 4.5 s vs 2 s). A big table is
  // scanned in rowid ranges, in order: DuckDB computes the next range on its threads while this
  // thread scatters the current one into buckets (same rows, same order as one query).
  const partRows = opts.partRows ?? SCAN_PART_ROWS;
  // (first_time_for_user steps join a per-person minimum over all events: computed once, not per range)
  const firstTime = specs.some((x) => x.steps.some((st) => st.firstTime));
  const parts = expected >= partRows * 2 && !firstTime ? Math.min(8, Math.ceil(expected / partRows)) : 1;
  let ranges: [number, number][] = [];
  if (parts > 1) {
    const maxRowid = Number((await store.conn.runAndReadAll('SELECT max(rowid) FROM events')).getRows()[0]?.[0] ?? 0);
    // this thread waits for the first range alone: it is a quarter of the others' size
    const first = Math.ceil((maxRowid + 1) / (4 * parts - 3));
    const step = Math.ceil((maxRowid + 1 - first) / (parts - 1));
    const at = (k: number) => Math.min(maxRowid + 1, k === 0 ? 0 : first + (k - 1) * step);
    ranges = Array.from({ length: parts }, (_, k) => [at(k), k === parts - 1 ? maxRowid + 1 : at(k + 1)] as [number, number]);
  }
  const run = (k: number) => {
    const p = store.conn.run(ranges.length ? partSql(ranges[k]![0], ranges[k]![1]) : sql);
    p.catch(() => undefined); // awaited in turn below
    return p;
  };
  const { UBIGINT, DOUBLE, INTEGER } = await duckdbTypes();
  const types = [UBIGINT, DOUBLE, ...Array.from({ length: nCols }, () => INTEGER), ...(hasBd ? [UBIGINT] : [])];
  const bIds = new DenseIds(1 << 8);
  const bdCache = new Int32Array(BD_CACHE * 3).fill(-1);
  let next = run(0);
  for (let k = 0; k < Math.max(1, ranges.length); k++) {
    const result = await next;
    if (k === 0) timing?.('duckdb');
    if (k + 1 < ranges.length) next = run(k + 1);
    const chunks: ScanChunk[] = [];
    const held: { reset(): void }[] = [];
    const nChunks = result.chunkCount;
    if (nChunks > 0) checkTypes(result, types, 'funnel scan');
    for (let ci = 0; ci < nChunks; ci++) {
      const chunk = result.getChunk(ci);
      const count = chunk.rowCount;
      if (count === 0) continue;
      held.push(chunk);
      const cols: ArrayLike<number>[] = [];
      for (let c = 0; c < nCols; c++) {
        const d = columnBytes(chunk, 2 + c, count, 4);
        cols.push(new Int32Array(d.buffer, d.byteOffset, count));
      }
      if (hasBd) {
        // breakdown hashes -> small dense codes (names: see below)
        cols.push(breakdownCodes(hashHalves(chunk, 2 + nCols, count), count, bIds, bdCache));
      }
      if (opts.withTargetNames) {
        const strs = chunk.getColumnVector(2 + nCols + (hasBd ? 1 : 0)) as unknown as VectorLike;
        for (let i = 0; i < count; i++) rowNames.push(String(strs.getItem(i)));
      }
      const t = columnBytes(chunk, 1, count, 8);
      chunks.push({ count, hash: hashHalves(chunk, 0, count), ts: new Float64Array(t.buffer, t.byteOffset, count), i32: cols });
    }
    scatter.addPart(chunks);
    // everything is copied out: let DuckDB drop the part's buffers now, not when the wrappers
    // are garbage collected
    for (const c of held) c.reset();
  }
  timing?.('fetched');
  // Breakdown names: hash -> values, for every code the rows have. The likely values are hashed
  // from constants; only if a row has another value, a DISTINCT query over the rows finds them
  // (on DuckDB's threads, while this thread groups the rows).
  const bdNames: string[] = [];
  const readNames = (names: DuckDBMaterializedResult) => {
    for (let ci = 0; ci < names.chunkCount; ci++) {
      const chunk = names.getChunk(ci);
      const bh = hashHalves(chunk, 0, chunk.rowCount);
      const vals = chunk.getColumnVector(1) as unknown as VectorLike;
      for (let i = 0; i < chunk.rowCount; i++) {
        // (values of rows the scan did not read have no code: skipped)
        const c = bIds.find(bh[2 * i]!, bh[2 * i + 1]!);
        if (c >= 0) bdNames[c] = String(vals.getItem(i));
      }
    }
  };
  if (hasBd) {
    const sql = candidatesSql(await knownValues());
    if (sql) readNames(await store.conn.run(sql));
  }
  let missing = false;
  for (let c = 0; c < bIds.size; c++) if (bdNames[c] === undefined) missing = true;
  const namesResult = namesSql && hasBd && missing ? store.conn.run(namesSql) : null;
  namesResult?.catch(() => undefined); // awaited below; a failure surfaces there
  const sig: SigPlan | null = plan ? signaturePlan(plan) : null;
  const state = scatter.done(sig);
  const rows = state.rows;
  let groups: BucketGroups[];
  // (a small grouping is done before a helper thread could even answer)
  if (opts.shared && opts.helper && rows >= HELPER_MIN_ROWS) {
    // the helper thread finishes the upper half of the buckets while this thread does the lower
    const theirs = opts.helper(state, BUCKETS / 2, BUCKETS);
    theirs.catch(() => undefined); // awaited below
    const mine = finishBuckets(state, 0, BUCKETS / 2);
    groups = [mine, await theirs];
  } else groups = [finishBuckets(state, 0, BUCKETS)];
  const { start, signatures } = joinGroups(groups, rows, !!plan, !!opts.shared);
  timing?.('grouped');
  if (namesResult) {
    readNames(await namesResult);
    timing?.('breakdown names');
  }
  const nTargets = start.length - 1;
  let names: (string | null)[] | null = null;
  if (opts.withTargetNames) {
    names = new Array<string | null>(nTargets);
    for (let t = 0; t < nTargets; t++) {
      const s = rowNames[state.out.idx[start[t]!]!]!;
      names[t] = s === NULL_TARGET ? null : s;
    }
  }
  const data: ScanData = {
    rows,
    ts: state.out.ts,
    start,
    codes: plan ? state.out.i32[0]! : null,
    codeOf: null,
    masks: plan ? [] : state.out.i32.slice(0, nCols),
    plan,
    bd: hasBd ? state.out.i32[nCols]! : null,
    bdDict: bdNames.map((s) => (s === undefined ? [] : (JSON.parse(s) as string[]))),
    signatures,
    // the scattered rows' hash halves
    scratch: [new Int32Array(state.lo.buffer, state.lo.byteOffset, rows), new Int32Array(state.hi.buffer, state.hi.byteOffset, rows)],
  };
  return scanFromData(data, names);
}
