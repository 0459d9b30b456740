/**
 * The local FunnelsQuery engine: scan once per batch of compatible funnels, run the UDF port per
 * aggregation target, aggregate like funnel_udf.py, answer in PostHog's response shapes.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../../../store/store.js';
import { UsageError } from '../../../errors.js';
import type { FunnelsActorsQuery, FunnelsQuery } from '../../../query/schema.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import { formatResolvedDateRange, fromLocal, localParts } from '../dates.js';
import { eventCount, scanFunnels, scanKey, type BucketGroups, type GroupState, type ScanResult } from './scan.js';
import { buildFunnelSpec, type FunnelSpec } from './spec.js';
import type { WorkerAnswer, WorkerRequest } from './worker.js';
import { OrderedFunnel, UnorderedFunnel, runTrendsUdf, type PropValFilter, type UdfInput, type UdfResult } from './udf.js';
import { debug } from '../../../debug.js';

/** k-th smallest of a[0..n) (reorders a), Hoare quickselect with median-of-three pivots. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    let x = a[lo]!;
    let y = a[mid]!;
    let z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Values at or above this count are narrowed down by a histogram before the quickselect. */
const HISTOGRAM_MIN = 1 << 12;
const HISTOGRAM_BUCKETS = 1 << 12;

/**
 * The values of a[0..n) at sorted positions lo and lo + 1 (lo + 1 < n), without reordering a.
 * Big inputs: one pass counts the values per histogram bucket of [min, max] (bucket index is
 * monotonic in the value, so the ranks fall in known buckets), then only those buckets' values
 * are selected from; a quickselect over all of them took ~3x as long.
 */
function middlePair(a: Float64Array, n: number, lo: number, narrow = true): [number, number] {
  if (n < HISTOGRAM_MIN || !narrow) {
    const c = a.slice(0, n);
    const vlo = select(c, n, lo);
    // the upper value is the minimum of the part above lo
    let vhi = Infinity;
    for (let i = lo + 1; i < n; i++) if (c[i]! < vhi) vhi = c[i]!;
    return [vlo, vhi];
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return [min, min];
  const last = HISTOGRAM_BUCKETS - 1;
  const scale = HISTOGRAM_BUCKETS / (max - min);
  const bucketOf = (v: number) => Math.min(last, Math.floor((v - min) * scale));
  const counts = new Int32Array(HISTOGRAM_BUCKETS);
  for (let i = 0; i < n; i++) counts[bucketOf(a[i]!)]!++;
  // buckets holding ranks lo and lo + 1, and how many values lie below the first
  let below = 0;
  let b = 0;
  while (below + counts[b]! <= lo) below += counts[b++]!;
  let b2 = b;
  let below2 = below;
  while (below2 + counts[b2]! <= lo + 1) below2 += counts[b2++]!;
  const size = counts[b]! + (b2 !== b ? counts[b2]! : 0);
  const part = new Float64Array(size);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = bucketOf(a[i]!);
    if (x === b || x === b2) part[m++] = a[i]!;
  }
  // part holds the values of buckets b and b2 (all below them are smaller): ranks shift by
  // `below`; if nothing was narrowed down (two values only, say), select directly
  return middlePair(part, m, lo - below, m < n);
}

/** ClickHouse median (quantile(0.5)) computed exactly: linear interpolation between middle values. */
export function median(values: Samples | number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  const a = values instanceof Samples ? values.data : Float64Array.from(values);
  if (n === 1) return a[0]!;
  const pos = (n - 1) * 0.5;
  const lo = Math.floor(pos);
  const [vlo, vhi] = middlePair(a, n, lo);
  return Math.ceil(pos) === lo ? vlo : vlo + (vhi - vlo) * (pos - lo);
}

/**
 * Mean of conversion times. Times are whole microseconds (as seconds): summed as integers the
 * total is exact, so the mean does not depend on the order targets were visited in.
 */
function mean(values: Samples): number | null {
  if (values.length === 0) return null;
  let sumUs = 0;
  for (let i = 0; i < values.length; i++) sumUs += Math.round(values.data[i]! * 1e6);
  return sumUs / 1e6 / values.length;
}

const NO_SAMPLES = new Float64Array(0);

/**
 * A growable list of float samples. Storage comes with the first sample: a breakdown with many
 * values has one per step and value, most of them empty.
 */
export class Samples {
  data = NO_SAMPLES;
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(Math.max(8, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  append(o: Samples): void {
    for (let i = 0; i < o.length; i++) this.push(o.data[i]!);
  }
}

/** Per (target, breakdown value) UDF outcome. */
interface TargetOutcome {
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

interface BreakdownInfo {
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
function relevantBits(spec: FunnelSpec, withBreakdown: boolean): number {
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
 * Run the UDF for every target of the scan. Calls `emit` per (target, breakdown value) with
 * step_reached >= 0 (PostHog's HAVING step_reached >= 0); the outcome object is reused, so
 * `emit` must copy what it keeps.
 */
function runTargets(
  spec: FunnelSpec,
  scan: ScanResult,
  q: number,
  useBreakdown: boolean,
  emit: (o: TargetOutcome, info: BreakdownInfo | null) => void,
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
  const inp: UdfInput = { from: 0, to: 0, ts: scan.ts, mask, bd: info && bd ? bd : null, dropUnmatched: !strict };
  const pv: PropValFilter = { propVal: -1, filterEvents: false, breakdownStep: -1 };
  // emitted outcomes are read by `emit` at once, never kept: one object serves them all
  const out: TargetOutcome = { target: 0, propVal: 0, res: null as unknown as UdfResult };
  const send = (t: number, propVal: number, res: UdfResult, with_: BreakdownInfo | null) => {
    out.target = t;
    out.propVal = propVal;
    out.res = res;
    emit(out, with_);
  };
  if (!info || !bd) {
    for (let k = 0; k < nTargets; k++) {
      const t = targets[k]!;
      const a = scan.start[t]!;
      const b = scan.start[t + 1]!;
      // Without a matching event there is no row for PostHog's UDF; ordered and strict
      // funnels also cannot start without a step-1 event. Skip such targets early.
      if (a === b || (prepare(t) & need) === 0) continue;
      inp.from = a;
      inp.to = b;
      const res = runner.run(inp, pv);
      if (res.stepReached >= 0) send(t, 0, res, null);
    }
    return info;
  }
  pv.filterEvents = attribution === 'all_events';
  pv.breakdownStep = stepAttr;
  const seenAt = new Int32Array(info.values.length).fill(-1);
  let propVals = new Int32Array(16);
  for (let k = 0; k < nTargets; k++) {
    const t = targets[k]!;
    const a = scan.start[t]!;
    const b = scan.start[t + 1]!;
    if (a === b) continue;
    const or = prepare(t);
    if (stepAttr >= 0 && spec.order !== 'unordered') {
      // step attribution takes its values from events matching that step: none, no rows
      if ((or & (1 << stepAttr)) === 0) continue;
    } else if (!strict && or === 0) continue;
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
      if (!anyKept) continue;
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
      if (!anyKept) continue;
    }
    inp.from = a;
    inp.to = b;
    for (let x = 0; x < nVals; x++) {
      pv.propVal = propVals[x]!;
      const res = runner.run(inp, pv);
      if (res.stepReached >= 0) send(t, pv.propVal, res, info);
    }
  }
  return info;
}

interface Agg {
  counts: number[];
  /** samples[i] = conversion times (s) of step i (i >= 1) */
  samples: Samples[];
}

function newAgg(n: number): Agg {
  return { counts: new Array<number>(n).fill(0), samples: Array.from({ length: n }, () => new Samples()) };
}

function addOutcome(agg: Agg, res: UdfResult, n: number): void {
  for (let i = 0; i < n; i++) if (res.bitfield & (1 << i)) agg.counts[i]!++;
  for (let i = 1; i < n && i - 1 < res.timingsLen; i++) {
    const v = res.timings[i - 1]!;
    if (v > 0) agg.samples[i]!.push(v);
  }
}

function stepRows(spec: FunnelSpec, agg: Agg, breakdown: string[] | null): Record<string, unknown>[] {
  return spec.steps.map((s, i) => {
    const unordered = spec.order === 'unordered';
    const row: Record<string, unknown> = {
      action_id: unordered ? null : s.event,
      name: unordered ? `Completed ${i + 1} step${i > 0 ? 's' : ''}` : (s.event ?? s.name ?? 'All events'),
      custom_name: unordered ? null : s.customName,
      order: i,
      people: [],
      count: agg.counts[i] ?? 0,
      type: 'events',
      average_conversion_time: i === 0 ? null : mean(agg.samples[i]!),
      median_conversion_time: i === 0 ? null : median(agg.samples[i]!),
    };
    if (breakdown) {
      row.breakdown = breakdown;
      row.breakdown_value = breakdown;
    }
    return row;
  });
}

function compareCounts(a: Agg, b: Agg): number {
  for (let i = a.counts.length - 1; i >= 0; i--) {
    const d = b.counts[i]! - a.counts[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

function stepsResults(spec: FunnelSpec, scan: ScanResult, q: number): unknown {
  const n = spec.steps.length;
  const aggs = new Map<number, Agg>();
  const info = runTargets(spec, scan, q, !!spec.breakdown, (o) => {
    let agg = aggs.get(o.propVal);
    if (!agg) aggs.set(o.propVal, (agg = newAgg(n)));
    addOutcome(agg, o.res, n);
  });
  if (aggs.size === 0) return [];
  if (!spec.breakdown || !info) return stepRows(spec, aggs.get(0)!, null);
  // rank values by step_n DESC .. step_1 DESC; beyond the limit merge into ["Other"]
  // ties ordered by the value's JSON text, computed once per value rather than per comparison
  const keyOf = new Map<number, string>();
  for (const code of aggs.keys()) keyOf.set(code, JSON.stringify(info.values[code]));
  const ranked = [...aggs.entries()].sort((x, y) => compareCounts(x[1], y[1]) || compareText(keyOf.get(x[0])!, keyOf.get(y[0])!));
  const limit = spec.breakdownLimit;
  const rows: { value: string[]; agg: Agg }[] = [];
  let other: Agg | null = null;
  ranked.forEach(([code, agg], idx) => {
    if (idx < limit) rows.push({ value: info.values[code]!, agg });
    else {
      other ??= newAgg(n);
      for (let i = 0; i < n; i++) {
        other.counts[i]! += agg.counts[i]!;
        other.samples[i]!.append(agg.samples[i]!);
      }
    }
  });
  if (other) rows.push({ value: ['Other'], agg: other });
  rows.sort((x, y) => compareCounts(x.agg, y.agg));
  return rows.map((r) => stepRows(spec, r.agg, r.value));
}

function compareText(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Time-to-convert results of funnels that differ only in their from/to steps and bin count
 * (one per step of a track, say): one funnel pass serves them all, since every step's
 * conversion time comes out of the same run.
 */
function timeToConvertResults(specs: readonly FunnelSpec[], scan: ScanResult, q: number): unknown[] {
  const spans = specs.map((spec) => ({ fromStep: spec.fromStep, toStep: spec.toStep || spec.steps.length - 1, samples: new Samples() }));
  runTargets(specs[0]!, scan, q, false, (o) => {
    for (const { fromStep, toStep, samples } of spans) {
      if (o.res.stepReached < toStep) continue;
      let sum = 0;
      for (let i = fromStep; i < toStep && i < o.res.timingsLen; i++) sum += o.res.timings[i]!;
      samples.push(sum);
    }
  });
  return specs.map((spec, k) => timeToConvertBins(spec, spans[k]!.samples));
}

function timeToConvertBins(spec: FunnelSpec, samples: Samples): unknown {
  if (samples.length === 0) return { bins: [], average_conversion_time: null };
  let binCount: number;
  if (spec.binCount !== null) binCount = Math.min(90, Math.max(1, spec.binCount));
  else binCount = Math.trunc(Math.min(60, Math.max(1, Math.ceil(Math.cbrt(samples.length)))));
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    const v = samples.data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const minT = Math.floor(lo);
  const maxT = Math.ceil(hi);
  const raw = Math.ceil((maxT - minT) / binCount);
  const width = raw > 0 ? raw : 60;
  const counts = new Array<number>(binCount + 1).fill(0);
  for (let i = 0; i < samples.length; i++) {
    const v = samples.data[i]!;
    const k = Math.floor((v - minT) / width);
    if (k >= 0 && k <= binCount) counts[k]!++;
  }
  const bins = counts.map((c, k) => [Math.round(minT + k * width), c]);
  return { bins, average_conversion_time: mean(samples) };
}

// ---- funnel trends

function intervalStartFn(interval: FunnelSpec['interval'], ctx: QueryContext): (ms: number) => number {
  const tz = ctx.timezone;
  const cache = new Map<number, number>();
  return (ms: number) => {
    const hourKey = Math.floor(ms / 3_600_000);
    if (interval !== 'minute') {
      const c = cache.get(hourKey);
      if (c !== undefined) return c;
    }
    const p = localParts(ms, tz);
    let out: number;
    switch (interval) {
      case 'minute':
        out = fromLocal({ ...p, second: 0, ms: 0 }, tz);
        break;
      case 'hour':
        out = fromLocal({ ...p, minute: 0, second: 0, ms: 0 }, tz);
        break;
      case 'day':
        out = fromLocal({ ...p, hour: 0, minute: 0, second: 0, ms: 0 }, tz);
        break;
      case 'week': {
        const dow = new Date(Date.UTC(p.year, p.month - 1, p.day)).getUTCDay();
        const back = (dow - ctx.weekStart + 7) % 7;
        out = fromLocal({ ...p, day: p.day - back, hour: 0, minute: 0, second: 0, ms: 0 }, tz);
        break;
      }
      case 'month':
        out = fromLocal({ ...p, day: 1, hour: 0, minute: 0, second: 0, ms: 0 }, tz);
        break;
    }
    if (interval !== 'minute') cache.set(hourKey, out);
    return out;
  };
}

function nextInterval(start: number, interval: FunnelSpec['interval'], tz: string): number {
  const p = localParts(start, tz);
  switch (interval) {
    case 'minute':
      return start + 60_000;
    case 'hour':
      return start + 3_600_000;
    case 'day':
      return fromLocal({ ...p, day: p.day + 1 }, tz);
    case 'week':
      return fromLocal({ ...p, day: p.day + 7 }, tz);
    case 'month':
      return fromLocal({ ...p, month: p.month + 1 }, tz);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function trendsResults(spec: FunnelSpec, scan: ScanResult, q: number, ctx: QueryContext): unknown {
  if (spec.order === 'unordered') {
    throw new UsageError('query.funnelsFilter: unordered funnel trends are not supported by the local engine', 'Use an ordered or strict funnel, or run with --engine posthog.');
  }
  if (spec.breakdown) {
    throw new UsageError('query.breakdownFilter: breakdowns of funnel trends are not supported by the local engine', 'Remove the breakdown, or run with --engine posthog.');
  }
  const n = spec.toStep === null ? spec.steps.length : spec.toStep + 1;
  const startOf = intervalStartFn(spec.interval, ctx);
  const { mask, targets, nTargets, prepare } = scan.mask(q, 0);
  const from = new Map<number, number>();
  const to = new Map<number, number>();
  const strict = spec.order === 'strict';
  // masks restricted to the truncated funnel (steps < n, exclusion slots < n)
  const full = spec.steps.length;
  const trMask = new Int32Array(mask.length);
  for (let k = 0; k < nTargets; k++) {
    const t = targets[k]!;
    const a = scan.start[t]!;
    const b = scan.start[t + 1]!;
    if (a === b) continue;
    prepare(t);
    for (let r = a; r < b; r++) {
      const m = mask[r]!;
      let out = m & ((1 << n) - 1);
      for (let slot = 1; slot < n; slot++) if (m & (1 << (full + slot - 1))) out |= 1 << (n + slot - 1);
      trMask[r] = out;
    }
    const entries = runTrendsUdf({ from: a, to: b, ts: scan.ts, mask: trMask, bd: null, dropUnmatched: !strict }, n, spec.fromStep, spec.windowSeconds, strict, (r) =>
      startOf(scan.ts[r]! / 1000),
    );
    for (const e of entries) {
      from.set(e.intervalStart, (from.get(e.intervalStart) ?? 0) + 1);
      if (e.result === 1) to.set(e.intervalStart, (to.get(e.intervalStart) ?? 0) + 1);
    }
  }
  const data: number[] = [];
  const days: string[] = [];
  const labels: string[] = [];
  const tz = ctx.timezone;
  const endMs = Number(spec.range.toUs / 1000n);
  let cur = startOf(Number(spec.range.fromUs / 1000n));
  const pad = (x: number) => String(x).padStart(2, '0');
  for (let guard = 0; cur <= endMs && guard < 100_000; guard++) {
    const f = from.get(cur) ?? 0;
    const tcount = to.get(cur) ?? 0;
    data.push(f > 0 ? Math.round((tcount / f) * 100 * 100) / 100 : 0);
    const p = localParts(cur, tz);
    const hms = spec.interval === 'hour' || spec.interval === 'minute' ? ` ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}` : '';
    days.push(`${p.year}-${pad(p.month)}-${pad(p.day)}${hms}`);
    labels.push(`${p.day}-${MONTHS[p.month - 1]}-${p.year}`);
    cur = nextInterval(cur, spec.interval, tz);
  }
  return [{ count: data.length, data, days, labels }];
}

// ---- public API

export interface PreparedFunnel {
  spec: FunnelSpec;
  key: string;
  /** the key without the breakdown (a funnel without one can join a scan that has one) */
  baseKey: string;
}

export function prepareFunnel(query: FunnelsQuery, store: Store, ctx: QueryContext): PreparedFunnel {
  const spec = buildFunnelSpec(query, ctx);
  return { spec, key: scanKey(spec, store), baseKey: scanKey(spec, store, false) };
}

function responseFor(spec: FunnelSpec, results: unknown, ctx: QueryContext, ms: number): QueryResponse {
  return {
    results,
    timings: [{ k: 'local_engine', t: ms / 1000 }],
    hogql: null,
    modifiers: {},
    resolved_date_range: formatResolvedDateRange(spec.range, ctx.timezone),
    isUdf: true,
    is_cached: false,
    timezone: ctx.timezone,
  };
}

export function resultsFor(spec: FunnelSpec, scan: ScanResult, q: number, ctx: QueryContext): unknown {
  switch (spec.viz) {
    case 'steps':
      return stepsResults(spec, scan, q);
    case 'time_to_convert':
      return timeToConvertResults([spec], scan, q)[0];
    case 'trends':
      return trendsResults(spec, scan, q, ctx);
  }
}

/**
 * A batch's funnels as units of work: one funnel each, except time-to-convert funnels that
 * differ only in their steps span and bins, which share one pass.
 */
export function workItems(specs: readonly FunnelSpec[]): number[][] {
  const items: number[][] = [];
  const shared = new Map<string, number[]>();
  specs.forEach((spec, q) => {
    if (spec.viz !== 'time_to_convert') return void items.push([q]);
    const key = JSON.stringify({ ...spec, query: null, fromStep: null, toStep: null, binCount: null }, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    const item = shared.get(key);
    if (item) item.push(q);
    else {
      const fresh = [q];
      shared.set(key, fresh);
      items.push(fresh);
    }
  });
  return items;
}

/**
 * Work items, biggest first (by the targets their passes visit), so that two threads taking them
 * in turn do not end with one waiting while the other runs a big one.
 */
function byCost(items: number[][], specs: readonly FunnelSpec[], scan: ScanResult): number[][] {
  const cost = (item: number[]): number => {
    const spec = specs[item[0]!]!;
    const relevant = spec.viz === 'trends' ? 0 : relevantBits(spec, spec.viz === 'steps' && !!spec.breakdown && !!scan.bd);
    return scan.candidates(item[0]!, relevant);
  };
  return items
    .map((item, i) => ({ item, i, c: cost(item) }))
    .sort((a, b) => b.c - a.c || a.i - b.i)
    .map((x) => x.item);
}

/** Results of one work item (funnel indexes into specs), in its order. */
export function itemResults(specs: readonly FunnelSpec[], item: readonly number[], scan: ScanResult, ctx: QueryContext): unknown[] {
  if (item.length === 1) return [resultsFor(specs[item[0]!]!, scan, item[0]!, ctx)];
  return timeToConvertResults(
    item.map((q) => specs[q]!),
    scan,
    item[0]!,
  );
}

/**
 * Funnel passes run on two threads once a scan is this big (a worker costs tens of
 * milliseconds to start and its module load overlaps the DuckDB scan). Environment:
 * DISCOVER_METRICS_FUNNEL_THREADS=1 keeps them on one thread;
 * DISCOVER_METRICS_FUNNEL_THREADS_MIN_EVENTS changes the threshold (tests use 0).
 */
const THREAD_MIN_EVENTS = 500_000;

function funnelWorkerUrl(): URL | null {
  if (process.env.DISCOVER_METRICS_FUNNEL_THREADS === '1' || availableParallelism() < 2) return null;
  // the compiled worker sits next to this file; run from TypeScript sources (tests), there is none
  const url = new URL('./worker.js', import.meta.url);
  return url.protocol === 'file:' && import.meta.url.endsWith('.js') && existsSync(fileURLToPath(url)) ? url : null;
}

type Computed = { results: unknown; ms: number };

/** Computes one work item into out[q] for each of its funnels (each gets the item's time). */
function computeItem(specs: readonly FunnelSpec[], item: readonly number[], scan: ScanResult, ctx: QueryContext, out: (Computed | undefined)[]): void {
  const t0 = performance.now();
  const results = itemResults(specs, item, scan, ctx);
  const ms = performance.now() - t0;
  item.forEach((q, k) => (out[q] = { results: results[k], ms }));
}

/** Every funnel of the batch on this thread. */
function computeAll(specs: readonly FunnelSpec[], scan: ScanResult, ctx: QueryContext): Computed[] {
  const out: (Computed | undefined)[] = new Array(specs.length);
  for (const item of workItems(specs)) computeItem(specs, item, scan, ctx, out);
  return out as Computed[];
}

/** The worker stopped (crashed, failed to load) while this thread waited for it. */
class WorkerGone extends Error {}

/**
 * This thread's side of the funnel worker (worker.ts): one request at a time, answers
 * dispatched to whoever waits for them.
 */
class FunnelWorker {
  private readonly worker: Worker;
  private onAnswer: ((a: WorkerAnswer) => void) | null = null;
  private onGone: ((e: Error) => void) | null = null;
  private gone: Error | null = null;

  constructor(url: URL) {
    this.worker = new Worker(url);
    this.worker.on('message', (a: WorkerAnswer) => this.onAnswer?.(a));
    const lost = (e: Error) => {
      this.gone ??= e;
      this.onGone?.(this.gone);
    };
    this.worker.on('error', (e) => lost(new WorkerGone(`funnel worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => lost(new WorkerGone(`funnel worker exited (code ${code})`)));
  }

  private request<T>(req: WorkerRequest, handle: (a: WorkerAnswer, done: (v: T) => void, fail: (e: Error) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.gone) return reject(this.gone);
      const finish = () => {
        this.onAnswer = null;
        this.onGone = null;
      };
      this.onAnswer = (a) =>
        handle(
          a,
          (v) => (finish(), resolve(v)),
          (e) => (finish(), reject(e)),
        );
      this.onGone = (e) => (finish(), reject(e));
      this.worker.postMessage(req);
    });
  }

  /** finishBuckets() of buckets [from, to) on the worker. */
  finish(state: GroupState, from: number, to: number): Promise<BucketGroups> {
    return this.request<BucketGroups>({ kind: 'group', state, from, to }, (a, done, fail) => {
      if (a.kind === 'group') done(a.groups);
      else if (a.kind === 'group-failed') fail(new WorkerGone(`funnel worker: ${a.message}`));
    });
  }

  /**
   * Every funnel of the batch, on this thread and the worker: both take the next work item from
   * a shared counter. Whatever the worker does not deliver (a failure, a crash) is computed
   * here, so errors surface exactly as on one thread.
   */
  async compute(scan: ScanResult, specs: FunnelSpec[], ctx: QueryContext): Promise<Computed[]> {
    const out: (Computed | undefined)[] = new Array(specs.length);
    const items = byCost(workItems(specs), specs, scan);
    const counter = new Int32Array(new SharedArrayBuffer(4));
    let byWorker = 0;
    const finished = this.request<void>({ kind: 'funnels', scan: scan.data, specs, items, ctx, counter }, (a, done) => {
      if (a.kind === 'funnel') {
        out[a.q] = { results: a.results, ms: a.ms };
        byWorker++;
      } else if (a.kind === 'funnels-done') done();
    }).catch(() => undefined);
    for (;;) {
      const k = Atomics.add(counter, 0, 1);
      if (k >= items.length) break;
      computeItem(specs, items[k]!, scan, ctx, out);
    }
    await finished;
    debug('funnel', () => `${specs.length} funnels on 2 threads, ${byWorker} by the worker, done ${performance.now().toFixed(0)} ms since start`);
    for (const item of items) if (item.some((q) => !out[q])) computeItem(specs, item, scan, ctx, out);
    return out as Computed[];
  }

  terminate(): Promise<number> {
    this.onGone = null;
    return this.worker.terminate();
  }
}

/** Run several FunnelsQuery objects; compatible ones share one scan. */
export async function runFunnels(store: Store, queries: readonly FunnelsQuery[], ctx: QueryContext): Promise<QueryResponse[]> {
  const prepared = queries.map((q) => prepareFunnel(q, store, ctx));
  const groups = new Map<string, number[]>();
  // funnels without a breakdown join a scan with one when everything else matches
  const withBreakdown = new Map<string, string>();
  prepared.forEach((p) => {
    if (p.spec.breakdown && !withBreakdown.has(p.baseKey)) withBreakdown.set(p.baseKey, p.key);
  });
  prepared.forEach((p, i) => {
    const key = p.spec.breakdown ? p.key : (withBreakdown.get(p.baseKey) ?? p.key);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  });
  const out: QueryResponse[] = new Array(queries.length);
  const workerUrl = funnelWorkerUrl();
  const minEvents = Number(process.env.DISCOVER_METRICS_FUNNEL_THREADS_MIN_EVENTS ?? THREAD_MIN_EVENTS);
  const events = await eventCount(store);
  for (const idxs of groups.values()) {
    const t0 = performance.now();
    const specs = idxs.map((i) => prepared[i]!.spec);
    // started before the scan, so its start-up overlaps DuckDB's work
    const worker = workerUrl && idxs.length >= 2 && events >= minEvents ? new FunnelWorker(workerUrl) : null;
    try {
      let scan: ScanResult;
      try {
        scan = await scanFunnels(store, specs, worker ? { events, shared: true, helper: (st, from, to) => worker.finish(st, from, to) } : { events });
      } catch (e) {
        // the worker died halfway through the grouping: the scan's arrays cannot be trusted
        if (!(e instanceof WorkerGone)) throw e;
        scan = await scanFunnels(store, specs, { events });
      }
      const computed = worker && scan.data.ts.buffer instanceof SharedArrayBuffer ? await worker.compute(scan, specs, ctx) : computeAll(specs, scan, ctx);
      idxs.forEach((qi, k) => {
        debug('funnel', () => `query ${qi}: ${computed[k]!.ms.toFixed(0)} ms`);
        out[qi] = responseFor(specs[k]!, computed[k]!.results, ctx, performance.now() - t0);
      });
    } finally {
      if (worker) await worker.terminate();
    }
  }
  return out;
}

// ---- actors

export interface FunnelActor {
  /** aggregation value (person id, or the HogQL aggregation value) */
  id: string | null;
}

function flatten(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(flatten);
  if (v === null || v === undefined) return [];
  return [typeof v === 'number' ? String(Math.trunc(v)) : String(v)];
}

/** Targets matching a FunnelsActorsQuery (funnelStep 1-indexed; negative = dropped off before |N|). */
export async function funnelActorIds(store: Store, aq: FunnelsActorsQuery, ctx: QueryContext): Promise<{ ids: (string | null)[]; spec: FunnelSpec }> {
  const spec = buildFunnelSpec(aq.source, ctx);
  if (spec.viz === 'trends') {
    throw new UsageError('query.source: actors of funnel trends are not supported by the local engine', 'Use funnelVizType "steps" in the source, or run with --engine posthog.');
  }
  const step = aq.funnelStep;
  if (step === null || step === undefined) throw new UsageError('query.funnelStep: Missing funnelStep in actors query');
  const n = spec.steps.length;
  if (step === 0 || Math.abs(step) > n) throw new UsageError(`query.funnelStep: must be between 1 and ${n} (or -2..-${n} for drop-offs), got ${step}`);
  let prior = -1;
  if (step < 0) {
    for (let i = Math.abs(step) - 2; i >= 0; i--) {
      if (!spec.steps[i]!.optional) {
        prior = i;
        break;
      }
    }
    if (prior < 0) throw new UsageError('query.funnelStep: Missing prior required step in actors query');
  }
  const wantBreakdown = aq.funnelStepBreakdown;
  const scan = await scanFunnels(store, [spec], { withTargetNames: true });
  const matches = new Set<number>();
  const useBd = !!spec.breakdown && spec.viz === 'steps';
  runTargets(spec, scan, 0, useBd, (o, info) => {
    const bits = o.res.bitfield;
    const ok = step > 0 ? (bits & (1 << (step - 1))) !== 0 : (bits & (1 << prior)) !== 0 && (bits & (1 << (Math.abs(step) - 1))) === 0;
    if (!ok) return;
    if (wantBreakdown !== null && wantBreakdown !== undefined && info) {
      const value = info.values[o.propVal]!;
      if (JSON.stringify(flatten(value)) !== JSON.stringify(flatten(wantBreakdown))) return;
    }
    matches.add(o.target);
  });
  const ids = [...matches].map((t) => scan.targetNames![t] ?? null);
  return { ids, spec };
}
