/**
 * The per-target run: the UDF port over each aggregation target's rows of a scan (and, with a
 * breakdown, each breakdown value the target's events carry), handing every outcome with
 * step_reached >= 0 to a callback.
 */
import type { ScanResult } from './scan.js';
import type { FunnelSpec } from './spec.js';
import { OrderedFunnel, UnorderedFunnel, eventArray, simultaneityUs, type PropValFilter, type UdfInput, type UdfResult } from './udf.js';

/** Per (target, breakdown value) UDF outcome. */
export interface TargetOutcome {
  target: number;
  propVal: number;
  res: UdfResult;
}

type Runner = { run(inp: UdfInput, pv: PropValFilter): UdfResult };

function makeRunner(spec: FunnelSpec): Runner {
  const n = spec.steps.length;
  if (spec.order === 'unordered') return new UnorderedFunnel(n, spec.windowSeconds);
  return new OrderedFunnel(n, spec.windowSeconds, spec.order === 'strict', spec.optionalSteps);
}

export interface BreakdownInfo {
  /** code of the all-empty value ([""...]) */
  emptyCode: number;
  /** code -> values */
  values: string[][];
  /** code -> has a non-empty component */
  nonEmpty: Uint8Array;
}

function breakdownInfo(scan: ScanResult, spec: FunnelSpec): BreakdownInfo {
  const values = scan.bdDict.slice();
  const width = spec.breakdown ? spec.breakdown.length : 0;
  let emptyCode = values.findIndex((v) => v.every((x) => x === ''));
  if (emptyCode < 0) {
    emptyCode = values.length;
    values.push(Array.from({ length: width }, () => ''));
  }
  const nonEmpty = new Uint8Array(values.length);
  values.forEach((v, i) => (nonEmpty[i] = v.some((x) => x !== '') ? 1 : 0));
  return { emptyCode, values, nonEmpty };
}

/**
 * The mask bits a target must have for runTargets to look at it at all (matches its skip rules;
 * 0: every target, -1: any bit).
 */
export function relevantBits(spec: FunnelSpec, withBreakdown: boolean): number {
  if (spec.order === 'strict') return 0;
  const unordered = spec.order === 'unordered';
  if (!withBreakdown) return unordered ? -1 : 1;
  const stepAttr = attributionStep(spec);
  return stepAttr >= 0 && !unordered ? 1 << stepAttr : -1;
}

/** 0-indexed step whose event gives the breakdown value (step attribution), or -1. */
function attributionStep(spec: FunnelSpec): number {
  return spec.attribution === 'step' ? (spec.order === 'unordered' ? 0 : spec.attributionStep) : -1;
}

/**
 * Candidates per slice when two threads share one funnel's targets (see TargetSlices): small
 * enough that neither thread waits long for the other at the end.
 */
export const SPLIT_TARGETS = 4096;

/**
 * A share of a funnel's candidate targets: next() gives the first candidate of this thread's next
 * slice of `size` (from a counter both threads advance), until it is past the last one.
 */
export interface TargetSlices {
  next(): number;
  size: number;
}

/** Slices from a shared counter (an Int32Array on a SharedArrayBuffer, index 0). */
export function sharedSlices(counter: Int32Array, size = SPLIT_TARGETS): TargetSlices {
  return { next: () => Atomics.add(counter, 0, size), size };
}

/**
 * Run the UDF for every target of the scan. Calls `emit` per (target, breakdown value) with
 * step_reached >= 0 (PostHog's HAVING step_reached >= 0); the outcome object is reused, so
 * `emit` must copy what it keeps.
 */
export function runTargets(
  spec: FunnelSpec,
  scan: ScanResult,
  q: number,
  useBreakdown: boolean,
  emit: (o: TargetOutcome, info: BreakdownInfo | null) => void,
  slices?: TargetSlices,
): BreakdownInfo | null {
  const runner = makeRunner(spec);
  const bd = useBreakdown ? scan.bd : null;
  const info = useBreakdown && bd ? breakdownInfo(scan, spec) : null;
  const strict = spec.order === 'strict';
  const attribution = spec.attribution;
  const stepAttr = attributionStep(spec);
  const { mask, targets, nTargets, prepare } = scan.mask(q, relevantBits(spec, !!info && !!bd));
  const need = spec.order === 'unordered' ? -1 : 1;
  // one input and one filter object, updated per target and value (run() reads them only
  // while it runs), and typed scratch buffers instead of per-target arrays and sets
  const inp: UdfInput = { from: 0, to: 0, ts: scan.ts, mask, bd: info && bd ? bd : null, dropUnmatched: !strict, rows: new Int32Array(64), nRows: 0, simultaneousUs: 0 };
  const n = spec.steps.length;
  // one target's rows as PostHog's UDF gets them (eventArray), then the run over them
  const load = (a: number, b: number, or: number) => {
    inp.from = a;
    inp.to = b;
    inp.simultaneousUs = simultaneityUs(strict, n, or);
    eventArray(inp);
  };
  const pv: PropValFilter = { propVal: -1, filterEvents: false, breakdownStep: -1 };
  // emitted outcomes are read by `emit` at once, never kept: one object serves them all
  const out: TargetOutcome = { target: 0, propVal: 0, res: null as unknown as UdfResult };
  const send = (t: number, propVal: number, res: UdfResult, with_: BreakdownInfo | null) => {
    out.target = t;
    out.propVal = propVal;
    out.res = res;
    emit(out, with_);
  };
  // one target (rows a .. b, the OR of their masks `or`) without a breakdown: ordered and
  // strict funnels cannot start without a step-1 event (need)
  const plain = (t: number, a: number, b: number, or: number) => {
    if ((or & need) === 0) return;
    load(a, b, or);
    const res = runner.run(inp, pv);
    if (res.stepReached >= 0) send(t, 0, res, null);
  };
  const visit = info && bd ? byValue(info, bd) : plain;
  // with `slices`: only the candidates of the slices it hands out; else all of them
  const next = (): number => (slices ? slices.next() : nTargets);
  for (let k0 = slices ? slices.next() : 0; k0 < nTargets; k0 = next()) {
    const k1 = slices ? Math.min(nTargets, k0 + slices.size) : nTargets;
    for (let k = k0; k < k1; k++) {
      const t = targets[k]!;
      const a = scan.start[t]!;
      const b = scan.start[t + 1]!;
      // without a matching event there is no row for PostHog's UDF
      if (a !== b) visit(t, a, b, prepare(t));
    }
  }
  return info;

  /** One target with the breakdown values it enters the funnel with, each its own run. */
  function byValue(info: BreakdownInfo, bd: Int32Array) {
    pv.filterEvents = attribution === 'all_events';
    pv.breakdownStep = stepAttr;
    const seenAt = new Int32Array(info.values.length).fill(-1);
    let propVals = new Int32Array(16);
    return (t: number, a: number, b: number, or: number) => {
      if (stepAttr >= 0 && spec.order !== 'unordered') {
        // step attribution takes its values from events matching that step: none, no rows
        if ((or & (1 << stepAttr)) === 0) return;
      } else if (!strict && or === 0) return;
      // the rows PostHog's UDF gets (strict: every event; else those matching a step), in order
      let nVals = 0;
      let anyKept = false;
      if (attribution === 'first_touch' || attribution === 'last_touch') {
        let pick = -1;
        const first = attribution === 'first_touch';
        for (let j = a; j < b; j++) {
          const r = first ? j : a + b - 1 - j;
          if (!strict && mask[r] === 0) continue;
          anyKept = true;
          if (info.nonEmpty[bd[r]!]) {
            pick = bd[r]!;
            break;
          }
        }
        if (!anyKept) return;
        propVals[nVals++] = pick < 0 ? info.emptyCode : pick;
      } else {
        // all_events (and no attribution step): every kept row's value; step attribution: values
        // on events matching that step (unordered: prop_basic = every event)
        const onlyStep = !(attribution === 'all_events' || stepAttr < 0) && spec.order !== 'unordered';
        for (let r = a; r < b; r++) {
          if (!strict && mask[r] === 0) continue;
          anyKept = true;
          if (onlyStep && !(mask[r]! & (1 << stepAttr))) continue;
          const v = bd[r]!;
          if (seenAt[v] === t) continue;
          seenAt[v] = t;
          if (nVals === propVals.length) {
            const next = new Int32Array(nVals * 2);
            next.set(propVals);
            propVals = next;
          }
          propVals[nVals++] = v;
        }
        if (!anyKept) return;
      }
      load(a, b, or);
      for (let x = 0; x < nVals; x++) {
        pv.propVal = propVals[x]!;
        const res = runner.run(inp, pv);
        if (res.stepReached >= 0) send(t, pv.propVal, res, info);
      }
    };
  }
}
