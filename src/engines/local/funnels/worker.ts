/**
 * Worker thread for big funnel batches: it finishes half of the scan's grouping (radix buckets
 * are independent after the global pass), then takes funnels from a shared counter alongside
 * the main thread until none is left. Everything it reads or writes is on SharedArrayBuffers;
 * a funnel's result does not depend on which thread computed it.
 *
 * Requests and answers:
 *   {kind: 'radix', state, from, to}  -> {kind: 'radix', starts}   (or {kind: 'radix-failed'})
 *   {kind: 'funnels', ...FunnelJob}   -> {kind: 'funnel', q, results, ms} per funnel it took
 *                                        ({kind: 'funnel-failed', q} when one throws: the parent
 *                                        computes it itself and reports the error the usual way),
 *                                        then {kind: 'funnels-done'}
 */
import { parentPort } from 'node:worker_threads';
import type { QueryContext } from '../../types.js';
import { resultsFor } from './run.js';
import { radixFinish, scanFromData, type RadixState, type ScanData } from './scan.js';
import type { FunnelSpec } from './spec.js';

export interface FunnelJob {
  scan: ScanData;
  specs: FunnelSpec[];
  ctx: QueryContext;
  /** Int32Array over a SharedArrayBuffer: index [0] is the next funnel to take */
  counter: Int32Array;
}

export type WorkerRequest = { kind: 'radix'; state: RadixState; from: number; to: number } | ({ kind: 'funnels' } & FunnelJob);

export type WorkerAnswer =
  | { kind: 'radix'; starts: Int32Array }
  | { kind: 'radix-failed'; message: string }
  | { kind: 'funnel'; q: number; results: unknown; ms: number }
  | { kind: 'funnel-failed'; q: number }
  | { kind: 'funnels-done' };

const send = (a: WorkerAnswer) => parentPort!.postMessage(a);

function runFunnelJob(job: FunnelJob): void {
  const scan = scanFromData(job.scan);
  for (;;) {
    const q = Atomics.add(job.counter, 0, 1);
    if (q >= job.specs.length) break;
    const t0 = performance.now();
    try {
      send({ kind: 'funnel', q, results: resultsFor(job.specs[q]!, scan, q, job.ctx), ms: performance.now() - t0 });
    } catch {
      send({ kind: 'funnel-failed', q });
    }
  }
  send({ kind: 'funnels-done' });
}

parentPort?.on('message', (m: WorkerRequest) => {
  if (m.kind === 'radix') {
    try {
      send({ kind: 'radix', starts: radixFinish(m.state, m.from, m.to) });
    } catch (e) {
      send({ kind: 'radix-failed', message: e instanceof Error ? e.message : String(e) });
    }
  } else runFunnelJob(m);
});
