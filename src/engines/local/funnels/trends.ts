/**
 * Funnel trends: the conversion rate per interval of the step-1 time (PostHog's
 * funnelVizType "trends"), with its interval starts and labels.
 */
import { UsageError } from '../../../errors.js';
import type { QueryContext } from '../../types.js';
import { bucketDayAndLabel, intervalStarter, nextIntervalStart } from '../../../time/index.js';
import type { ScanResult } from './scan.js';
import type { FunnelSpec } from './spec.js';
import { runTrendsUdf } from './udf.js';

/** (the trends UDF reads from .. to; steps.rs' event list is not used there) */
const NO_ROWS = new Int32Array(0);

export function trendsResults(spec: FunnelSpec, scan: ScanResult, q: number, ctx: QueryContext): unknown {
  if (spec.order === 'unordered') {
    throw new UsageError('query.funnelsFilter: unordered funnel trends are not supported by the local engine', 'Use an ordered or strict funnel, or run with --engine posthog.');
  }
  if (spec.breakdown) {
    throw new UsageError('query.breakdownFilter: breakdowns of funnel trends are not supported by the local engine', 'Remove the breakdown, or run with --engine posthog.');
  }
  const n = spec.toStep === null ? spec.steps.length : spec.toStep + 1;
  const startOf = intervalStarter(spec.interval, ctx);
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
    const entries = runTrendsUdf({ from: a, to: b, ts: scan.ts, mask: trMask, bd: null, dropUnmatched: !strict, rows: NO_ROWS, nRows: 0, simultaneousUs: 0 }, n, spec.fromStep, spec.windowSeconds, strict, (r) =>
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
  for (let guard = 0; cur <= endMs && guard < 100_000; guard++) {
    const f = from.get(cur) ?? 0;
    const tcount = to.get(cur) ?? 0;
    data.push(f > 0 ? Math.round((tcount / f) * 100 * 100) / 100 : 0);
    const { day, label } = bucketDayAndLabel(cur, spec.interval, tz);
    days.push(day);
    labels.push(label);
    cur = nextIntervalStart(cur, spec.interval, tz);
  }
  return [{ count: data.length, data, days, labels }];
}
