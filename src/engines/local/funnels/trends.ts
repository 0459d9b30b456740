/**
 * Funnel trends: the conversion rate per interval of the step-1 time (PostHog's
 * funnelVizType "trends"), with its interval starts and labels.
 */
import { UsageError } from '../../../errors.js';
import type { QueryContext } from '../../types.js';
import { fromLocal, localParts } from '../dates.js';
import type { ScanResult } from './scan.js';
import type { FunnelSpec } from './spec.js';
import { runTrendsUdf } from './udf.js';


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

export function trendsResults(spec: FunnelSpec, scan: ScanResult, q: number, ctx: QueryContext): unknown {
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
