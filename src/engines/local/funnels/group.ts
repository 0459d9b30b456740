/**
 * Grouping a funnel scan's rows by aggregation target, in two steps:
 *
 * 1. While the scan copies rows out of DuckDB (Scatter.addPart), each row goes straight to one
 *    of 256 buckets (top 8 bits of its target hash). A part's rows are counted first, so every
 *    part's buckets are contiguous slices of the scattered columns; nothing is copied twice.
 * 2. finishBuckets() groups each bucket with a small hash table on the full 64-bit target hash
 *    (the bucket's targets fit in cache), then writes the bucket's rows once more, target by
 *    target, each target's rows in time order. With a signature plan, targets alike in what
 *    their rows can match (see SigPlan) sit next to each other inside the bucket, so a funnel's
 *    candidates are runs of adjacent memory. Buckets are independent: two threads finish
 *    disjoint bucket ranges on shared memory and their results are joined by joinGroups().
 *
 * Within a target, rows keep scan order until the time sort, which is stable: ties in time keep
 * scan order, as before.
 */

import { DenseIds } from '../../../store/dense-ids.js';

/** Buckets of the first step (the top 8 bits of the target hash). */
export const BUCKETS = 256;
const BUCKET_SHIFT = 24;

/**
 * What a target's rows can match, from the atom plan's packed codes: which event codes occur,
 * the OR of the atom bits and, per value field, which value codes occur (codes past 30 share
 * bit 31). Plain data, so it crosses to a worker thread.
 */
export interface SigPlan {
  lowBits: number;
  atomMask: number;
  fieldShift: number[];
  fieldMask: number[];
}

export interface SignatureEntry {
  ev: number;
  at: number;
  fieldSets: number[];
}

/** Target signatures: signature id of each target, and the distinct signatures. */
export interface Signatures {
  of: Int32Array;
  list: SignatureEntry[];
}

/** Rows scattered by the scan, and where the grouped rows go (every array may be shared). */
export interface GroupState {
  rows: number;
  hi: Uint32Array;
  lo: Uint32Array;
  ts: Float64Array;
  i32: Int32Array[];
  /** scan row number of each row (empty unless asked for) */
  idx: Int32Array;
  nParts: number;
  /** rows of bucket b from part k: slices[k * 257 + b] .. slices[k * 257 + b + 1] */
  slices: Int32Array;
  /** bucket b's grouped rows: out[bounds[b] .. bounds[b + 1]) */
  bounds: Int32Array;
  out: { ts: Float64Array; i32: Int32Array[]; idx: Int32Array };
  sig: SigPlan | null;
}

/** One thread's share: group starts (absolute rows of `out`, ascending) and their signatures. */
export interface BucketGroups {
  starts: Int32Array;
  /** signature of each group, ids into `sigs` (empty without a plan) */
  sigOf: Int32Array;
  sigs: SignatureEntry[];
}

/** One chunk as the scan hands it over: the target hash as (lo, hi) uint32 pairs, then the columns. */
export interface ScanChunk {
  count: number;
  hash: Uint32Array;
  ts: ArrayLike<number>;
  i32: ArrayLike<number>[];
}

export class Scatter {
  hi: Uint32Array;
  lo: Uint32Array;
  ts: Float64Array;
  i32: Int32Array[];
  idx: Int32Array;
  rows = 0;
  private readonly slices: Int32Array[] = [];
  private dest = new Int32Array(4096);

  /**
   * `capacity`: rows expected at most (the columns are allocated at that size up front; pages
   * past the rows actually written are never touched).
   */
  constructor(
    capacity: number,
    private readonly nI32: number,
    private readonly withIdx: boolean,
    private readonly shared: boolean,
  ) {
    const cap = Math.max(16, capacity);
    this.hi = this.u32(cap);
    this.lo = this.u32(cap);
    this.ts = this.f64(cap);
    this.i32 = Array.from({ length: nI32 }, () => this.i32of(cap));
    this.idx = this.i32of(withIdx ? cap : 0);
  }

  private u32(n: number): Uint32Array {
    return this.shared ? new Uint32Array(new SharedArrayBuffer(n * 4)) : new Uint32Array(n);
  }
  private f64(n: number): Float64Array {
    return this.shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
  }
  private i32of(n: number): Int32Array {
    return this.shared ? new Int32Array(new SharedArrayBuffer(n * 4)) : new Int32Array(n);
  }

  private reserve(n: number): void {
    if (this.rows + n <= this.hi.length) return;
    let cap = this.hi.length;
    while (cap < this.rows + n) cap *= 2;
    const grow = <T extends Uint32Array | Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.rows) as never);
      return b;
    };
    this.hi = grow(this.hi, (k) => this.u32(k));
    this.lo = grow(this.lo, (k) => this.u32(k));
    this.ts = grow(this.ts, (k) => this.f64(k));
    this.i32 = this.i32.map((a) => grow(a, (k) => this.i32of(k)));
    if (this.withIdx) this.idx = grow(this.idx, (k) => this.i32of(k));
  }

  /** One part of the scan (rows in scan order): its rows are scattered into buckets. */
  addPart(chunks: readonly ScanChunk[]): void {
    let n = 0;
    const counts = new Int32Array(BUCKETS + 1);
    for (const c of chunks) {
      const h = c.hash;
      for (let i = 0; i < c.count; i++) counts[h[2 * i + 1]! >>> BUCKET_SHIFT]!++;
      n += c.count;
    }
    this.reserve(n);
    // bounds of this part's buckets, then running write positions
    const bounds = new Int32Array(BUCKETS + 1);
    let sum = this.rows;
    for (let b = 0; b < BUCKETS; b++) {
      bounds[b] = sum;
      sum += counts[b]!;
    }
    bounds[BUCKETS] = sum;
    const cursor = bounds.slice(0, BUCKETS);
    let row = this.rows;
    for (const c of chunks) {
      const count = c.count;
      if (this.dest.length < count) this.dest = new Int32Array(count);
      const dest = this.dest;
      const h = c.hash;
      for (let i = 0; i < count; i++) dest[i] = cursor[h[2 * i + 1]! >>> BUCKET_SHIFT]!++;
      // one monomorphic loop per array type and column
      scatterHash(h, this.hi, this.lo, dest, count);
      scatterF64(c.ts, this.ts, dest, count);
      for (let k = 0; k < this.nI32; k++) scatterI32(c.i32[k]!, this.i32[k]!, dest, count);
      if (this.withIdx) {
        const idx = this.idx;
        for (let i = 0; i < count; i++) idx[dest[i]!] = row + i;
      }
      row += count;
    }
    this.rows = row;
    this.slices.push(bounds);
  }

  /** The state finishBuckets() works on; allocates the grouped columns. */
  done(sig: SigPlan | null): GroupState {
    const nParts = this.slices.length;
    const slices = new Int32Array(Math.max(1, nParts) * (BUCKETS + 1));
    this.slices.forEach((s, k) => slices.set(s, k * (BUCKETS + 1)));
    const bounds = new Int32Array(BUCKETS + 1);
    for (let b = 0; b < BUCKETS; b++) {
      let size = 0;
      for (let k = 0; k < nParts; k++) size += slices[k * (BUCKETS + 1) + b + 1]! - slices[k * (BUCKETS + 1) + b]!;
      bounds[b + 1] = bounds[b]! + size;
    }
    const rows = this.rows;
    return {
      rows,
      hi: this.hi,
      lo: this.lo,
      ts: this.ts,
      i32: this.i32,
      idx: this.idx,
      nParts,
      slices,
      bounds,
      out: { ts: this.f64(rows), i32: this.i32.map(() => this.i32of(rows)), idx: this.i32of(this.withIdx ? rows : 0) },
      sig,
    };
  }
}

function scatterHash(h: Uint32Array, hi: Uint32Array, lo: Uint32Array, dest: Int32Array, count: number): void {
  for (let i = 0; i < count; i++) {
    const d = dest[i]!;
    lo[d] = h[2 * i]!;
    hi[d] = h[2 * i + 1]!;
  }
}
function scatterF64(src: ArrayLike<number>, dst: Float64Array, dest: Int32Array, count: number): void {
  for (let i = 0; i < count; i++) dst[dest[i]!] = src[i]!;
}
function scatterI32(src: ArrayLike<number>, dst: Int32Array, dest: Int32Array, count: number): void {
  for (let i = 0; i < count; i++) dst[dest[i]!] = src[i]!;
}

/**
 * Group buckets [from, to): see the module comment. Returns the groups in bucket order; inside a
 * bucket, groups of one signature are adjacent (signatures in order of first appearance in the
 * bucket, targets in first-seen order within one), so the layout does not depend on how the
 * buckets were split between threads.
 */
export function finishBuckets(s: GroupState, from: number, to: number): BucketGroups {
  const { hi, lo, ts, i32, idx, slices, nParts, bounds, out, sig } = s;
  const S = BUCKETS + 1;
  let maxN = 0;
  for (let b = from; b < to; b++) maxN = Math.max(maxN, bounds[b + 1]! - bounds[b]!);
  let cap = 16;
  while (cap < maxN * 1.5 + 1) cap <<= 1;
  // [lo, hi, group + 1] slots; cleared per bucket over the part in use
  const table = new Int32Array(cap * 3);
  const gidOf = new Int32Array(maxN);
  const size = new Int32Array(maxN);
  const nFields = sig ? sig.fieldShift.length : 0;
  // per group: OR of event bits, OR of codes, then per field the OR of value bits
  const acc = sig ? new Int32Array(maxN * (2 + nFields)) : null;
  const groupSig = new Int32Array(maxN);
  const order = new Int32Array(maxN);
  const starts = new Int32Array(bounds[to]! - bounds[from]!);
  const sigOf = new Int32Array(sig ? starts.length : 0);
  let nOut = 0;
  const sigIds = new SignatureIds(nFields);
  const sigs = sigIds.list;
  let sigCount = new Int32Array(64);
  let rankOf = new Int32Array(64);
  let rankStamp = new Int32Array(64);
  const held = new Int32Array(i32.length);
  const fieldShift = Int32Array.from(sig?.fieldShift ?? []);
  const fieldMask = Int32Array.from(sig?.fieldMask ?? []);
  for (let b = from; b < to; b++) {
    const base = bounds[b]!;
    const n = bounds[b + 1]! - base;
    if (n === 0) continue;
    let bcap = 16;
    while (bcap < n * 1.5 + 1) bcap <<= 1;
    table.fill(0, 0, bcap * 3);
    // pass 1: group id of every row (first-seen order) and group sizes
    let nG = 0;
    let j = 0;
    for (let k = 0; k < nParts; k++) {
      const a = slices[k * S + b]!;
      const e = slices[k * S + b + 1]!;
      nG = assignGroups(hi, lo, a, e, table, bcap - 1, gidOf, j, size, nG);
      j += e - a;
    }
    // order of the groups: by signature (counting sort, stable), or first-seen
    if (sig) {
      const w = 2 + nFields;
      acc!.fill(0, 0, nG * w);
      j = 0;
      for (let k = 0; k < nParts; k++) {
        const a = slices[k * S + b]!;
        const e = slices[k * S + b + 1]!;
        accumulate(i32[0]!, a, e, gidOf, j, acc!, w, sig.lowBits, fieldShift, fieldMask);
        j += e - a;
      }
      for (let g = 0; g < nG; g++) groupSig[g] = sigIds.id(acc!, g * w, sig.atomMask);
      // signatures ranked by first appearance in this bucket (not by id: ids depend on which
      // thread numbered them, and the layout must not)
      if (rankOf.length < sigs.length) {
        const grown = new Int32Array(Math.max(sigs.length, rankOf.length * 2));
        grown.set(rankOf);
        rankOf = grown;
        const stamps = new Int32Array(grown.length);
        stamps.set(rankStamp);
        rankStamp = stamps;
      }
      let nRanks = 0;
      for (let g = 0; g < nG; g++) {
        const id = groupSig[g]!;
        if (rankStamp[id] !== b + 1) {
          rankStamp[id] = b + 1;
          rankOf[id] = nRanks++;
        }
      }
      if (sigCount.length < nRanks + 1) sigCount = new Int32Array(Math.max(nRanks + 1, sigCount.length * 2));
      sigCount.fill(0, 0, nRanks + 1);
      for (let g = 0; g < nG; g++) sigCount[rankOf[groupSig[g]!]! + 1]!++;
      for (let x = 0; x < nRanks; x++) sigCount[x + 1]! += sigCount[x]!;
      for (let g = 0; g < nG; g++) order[sigCount[rankOf[groupSig[g]!]!]!++] = g;
    } else for (let g = 0; g < nG; g++) order[g] = g;
    // group starts; `size` becomes each group's next write position
    const first = nOut;
    let pos = base;
    for (let x = 0; x < nG; x++) {
      const g = order[x]!;
      starts[nOut] = pos;
      if (sig) sigOf[nOut] = groupSig[g]!;
      nOut++;
      const len = size[g]!;
      size[g] = pos;
      pos += len;
    }
    // pass 2: every row to its group's next place
    j = 0;
    for (let k = 0; k < nParts; k++) {
      const a = slices[k * S + b]!;
      const e = slices[k * S + b + 1]!;
      destinations(gidOf, j, e - a, size);
      moveF64(ts, out.ts, gidOf, j, a, e);
      for (let c = 0; c < i32.length; c++) moveI32(i32[c]!, out.i32[c]!, gidOf, j, a, e);
      if (idx.length) moveI32(idx, out.idx, gidOf, j, a, e);
      j += e - a;
    }
    // each group's rows in time order (they usually arrive so)
    for (let x = first; x < nOut; x++) {
      const g0 = starts[x]!;
      const g1 = x + 1 < nOut ? starts[x + 1]! : base + n;
      if (g1 - g0 > 1) sortByTime(out.ts, out.i32, out.idx, g0, g1, held);
    }
  }
  return { starts: starts.slice(0, nOut), sigOf: sigOf.slice(0, sig ? nOut : 0), sigs };
}

/** Group ids of rows [a, e) into gidOf[j...] (new groups get nG, nG + 1, ...); returns the new nG. */
function assignGroups(hi: Uint32Array, lo: Uint32Array, a: number, e: number, table: Int32Array, mask: number, gidOf: Int32Array, j: number, size: Int32Array, nG: number): number {
  for (let r = a; r < e; r++, j++) {
    const h = hi[r]! | 0;
    const l = lo[r]! | 0;
    let slot = (l ^ Math.imul(h, 0x9e3779b1)) & mask;
    for (;;) {
      const at = slot * 3;
      const stored = table[at + 2]!;
      if (stored === 0) {
        table[at] = l;
        table[at + 1] = h;
        table[at + 2] = nG + 1;
        size[nG] = 1;
        gidOf[j] = nG++;
        break;
      }
      if (table[at] === l && table[at + 1] === h) {
        gidOf[j] = stored - 1;
        size[stored - 1]!++;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return nG;
}

/** Per group, the OR of its rows' event bits, codes and value bits (acc: w ints per group). */
function accumulate(codes: Int32Array, a: number, e: number, gidOf: Int32Array, j: number, acc: Int32Array, w: number, lowBits: number, fieldShift: Int32Array, fieldMask: Int32Array): void {
  for (let r = a; r < e; r++, j++) addSignatureBits(codes[r]!, acc, gidOf[j]! * w, lowBits, fieldShift, fieldMask);
}

/**
 * ORs what one row's code says into a signature accumulator acc[o .. o + 2 + fields): the bit of
 * its event code (codes past 30 share bit 31), the code itself (its atom bits) and, per value
 * field, the bit of its value code.
 */
export function addSignatureBits(c: number, acc: Int32Array, o: number, lowBits: number, fieldShift: Int32Array, fieldMask: Int32Array): void {
  const ev = c >>> lowBits;
  acc[o] = acc[o]! | (1 << (ev < 31 ? ev : 31));
  acc[o + 1] = acc[o + 1]! | c;
  for (let f = 0; f < fieldShift.length; f++) {
    const v = (c >>> fieldShift[f]!) & fieldMask[f]!;
    acc[o + 2 + f] = acc[o + 2 + f]! | (1 << (v < 31 ? v : 31));
  }
}

/**
 * Exact signature ids, dense in first-seen order: (events, atoms) -> id, then (id, field set) ->
 * id per value field; `list` holds each id's signature.
 */
export class SignatureIds {
  private readonly base = new DenseIds(1 << 10);
  private readonly fieldIds: DenseIds[];
  readonly list: SignatureEntry[] = [];
  constructor(private readonly nFields: number) {
    this.fieldIds = Array.from({ length: nFields }, () => new DenseIds(1 << 10));
  }
  /** The id of the signature accumulated in acc[o .. o + 2 + fields) (see addSignatureBits). */
  id(acc: Int32Array, o: number, atomMask: number): number {
    const ev = acc[o]!;
    const at = acc[o + 1]! & atomMask;
    let id = this.base.get(ev, at);
    for (let f = 0; f < this.nFields; f++) id = this.fieldIds[f]!.get(id, acc[o + 2 + f]!);
    if (this.nFields === 0 ? this.base.isNew : this.fieldIds[this.nFields - 1]!.isNew) {
      this.list[id] = { ev, at, fieldSets: Array.from(acc.subarray(o + 2, o + 2 + this.nFields)) };
    }
    return id;
  }
}

/** Turn the group ids gidOf[j .. j + n) into destinations (next[g]++). */
function destinations(gidOf: Int32Array, j: number, n: number, next: Int32Array): void {
  for (let x = j; x < j + n; x++) gidOf[x] = next[gidOf[x]!]!++;
}

function moveF64(src: Float64Array, dst: Float64Array, dest: Int32Array, j0: number, from: number, to: number): void {
  for (let r = from, j = j0; r < to; r++, j++) dst[dest[j]!] = src[r]!;
}
function moveI32(src: Int32Array, dst: Int32Array, dest: Int32Array, j0: number, from: number, to: number): void {
  for (let r = from, j = j0; r < to; r++, j++) dst[dest[j]!] = src[r]!;
}

/** Stable sort of rows [from, to) by time, moving the other columns along (`held`: cols.length ints of scratch). */
function sortByTime(ts: Float64Array, cols: Int32Array[], idx: Int32Array, from: number, to: number, held: Int32Array): void {
  let sorted = true;
  for (let k = from + 1; k < to; k++) {
    if (ts[k]! < ts[k - 1]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return;
  if (to - from <= 64) {
    // small groups (nearly all): a stable insertion sort in place, no allocation
    const nc = cols.length;
    const withIdx = idx.length > 0;
    for (let k = from + 1; k < to; k++) {
      const v = ts[k]!;
      let j = k - 1;
      if (ts[j]! <= v) continue;
      for (let c = 0; c < nc; c++) held[c] = cols[c]![k]!;
      const ix = withIdx ? idx[k]! : 0;
      while (j >= from && ts[j]! > v) {
        ts[j + 1] = ts[j]!;
        for (let c = 0; c < nc; c++) cols[c]![j + 1] = cols[c]![j]!;
        if (withIdx) idx[j + 1] = idx[j]!;
        j--;
      }
      ts[j + 1] = v;
      for (let c = 0; c < nc; c++) cols[c]![j + 1] = held[c]!;
      if (withIdx) idx[j + 1] = ix;
    }
    return;
  }
  const perm = Array.from({ length: to - from }, (_, x) => from + x);
  perm.sort((x, y) => ts[x]! - ts[y]! || x - y);
  const apply = <T extends Float64Array | Int32Array>(a: T) => {
    const copy = perm.map((x) => a[x]!);
    for (let k = 0; k < copy.length; k++) a[from + k] = copy[k]!;
  };
  apply(ts);
  cols.forEach(apply);
  if (idx.length) apply(idx);
}

/**
 * The groups of both threads' bucket ranges (in bucket order) as one target list: starts (with
 * the end appended) and, with a plan, signatures renumbered into one list.
 */
export function joinGroups(parts: readonly BucketGroups[], rows: number, withSig: boolean, shared: boolean): { start: Int32Array; signatures: Signatures | null } {
  const total = parts.reduce((a, p) => a + p.starts.length, 0);
  const start = shared ? new Int32Array(new SharedArrayBuffer((total + 1) * 4)) : new Int32Array(total + 1);
  let k = 0;
  for (const p of parts) {
    start.set(p.starts, k);
    k += p.starts.length;
  }
  start[total] = rows;
  if (!withSig) return { start, signatures: null };
  const list: SignatureEntry[] = [];
  const ids = new Map<string, number>();
  const of = new Int32Array(total);
  k = 0;
  for (const p of parts) {
    const remap = p.sigs.map((e) => {
      const key = `${e.ev},${e.at},${e.fieldSets.join(',')}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = list.length;
        list.push(e);
        ids.set(key, id);
      }
      return id;
    });
    for (let g = 0; g < p.sigOf.length; g++) of[k + g] = remap[p.sigOf[g]!]!;
    k += p.starts.length;
  }
  return { start, signatures: { of, list } };
}
