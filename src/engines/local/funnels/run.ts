/**
 * The local FunnelsQuery engine: scan once per batch of compatible funnels, run the UDF port per
 * aggregation target, aggregate like funnel_udf.py, answer in PostHog's response shapes.
 */
import type { Store } from '../../../store/store.js';
import type { FunnelsQuery } from '../../../query/schema.js';
import type { QueryContext, QueryResponse } from '../../types.js';
import { formatResolvedDateRange } from '../../../time/index.js';
import { eventCount, scanFunnels, type ScanResult } from './scan.js';
import { scanKey } from './scan-sql.js';
import { buildFunnelSpec, type FunnelSpec } from './spec.js';
import { FunnelWorker, THREAD_MIN_EVENTS, WorkerGone, computeAll, funnelWorkerUrl, splittable } from './threads.js';
import { debug } from '../../../debug.js';

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
    // started before the scan, so its start-up overlaps DuckDB's work (one funnel: if both
    // threads can share its targets)
    const worker = workerUrl && (idxs.length >= 2 || splittable(specs[0]!)) && events >= minEvents ? new FunnelWorker(workerUrl) : null;
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
