/**
 * TypeScript port of PostHog's funnel UDF (funnel-udf/src/steps.rs for ordered and strict
 * funnels, unordered_steps.rs for unordered ones, trends.rs for funnel trends), operating on
 * typed arrays: one target's rows (a contiguous range of the scan, time-ordered).
 *
 * Event "steps" are encoded as a bitmask: bit i (i < n) = series step i+1 (1-indexed in the
 * UDF), bit n+i-1 = exclusion slot i (UDF step -(i+1)), i = 1..n-1. Timestamps are epoch
 * microseconds; the conversion window is in microseconds; timings are reported in seconds.
 */

export interface UdfInput {
  /** one target's rows are from .. to of the scan's columns, ordered by time */
  from: number;
  to: number;
  ts: Float64Array;
  mask: Int32Array;
  /** breakdown code per row, or null */
  bd: Int32Array | null;
  /** drop rows whose mask is 0 (every order type except strict) */
  dropUnmatched: boolean;
  /** the rows the UDF gets, rows[0 .. nRows) (eventArray fills them from from .. to) */
  rows: Int32Array;
  nRows: number;
  /**
   * Ordered funnels: events this close (µs) to a group's first event form one simultaneous
   * group (see simultaneityUs; 0: exact ties only).
   */
  simultaneousUs: number;
}

/**
 * steps.rs treats a target's events within 50 ms of each other as simultaneous (two steps fired
 * by independent scripts of one page load): they take the order-independent path.
 */
export const SIMULTANEITY_WINDOW_US = 50_000;

/**
 * The simultaneity window of one target: strict funnels, and targets with an exclusion event
 * among their events (`targetOr`: the OR of their masks), group exact ties only.
 */
export function simultaneityUs(strict: boolean, n: number, targetOr: number): number {
  return strict || targetOr >>> n !== 0 ? 0 : SIMULTANEITY_WINDOW_US;
}

/**
 * Whether an event at `t` joins the simultaneous group that starts at `t0` (t >= t0, µs).
 * steps.rs compares float seconds (`t - t0 > 0.05`); near the window's edge that rounding
 * decides, so the edge is computed the same way.
 */
function sameGroup(t: number, t0: number, w: number): boolean {
  if (w === 0) return t === t0;
  const d = t - t0;
  if (d < w - 2) return true;
  if (d > w + 2) return false;
  return !(t / 1e6 - t0 / 1e6 > w / 1e6);
}

/**
 * The events PostHog hands its UDF for one target, into inp.rows: the rows of from .. to
 * (without those matching no step, unless strict) minus what funnel_udf.py's event-array
 * filter drops: an event matching at most one step whose neighbours on both sides match the
 * same steps with the same breakdown value and are strictly earlier and later (so the first
 * and last events always stay). Neighbours are those of the unfiltered list.
 */
export function eventArray(inp: UdfInput): void {
  const { ts, mask, bd, from, to } = inp;
  if (inp.rows.length < to - from) inp.rows = new Int32Array(Math.max(to - from, inp.rows.length * 2));
  const out = inp.rows;
  const drop = inp.dropUnmatched;
  let n = 0;
  // cur: the candidate being decided, between prev and r
  let prev = -1;
  let cur = -1;
  for (let r = from; r < to; r++) {
    const m = mask[r]!;
    if (drop && m === 0) continue;
    if (cur >= 0) {
      const mc = mask[cur]!;
      const middle =
        prev >= 0 &&
        m === mc &&
        mask[prev] === mc &&
        (mc & (mc - 1)) === 0 &&
        ts[cur]! > ts[prev]! &&
        ts[cur]! < ts[r]! &&
        (bd === null || (bd[cur] === bd[prev] && bd[cur] === bd[r]));
      if (!middle) out[n++] = cur;
    }
    prev = cur;
    cur = r;
  }
  if (cur >= 0) out[n++] = cur;
  inp.nRows = n;
}

/**
 * Outcome for one (target, breakdown value). Runners reuse one result object: read it before
 * the next run() call.
 */
export interface UdfResult {
  /** 0-indexed deepest step, -1 = dropped */
  stepReached: number;
  /** seconds between consecutive reached steps (timings.windows(2)), first timingsLen entries */
  timings: Float64Array;
  timingsLen: number;
  bitfield: number;
}

function newResult(n: number): UdfResult {
  return { stepReached: -1, timings: new Float64Array(Math.max(1, n)), timingsLen: 0, bitfield: 0 };
}

export interface PropValFilter {
  /** breakdown code this run is for (-1 when there is no breakdown) */
  propVal: number;
  /** all_events: only events whose breakdown equals propVal */
  filterEvents: boolean;
  /** step attribution: 0-indexed step whose event must carry propVal, or -1 */
  breakdownStep: number;
}

/** Ordered and strict funnels (steps.rs). Buffers are reused between targets. */
export class OrderedFunnel {
  private readonly n: number;
  private readonly windowUs: number;
  private readonly strict: boolean;
  private readonly optional: Uint8Array;
  private readonly optionalSteps: number[];
  // entered[k], k = 0..n
  private readonly eTs: Float64Array;
  private readonly eExcl: Uint8Array;
  private readonly eSteps: Int32Array;
  private readonly eLen: Int32Array;
  private readonly eTim: Float64Array;
  private readonly eIdx: Int32Array;
  // max_step
  private maxK = 0;
  private maxTs = 0;
  private maxExcl = 0;
  private maxSteps = 0;
  private maxLen = 0;
  private readonly maxTim: Float64Array;
  // scratch "new entered timestamp"
  private readonly sTim: Float64Array;
  private readonly sIdx: Int32Array;
  private items: number[] = [];
  private readonly result: UdfResult;
  private readonly stepBits: number;

  constructor(n: number, windowSeconds: number, strict: boolean, optionalSteps: number[]) {
    this.n = n;
    this.stepBits = (1 << n) - 1;
    this.result = newResult(n);
    this.windowUs = windowSeconds * 1e6;
    this.strict = strict;
    this.optional = new Uint8Array(n + 1);
    for (const s of optionalSteps) this.optional[s] = 1;
    this.optionalSteps = optionalSteps;
    this.eTs = new Float64Array(n + 1);
    this.eExcl = new Uint8Array(n + 1);
    this.eSteps = new Int32Array(n + 1);
    this.eLen = new Int32Array(n + 1);
    this.eTim = new Float64Array((n + 1) * n);
    this.eIdx = new Int32Array((n + 1) * n);
    this.maxTim = new Float64Array(n);
    this.sTim = new Float64Array(n);
    this.sIdx = new Int32Array(n);
  }

  run(inp: UdfInput, pv: PropValFilter): UdfResult {
    const n = this.n;
    // plain loops: n is small and TypedArray#fill's call overhead adds up over millions of targets
    const eTs = this.eTs;
    const eExcl = this.eExcl;
    const eSteps = this.eSteps;
    const eLen = this.eLen;
    for (let k = 0; k <= n; k++) {
      eTs[k] = 0;
      eExcl[k] = 0;
      eSteps[k] = 0;
      eLen[k] = 0;
    }
    this.maxK = 0;
    this.maxTs = 0;
    this.maxExcl = 0;
    this.maxSteps = 0;
    this.maxLen = 0;
    const { ts, mask, bd, rows } = inp;
    const len = inp.nRows;
    const w = inp.simultaneousUs;
    const filter = pv.filterEvents;
    const bdStep = pv.breakdownStep;
    let i = 0;
    while (i < len) {
      const r0 = rows[i]!;
      if (filter && bd![r0] !== pv.propVal) {
        i++;
        continue;
      }
      const t = ts[r0]!;
      const m0 = mask[r0]!;
      // the group: the (kept) events within the window of its first one
      const groupStart = i;
      let count = 1;
      let allSame = true;
      for (i++; i < len; i++) {
        const r = rows[i]!;
        if (filter && bd![r] !== pv.propVal) continue;
        if (!sameGroup(ts[r]!, t, w)) break;
        count++;
        if (mask[r] !== m0) allSame = false;
      }
      const groupEnd = i;
      this.eTs[0] = t;
      this.eExcl[0] = 0;
      this.eSteps[0] = 0;
      this.eLen[0] = 0;
      if (count === 1) this.processEvent(r0, t, m0, false, bd === null || bd[r0] === pv.propVal, bdStep);
      else if (allSame) {
        // the same steps throughout: order does not matter, each event at its own time
        for (let k = groupStart; k < groupEnd; k++) {
          const r = rows[k]!;
          if (filter && bd![r] !== pv.propVal) continue;
          this.processEvent(r, ts[r]!, mask[r]!, false, bd === null || bd[r] === pv.propVal, bdStep);
        }
      } else {
        // different events: every (event, positive step) pair, by step, all at the group's
        // first time (a reordered pair converts in 0 s, never a negative time)
        const items = this.items;
        items.length = 0;
        for (let k = groupStart; k < groupEnd; k++) {
          const r = rows[k]!;
          if (filter && bd![r] !== pv.propVal) continue;
          const m = mask[r]!;
          for (let s = 0; s < n; s++) if (m & (1 << s)) items.push(s, r);
        }
        // stable sort of pairs by step
        const idx = Array.from({ length: items.length / 2 }, (_, x) => x);
        idx.sort((a, b) => items[2 * a]! - items[2 * b]! || a - b);
        for (const x of idx) {
          const s = items[2 * x]!;
          const r = items[2 * x + 1]!;
          this.processEvent(r, t, 1 << s, true, bd === null || bd[r] === pv.propVal, bdStep);
        }
      }
      if (this.eTs[n]! > 0) break;
    }
    const out = this.result;
    if (this.maxExcl) {
      out.stepReached = -1;
      out.timingsLen = 0;
      out.bitfield = 0;
      return out;
    }
    const finalIndex = this.maxK;
    let optionalCount = 0;
    for (const s of this.optionalSteps) if (s <= finalIndex) optionalCount++;
    out.timingsLen = 0;
    for (let k = 1; k < this.maxLen; k++) out.timings[out.timingsLen++] = (this.maxTim[k]! - this.maxTim[k - 1]!) / 1e6;
    out.stepReached = finalIndex - 1 - optionalCount;
    out.bitfield = this.maxSteps;
    return out;
  }

  private processEvent(r: number, t: number, m: number, multi: boolean, bdMatch: boolean, breakdownStep: number): void {
    const n = this.n;
    // steps in reverse of [1..n, -2..-n]: exclusions -n..-2 first, then n..1 (highest set bit first)
    let ex = m >>> n;
    while (ex !== 0) {
      const b = 31 - Math.clz32(ex); // exclusion slot b + 1
      ex &= ~(1 << b);
      this.handleStep(r, t, b + 2, true, multi, bdMatch, breakdownStep);
    }
    let st = m & this.stepBits;
    while (st !== 0) {
      const b = 31 - Math.clz32(st);
      st &= ~(1 << b);
      this.handleStep(r, t, b + 1, false, multi, bdMatch, breakdownStep);
    }
    if (!multi && this.strict) {
      for (let k = 1; k <= n; k++) {
        if (!(m & (1 << (k - 1)))) {
          this.eTs[k] = 0;
          this.eExcl[k] = 0;
          this.eSteps[k] = 0;
          this.eLen[k] = 0;
        }
      }
    }
  }

  private handleStep(r: number, t: number, step: number, exclusion: boolean, multi: boolean, bdMatch: boolean, breakdownStep: number): void {
    const n = this.n;
    const w = this.windowUs;
    let prev = step - 1;
    let prevTs = this.eTs[prev]!;
    let inWin = prevTs !== 0 && t - prevTs <= w;
    while (prev > 0 && (prevTs === 0 || !inWin) && this.optional[prev]) {
      prev--;
      prevTs = this.eTs[prev]!;
      inWin = prevTs !== 0 && t - prevTs <= w;
    }
    const already = this.eTs[step] === prevTs && this.eTs[step] !== 0;
    if (!inWin || already) return;
    if (exclusion) {
      if (!this.eExcl[prev]) {
        this.eExcl[prev] = 1;
        if (this.maxK === prev && t - this.maxTs <= w) this.maxExcl = 1;
      }
      return;
    }
    const unmatched = breakdownStep >= 0 && prev === breakdownStep && !bdMatch;
    if (unmatched) return;
    const pLen = this.eLen[prev]!;
    const pBase = prev * n;
    if (multi) {
      for (let k = 0; k < pLen; k++) if (this.eIdx[pBase + k] === r) return;
    }
    // new entered timestamp = previous + this event, written straight into the step's slot
    // (prev < step: the slots do not overlap), or into scratch when an exclusion voids it
    const sExcl = this.eExcl[prev]!;
    const tim = sExcl ? this.sTim : this.eTim;
    const idx = sExcl ? this.sIdx : this.eIdx;
    const base = sExcl ? 0 : step * n;
    for (let k = 0; k < pLen; k++) {
      tim[base + k] = this.eTim[pBase + k]!;
      idx[base + k] = this.eIdx[pBase + k]!;
    }
    let sLen = pLen;
    if (!this.optional[step]) {
      tim[base + sLen] = t;
      idx[base + sLen] = r;
      sLen++;
    }
    const sSteps = this.eSteps[prev]! | (1 << (step - 1));
    if (!sExcl) {
      this.eTs[step] = prevTs;
      this.eExcl[step] = 0;
      this.eSteps[step] = sSteps;
      this.eLen[step] = sLen;
    }
    if (step > this.maxK || (step === this.maxK && this.maxExcl)) {
      this.maxK = step;
      this.maxTs = prevTs;
      this.maxExcl = sExcl;
      this.maxSteps = sSteps;
      this.maxLen = sLen;
      for (let k = 0; k < sLen; k++) this.maxTim[k] = tim[base + k]!;
    }
  }
}

/** Unordered funnels (unordered_steps.rs). */
export class UnorderedFunnel {
  private readonly n: number;
  private readonly windowUs: number;
  private readonly deques: number[][];
  private readonly heads: Int32Array;
  private readonly result: UdfResult;

  constructor(n: number, windowSeconds: number) {
    this.n = n;
    this.result = newResult(n);
    this.windowUs = windowSeconds * 1e6;
    this.deques = Array.from({ length: n }, () => []);
    this.heads = new Int32Array(n);
  }

  run(inp: UdfInput, pv: PropValFilter): UdfResult {
    const n = this.n;
    const { ts, mask, bd } = inp;
    const dq = this.deques;
    const heads = this.heads;
    const clear = () => {
      for (let s = 0; s < n; s++) dq[s]!.length = 0;
      heads.fill(0);
    };
    clear();
    let completed = 0;
    let maxK = 0;
    let maxTimes: number[] = [];
    const updateMax = () => {
      if (completed > maxK) {
        const fronts: number[] = [];
        for (let s = 0; s < n; s++) if (heads[s]! < dq[s]!.length) fronts.push(ts[dq[s]![heads[s]!]!]!);
        fronts.sort((a, b) => a - b);
        maxK = completed;
        maxTimes = fronts;
      }
    };
    const kept: number[] = [];
    for (let i = 0; i < inp.nRows; i++) {
      const r = inp.rows[i]!;
      if (pv.filterEvents && bd![r] !== pv.propVal) continue;
      kept.push(r);
    }
    const positive = (1 << n) - 1;
    for (let i = 0; i < kept.length; i++) {
      const r = kept[i]!;
      const latest = ts[r]!;
      for (;;) {
        let oldestStep = -1;
        let oldestTs = Infinity;
        for (let s = 0; s < n; s++) {
          if (heads[s]! < dq[s]!.length) {
            const tt = ts[dq[s]![heads[s]!]!]!;
            if (tt < oldestTs) {
              oldestTs = tt;
              oldestStep = s;
            }
          }
        }
        if (oldestStep < 0) break;
        if (!(completed >= n) && oldestTs + this.windowUs >= latest) break;
        updateMax();
        heads[oldestStep]!++;
        if (heads[oldestStep]! >= dq[oldestStep]!.length) {
          dq[oldestStep]!.length = 0;
          heads[oldestStep] = 0;
          completed--;
        }
      }
      const m = mask[r]!;
      if ((m & positive) === 0) {
        // exclusion (or an event in no step): clear all progress
        clear();
        completed = 0;
      } else {
        let best = -1;
        let bestTs = Infinity;
        for (let s = 0; s < n; s++) {
          if (!(m & (1 << s))) continue;
          const q = dq[s]!;
          const back = heads[s]! < q.length ? ts[q[q.length - 1]!]! : 0;
          if (back < bestTs) {
            bestTs = back;
            best = s;
          }
        }
        const skip = pv.breakdownStep >= 0 && completed === pv.breakdownStep && bd !== null && bd[r] !== pv.propVal;
        if (!skip) {
          if (heads[best]! >= dq[best]!.length) {
            dq[best]!.length = 0;
            heads[best] = 0;
            completed++;
          }
          dq[best]!.push(r);
        }
      }
      if (maxK === n) break;
      if (i === kept.length - 1) updateMax();
    }
    const out = this.result;
    out.timingsLen = 0;
    for (let k = 1; k < maxTimes.length; k++) out.timings[out.timingsLen++] = (maxTimes[k]! - maxTimes[k - 1]!) / 1e6;
    out.stepReached = maxK - 1;
    out.bitfield = maxK >= 31 ? -1 : (1 << maxK) - 1;
    return out;
  }
}

export interface TrendsEntry {
  intervalStart: number;
  /** 1 = converted to the last step, -1 = entered only */
  result: 1 | -1;
}

/**
 * Funnel trends for ordered/strict funnels (trends.rs). `intervalOf(row)` gives the start of
 * the interval (ms) containing the row's timestamp in the team timezone. n is the number of
 * steps after truncating to funnelToStep.
 */
export function runTrendsUdf(
  inp: UdfInput,
  n: number,
  fromStep: number,
  windowSeconds: number,
  strict: boolean,
  intervalOf: (row: number) => number,
): TrendsEntry[] {
  const w = windowSeconds * 1e6;
  const { ts, mask } = inp;
  interface IntervalData {
    maxStep: number;
    maxTs: number;
    maxExcl: 0 | 1 | 2; // Not, Partial, Full
    eTs: Float64Array;
    eExcl: Uint8Array;
  }
  const data = new Map<number, IntervalData>();
  const results = new Map<number, 1 | -1>();
  for (let i = inp.from; i < inp.to; i++) {
    const r = i;
    const m = mask[r]!;
    if (inp.dropUnmatched && m === 0) continue;
    const t = ts[r]!;
    const stepsList: number[] = [];
    for (let s = 0; s < n; s++) if (m & (1 << s)) stepsList.push(s + 1);
    for (let slot = 1; slot < n; slot++) if (m & (1 << (n + slot - 1))) stepsList.push(-(slot + 1));
    if (inp.dropUnmatched && stepsList.length === 0) continue;
    for (let x = stepsList.length - 1; x >= 0; x--) {
      const raw = stepsList[x]!;
      const exclusion = raw < 0;
      const step = Math.abs(raw);
      if (step === 1) {
        const start = intervalOf(r);
        if (!results.has(start)) {
          const cur = data.get(start);
          if (!cur || (cur.maxStep === 1 && cur.maxExcl !== 0)) {
            const eTs = new Float64Array(n + 1);
            eTs[1] = t;
            data.set(start, { maxStep: 1, maxTs: t, maxExcl: 0, eTs, eExcl: new Uint8Array(n + 1) });
          } else {
            cur.eTs[1] = t;
            cur.eExcl[1] = 0;
          }
        }
      } else {
        for (const [start, d] of [...data]) {
          const inWin = t - d.eTs[step - 1]! <= w;
          const prevExcl = d.eExcl[step - 1]!;
          const already = d.eTs[step] === d.eTs[step - 1];
          if (!inWin || already) continue;
          if (exclusion) {
            if (!prevExcl) {
              d.eExcl[step - 1] = 1;
              if (d.maxStep === step - 1 && t - d.maxTs <= w) d.maxExcl = 1;
            }
            continue;
          }
          if (!prevExcl) {
            d.eTs[step] = d.eTs[step - 1]!;
            d.eExcl[step] = 0;
          }
          if (d.eTs[n] !== 0) {
            results.set(start, 1);
            data.delete(start);
          } else if (step > d.maxStep || (step === d.maxStep && d.maxExcl === 1)) {
            d.maxStep = step;
            d.maxTs = t;
            d.maxExcl = prevExcl ? 2 : 0;
          }
        }
      }
    }
    if (strict) {
      for (const d of data.values()) {
        for (let k = 1; k <= n; k++) {
          if (!(m & (1 << (k - 1)))) {
            d.eTs[k] = 0;
            d.eExcl[k] = 0;
          }
        }
      }
    }
  }
  let fullyExcluded = false;
  for (const d of data.values()) if (d.maxExcl === 2) fullyExcluded = true;
  if (!fullyExcluded) {
    for (const [start, d] of data) {
      if (!results.has(start) && d.maxStep >= fromStep + 1 && d.maxExcl !== 1) results.set(start, -1);
    }
  }
  return [...results].map(([intervalStart, result]) => ({ intervalStart, result }));
}
