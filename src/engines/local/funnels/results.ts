/**
 * Result shaping: a funnel's outcomes aggregated like funnel_udf.py and answered in PostHog's
 * shapes (steps rows, breakdown ranking with "Other", time-to-convert bins), and the batch's
 * units of work (time-to-convert funnels that differ only in their span share one pass).
 */
import type { QueryContext } from '../../types.js';
import type { ScanResult } from './scan.js';
import type { FunnelSpec } from './spec.js';
import { Samples, mean, median } from './stats.js';
import { runTargets, type BreakdownInfo, type TargetSlices } from './targets.js';
import { trendsResults } from './trends.js';
import type { UdfResult } from './udf.js';

export interface Agg {
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

/**
 * A steps funnel's outcomes per breakdown value code (0 without a breakdown); with `slices`, only
 * the targets of the slices it hands out, the rest being another thread's.
 */
export function stepsAggregate(spec: FunnelSpec, scan: ScanResult, q: number, slices?: TargetSlices): { aggs: Map<number, Agg>; info: BreakdownInfo | null } {
  const n = spec.steps.length;
  const aggs = new Map<number, Agg>();
  const info = runTargets(
    spec,
    scan,
    q,
    !!spec.breakdown,
    (o) => {
      let agg = aggs.get(o.propVal);
      if (!agg) aggs.set(o.propVal, (agg = newAgg(n)));
      addOutcome(agg, o.res, n);
    },
    slices,
  );
  return { aggs, info };
}

/** Aggregates as plain data for postMessage: [value code, counts, samples per step] (the sample buffers can be transferred). */
export type AggParts = [number, number[], Float64Array[]][];

export function aggParts(aggs: Map<number, Agg>): AggParts {
  return [...aggs].map(([code, a]) => [code, a.counts, a.samples.map((x) => x.data.slice(0, x.length))]);
}

/** Adds another thread's aggregates (aggParts) into `aggs`: counts add up, samples join (results do not depend on their order). */
export function mergeAggParts(aggs: Map<number, Agg>, parts: AggParts, n: number): void {
  for (const [code, counts, samples] of parts) {
    let agg = aggs.get(code);
    if (!agg) aggs.set(code, (agg = newAgg(n)));
    for (let i = 0; i < n; i++) {
      agg.counts[i]! += counts[i]!;
      agg.samples[i]!.appendArray(samples[i]!);
    }
  }
}

function stepsResults(spec: FunnelSpec, scan: ScanResult, q: number): unknown {
  const { aggs, info } = stepsAggregate(spec, scan, q);
  return stepsFinish(spec, aggs, info);
}

/** A steps funnel's result rows from its aggregates (ranked breakdown values, "Other"). */
export function stepsFinish(spec: FunnelSpec, aggs: Map<number, Agg>, info: BreakdownInfo | null): unknown {
  const n = spec.steps.length;
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
 * conversion time comes out of the same run. Like funnel_time_to_convert_udf.py, it builds on
 * the steps' aggregation, breakdown included: with all_events or step attribution a target
 * converts within one breakdown value's events, and each value it converts in is one sample.
 */
function timeToConvertResults(specs: readonly FunnelSpec[], scan: ScanResult, q: number): unknown[] {
  const spans = specs.map((spec) => ({ fromStep: spec.fromStep, toStep: spec.toStep || spec.steps.length - 1, samples: new Samples() }));
  runTargets(specs[0]!, scan, q, !!specs[0]!.breakdown, (o) => {
    for (const { fromStep, toStep, samples } of spans) {
      if (o.res.stepReached < toStep) continue;
      let sum = 0;
      for (let i = fromStep; i < toStep && i < o.res.timingsLen; i++) sum += o.res.timings[i]!;
      samples.push(sum);
    }
  });
  return specs.map((spec, k) => timeToConvertBins(spec, spans[k]!.samples));
}

/**
 * PostHog's bins: bin_count + 1 lower edges from floor(min) in steps of ceil((max - min) /
 * bin_count) seconds (60 when that is 0). Without samples, ClickHouse's min and max of an empty
 * array are 0: one empty bin of 60 s (plus the closing edge), average and median null.
 */
function timeToConvertBins(spec: FunnelSpec, samples: Samples): unknown {
  let binCount: number;
  if (spec.binCount !== null) binCount = Math.min(90, Math.max(1, spec.binCount));
  else binCount = Math.trunc(Math.min(60, Math.max(1, Math.ceil(Math.cbrt(samples.length)))));
  let lo = samples.length ? Infinity : 0;
  let hi = samples.length ? -Infinity : 0;
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
  return { bins, average_conversion_time: mean(samples), median_conversion_time: median(samples) };
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

/** Results of one work item (funnel indexes into specs), in its order. */
export function itemResults(specs: readonly FunnelSpec[], item: readonly number[], scan: ScanResult, ctx: QueryContext): unknown[] {
  if (item.length === 1) return [resultsFor(specs[item[0]!]!, scan, item[0]!, ctx)];
  return timeToConvertResults(
    item.map((q) => specs[q]!),
    scan,
    item[0]!,
  );
}
