/**
 * A funnel scan's grouped rows as plain data (typed arrays, shareable with the worker thread)
 * and the ScanResult the funnel passes read. Apart from scan.ts, so that the worker thread, which
 * only rebuilds results from shared data, does not load the scan's SQL building (and the query
 * schemas behind it).
 */
import type { BucketGroups, GroupState, Signatures } from './group.js';
import type { AtomPlan } from './scan-sql.js';
import { atomMasks, candidateCounter, plainMasks, type FunnelMask } from './masks.js';

export interface ScanResult {
  rows: number;
  /** epoch microseconds per row */
  ts: Float64Array;
  /**
   * The step/exclusion masks of funnel q of the batch, computed target by target on demand (the
   * buffers are reused by the next call, so use one funnel's masks before asking for another).
   * `relevant`: mask bits a target needs for the funnel to look at it at all (-1 any bit);
   * targets that cannot have any are left out of the candidates. 0: every target.
   */
  mask(q: number, relevant: number): FunnelMask;
  /** the number of targets mask(q, relevant) would hand out (cheap: from the signatures) */
  candidates(q: number, relevant: number): number;
  /** breakdown code per row (null without breakdown) */
  bd: Int32Array | null;
  /** breakdown dictionary: code -> values (one string per breakdown property) */
  bdDict: string[][];
  nTargets: number;
  /** target id -> aggregation value (only when names were requested) */
  targetNames: (string | null)[] | null;
  /**
   * Rows grouped by target (ts, masks and bd are stored in group order): target t's rows are
   * start[t] .. start[t+1] of those arrays, sorted by time.
   */
  start: Int32Array;
  /** the same scan as plain data */
  data: ScanData;
}

/**
 * The grouped scan as plain data (typed arrays, on SharedArrayBuffers when the scan was asked
 * for `shared`): what a worker thread needs to rebuild the ScanResult with scanFromData().
 */
export interface ScanData {
  rows: number;
  ts: Float64Array;
  start: Int32Array;
  /** atom plan codes (one per row), or one mask column per funnel without a plan */
  codes: Int32Array | null;
  /**
   * With a plan, when set: `codes` holds a small id per row and the row's code is codeOf[id]
   * (the session index's value combinations: the codes are never spelled out row by row).
   */
  codeOf: Int32Array | null;
  masks: Int32Array[];
  plan: AtomPlan | null;
  bd: Int32Array | null;
  bdDict: string[][];
  /** with a plan: each target's signature (see finishBuckets) */
  signatures: Signatures | null;
  /**
   * Memory of the scan's own that is free once the rows are grouped, one Int32Array of at least
   * `rows` per thread (main, worker), for the funnel masks: reusing it spares fresh pages.
   */
  scratch: Int32Array[];
}

/**
 * A ScanResult over scan data (the step masks are derived on demand, per thread; `thread`: 0 the
 * scan's own thread, 1 the worker).
 */
export function scanFromData(d: ScanData, targetNames: (string | null)[] | null = null, thread = 0): ScanResult {
  return {
    rows: d.rows,
    ts: d.ts,
    mask: d.plan && d.codes && d.signatures ? atomMasks(d.plan, d.codes, d.start, d.signatures, d.scratch[thread], d.codeOf) : plainMasks(d.masks, d.start),
    candidates: candidateCounter(d.plan, d.signatures, d.start.length - 1),
    bd: d.bd,
    bdDict: d.bdDict,
    nTargets: d.start.length - 1,
    targetNames,
    start: d.start,
    data: d,
  };
}
