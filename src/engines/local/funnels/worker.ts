/**
 * Worker thread for funnel passes. A batch of funnels shares one grouped scan; once the scan is
 * on shared memory, this thread and the main thread take funnels from a shared counter until
 * none is left, so both cores run funnel passes (each pass is independent, and a funnel's
 * result does not depend on which thread computed it).
 *
 * Protocol: the parent posts one FunnelJob; the worker answers with a FunnelDone per funnel it
 * computed (or failed on: the parent then computes that funnel itself, which reports the
 * error the usual way) and ends with {done: true}.
 */
import { parentPort } from 'node:worker_threads';
import type { QueryContext } from '../../types.js';
import { resultsFor } from './run.js';
import { scanFromData, type ScanData } from './scan.js';
import type { FunnelSpec } from './spec.js';

export interface FunnelJob {
  scan: ScanData;
  specs: FunnelSpec[];
  ctx: QueryContext;
  /** Int32Array over a SharedArrayBuffer: index [0] is the next funnel to take */
  counter: Int32Array;
}

export type FunnelDone = { q: number; results: unknown; ms: number } | { q: number; failed: true } | { done: true };

parentPort?.once('message', (job: FunnelJob) => {
  const scan = scanFromData(job.scan);
  for (;;) {
    const q = Atomics.add(job.counter, 0, 1);
    if (q >= job.specs.length) break;
    const t0 = performance.now();
    try {
      const results = resultsFor(job.specs[q]!, scan, q, job.ctx);
      parentPort!.postMessage({ q, results, ms: performance.now() - t0 } satisfies FunnelDone);
    } catch {
      parentPort!.postMessage({ q, failed: true } satisfies FunnelDone);
    }
  }
  parentPort!.postMessage({ done: true } satisfies FunnelDone);
});
