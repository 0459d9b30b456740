/**
 * A funnel scan answered from the session index (store/session-index.ts) instead of the events
 * table: the rows are already grouped by wizard session and in time order, so nothing is copied
 * out of DuckDB or grouped here. DuckDB evaluates the scan's own per-row SQL once per value
 * combination (scan-sql.ts, comboSql); each index row then takes its combination's values if it
 * is in the time range and the combination passes the WHERE. The result is the ScanData the
 * scan would give: the same rows per target, in the same order, with the same codes (targets may
 * come in another order, which no result depends on).
 */
import type { Store } from '../../../store/store.js';
import { SESSION_COMBOS, openSessionIndex, type SessionIndex } from '../../../store/session-index.js';
import type { FunnelSpec } from './spec.js';
import { signaturePlan, type ScanSql } from './scan-sql.js';
import { SignatureIds, addSignatureBits, type SigPlan, type Signatures } from './group.js';
import { scanFromData, type ScanData, type ScanResult } from './scan-data.js';
import { debug } from '../../../debug.js';

/** DISCOVER_METRICS_SESSION_INDEX=0 makes funnels scan the events even when the index is current (benchmarks, checks). */
export const SESSION_INDEX_ENV = 'DISCOVER_METRICS_SESSION_INDEX';

interface ComboValues {
  /** per INTEGER column of the scan, its value per combination */
  i32: Int32Array[];
  keep: Uint8Array;
  /** breakdown code per combination, and the code's values */
  bd: Int32Array | null;
  bdDict: string[][];
}

/** The scan's per-row values per combination, from DuckDB (null if the SQL cannot be bound to the combinations). */
async function comboValues(store: Store, sql: string, index: SessionIndex, nCols: number, hasBd: boolean): Promise<ComboValues | null> {
  let rows: unknown[][];
  try {
    rows = (await store.conn.runAndReadAll(sql)).getRows();
  } catch (e) {
    // a column the combinations do not have (properties JSON, distinct_id, ...): scan instead
    debug('funnel', () => `session index not used: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return null;
  }
  if (rows.length !== index.combos) return null;
  const i32 = Array.from({ length: nCols }, () => new Int32Array(rows.length));
  const keep = new Uint8Array(rows.length);
  const bd = hasBd ? new Int32Array(rows.length) : null;
  const bdDict: string[][] = [];
  const bdCodes = new Map<string, number>();
  rows.forEach((r, c) => {
    for (let k = 0; k < nCols; k++) i32[k]![c] = Number(r[k]);
    keep[c] = r[nCols] === true ? 1 : 0;
    if (bd) {
      const text = String(r[nCols + 1]);
      let code = bdCodes.get(text);
      if (code === undefined) {
        code = bdDict.length;
        bdCodes.set(text, code);
        bdDict.push(JSON.parse(text) as string[]);
      }
      bd[c] = code;
    }
  });
  return { i32, keep, bd, bdDict };
}

/**
 * The scan of a batch of funnels from the session index, or null when the index is missing or
 * stale, switched off, or the funnels need something it does not hold (the caller scans).
 * `shared`: the arrays on shared memory, for the funnel worker thread.
 */
export async function scanFromIndex(
  store: Store,
  specs: readonly FunnelSpec[],
  { comboSql, plan }: Pick<ScanSql, 'comboSql' | 'plan'>,
  opts: { shared?: boolean; withTargetNames?: boolean },
): Promise<ScanResult | null> {
  if (process.env[SESSION_INDEX_ENV] === '0' || opts.withTargetNames) return null;
  const t0 = performance.now();
  const index = await openSessionIndex(store);
  if (!index) return null;
  const sql = comboSql(SESSION_COMBOS, index.hashColumn);
  if (!sql) return null;
  const nCols = plan ? 1 : specs.length;
  const hasBd = specs.some((x) => !!x.breakdown);
  const values = await comboValues(store, sql, index, nCols, hasBd);
  if (!values) return null;
  const first = specs[0]!;
  const from = Number(first.range.fromUs);
  const to = Number(first.range.toUs);
  const data = compact(index, values, from, to, plan ? signaturePlan(plan) : null, !!opts.shared);
  data.plan = plan;
  debug('funnel', () => `session index: ${data.rows} of ${index.rows} rows, ${data.start.length - 1} targets in ${(performance.now() - t0).toFixed(0)} ms`);
  return scanFromData(data);
}

/**
 * The index rows the funnels read, target by target (and signatures, with a plan). With a plan
 * the rows keep their combination ids and the code of each id is looked up where masks are made
 * (ScanData.codeOf): no per-row code is written. Arrays are sized for every index row: pages past
 * the rows kept are never touched. Without a cut in time, what a session keeps depends on its set
 * of combinations alone (SessionIndex.setOf): signatures are made per set, sessions keeping
 * nothing are skipped unread, and when every row is kept the index's own arrays serve as they are.
 */
function compact(index: SessionIndex, v: ComboValues, from: number, to: number, sig: SigPlan | null, shared: boolean): ScanData {
  const i32of = (n: number) => (shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n));
  const { ts, combo, start, setOf } = index;
  const sessions = start.length - 1;
  const keep = v.keep;
  const whole = from <= index.minTs && to >= index.maxTs;
  const all = whole && keep.every((k) => k === 1);
  const perSet = whole ? setsKept(index, keep) : null;
  let outTs = ts;
  let starts = start;
  let ids = combo;
  let rows = index.rows;
  let targets = sessions;
  // session of each target, when not every session is one
  let sessionOf: Int32Array | null = null;
  if (!all) {
    const cap = index.rows;
    outTs = shared ? new Float64Array(new SharedArrayBuffer(cap * 8)) : new Float64Array(cap);
    ids = i32of(cap);
    const at = new Int32Array(sessions + 1);
    sessionOf = new Int32Array(sessions);
    targets = 0;
    let n = 0;
    for (let s = 0; s < sessions; s++) {
      if (perSet && perSet[setOf[s]!] === 0) continue;
      const begin = n;
      const end = start[s + 1]!;
      for (let r = start[s]!; r < end; r++) {
        const t = ts[r]!;
        const c = combo[r]!;
        if (t < from || t > to || keep[c] !== 1) continue;
        outTs[n] = t;
        ids[n++] = c;
      }
      if (n > begin) {
        sessionOf[targets] = s;
        at[targets++] = begin;
      }
    }
    at[targets] = n;
    rows = n;
    starts = i32of(targets + 1);
    starts.set(at.subarray(0, targets + 1));
  }
  let signatures: Signatures | null = null;
  if (sig) {
    const bits = comboBits(v.i32[0]!, sig);
    if (perSet) {
      // per set, then per target from its session's set
      const { setSig, list } = setSignatures(index, keep, bits);
      const of = new Int32Array(targets);
      for (let t = 0; t < targets; t++) of[t] = setSig[setOf[sessionOf ? sessionOf[t]! : t]!]!;
      signatures = { of, list };
    } else signatures = rowSignatures(ids, starts, targets, bits);
  }
  return {
    rows,
    ts: outTs,
    start: starts,
    codes: sig ? ids : null,
    codeOf: sig ? v.i32[0]! : null,
    masks: sig ? [] : v.i32.map((col) => gather(col, ids, i32of(rows), rows)),
    plan: null,
    bd: v.bd ? gather(v.bd, ids, i32of(rows), rows) : null,
    bdDict: v.bdDict,
    signatures,
    // memory for the funnel masks, one per thread (see ScanData.scratch)
    scratch: shared ? [i32of(rows), i32of(rows)] : [i32of(rows)],
  };
}

/** 1 for each combination set with a combination kept. */
function setsKept(index: SessionIndex, keep: Uint8Array): Uint8Array {
  const { setStart, setItems } = index;
  const out = new Uint8Array(setStart.length - 1);
  for (let x = 0; x < out.length; x++) {
    for (let i = setStart[x]!; i < setStart[x + 1]!; i++) {
      if (keep[setItems[i]!] === 1) {
        out[x] = 1;
        break;
      }
    }
  }
  return out;
}

function gather(values: Int32Array, ids: Int32Array, out: Int32Array, n: number): Int32Array {
  for (let r = 0; r < n; r++) out[r] = values[ids[r]!]!;
  return out;
}

interface ComboBits {
  /** per combination, what its code adds to a signature (addSignatureBits): w ints each */
  bits: Int32Array;
  w: number;
  nFields: number;
  atomMask: number;
}

function comboBits(codeOf: Int32Array, sig: SigPlan): ComboBits {
  const nFields = sig.fieldShift.length;
  const w = 2 + nFields;
  const shift = Int32Array.from(sig.fieldShift);
  const mask = Int32Array.from(sig.fieldMask);
  const bits = new Int32Array(codeOf.length * w);
  for (let c = 0; c < codeOf.length; c++) addSignatureBits(codeOf[c]!, bits, c * w, sig.lowBits, shift, mask);
  return { bits, w, nFields, atomMask: sig.atomMask };
}

/** The signature of each combination set, over its kept combinations (see finishBuckets in group.ts). */
function setSignatures(index: SessionIndex, keep: Uint8Array, cb: ComboBits): { setSig: Int32Array; list: Signatures['list'] } {
  const { setStart, setItems } = index;
  const { bits, w } = cb;
  const acc = new Int32Array(w);
  const ids = new SignatureIds(cb.nFields);
  const setSig = new Int32Array(setStart.length - 1).fill(-1);
  for (let x = 0; x < setSig.length; x++) {
    acc.fill(0);
    let any = false;
    for (let i = setStart[x]!; i < setStart[x + 1]!; i++) {
      const c = setItems[i]!;
      if (keep[c] !== 1) continue;
      any = true;
      for (let k = 0; k < w; k++) acc[k] = acc[k]! | bits[c * w + k]!;
    }
    if (any) setSig[x] = ids.id(acc, 0, cb.atomMask);
  }
  return { setSig, list: ids.list };
}

/** Each target's signature from its rows (when a time cut makes targets differ from their sets). */
function rowSignatures(ids: Int32Array, start: Int32Array, targets: number, cb: ComboBits): Signatures {
  const { bits, w, nFields } = cb;
  const acc = new Int32Array(w);
  const sigIds = new SignatureIds(cb.nFields);
  const of = new Int32Array(targets);
  for (let t = 0; t < targets; t++) {
    acc.fill(0);
    const end = start[t + 1]!;
    for (let r = start[t]!; r < end; r++) {
      const o = ids[r]! * w;
      acc[0] = acc[0]! | bits[o]!;
      acc[1] = acc[1]! | bits[o + 1]!;
      for (let f = 0; f < nFields; f++) acc[2 + f] = acc[2 + f]! | bits[o + 2 + f]!;
    }
    of[t] = sigIds.id(acc, 0, cb.atomMask);
  }
  return { of, list: sigIds.list };
}
