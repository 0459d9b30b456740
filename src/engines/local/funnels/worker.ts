/**
 * Worker thread for big funnel batches: it finishes half of the scan's grouping (the scan's
 * buckets are independent; see group.ts), then takes funnels from a shared counter alongside
 * the main thread until none is left. Everything it reads or writes is on SharedArrayBuffers;
 * a funnel's result does not depend on which thread computed it.
 *
 * Requests and answers:
 *   {kind: 'group', state, from, to}  -> {kind: 'group', groups}   (or {kind: 'group-failed'})
 *   {kind: 'funnels', ...FunnelJob}   -> {kind: 'funnel', q, results, ms} per funnel it took
 *                                        ({kind: 'funnel-failed', q} when one throws: the parent
 *                                        computes it itself and reports the error the usual way),
 *                                        then {kind: 'funnels-done'}
 *   {kind: 'steps', ...StepsJob}      -> {kind: 'steps', parts}     (or {kind: 'steps-failed'}): one
 *                                        steps funnel's targets, slice by slice from a shared
 *                                        counter alongside the main thread; `parts` are the
 *                                        aggregates of the slices it took (aggParts)
 */
import { parentPort } from 'node:worker_threads';
import type { QueryContext } from '../../types.js';
import { aggParts, itemResults, stepsAggregate, type AggParts } from './results.js';
import { finishBuckets, type BucketGroups, type GroupState } from './group.js';
import { scanFromData, type ScanData } from './scan-data.js';
import type { FunnelSpec } from './spec.js';
import { sharedSlices } from './targets.js';

export interface FunnelJob {
  scan: ScanData;
  specs: FunnelSpec[];
  /** units of work (funnel indexes; see workItems) */
  items: number[][];
  ctx: QueryContext;
  /** Int32Array over a SharedArrayBuffer: index [0] is the next item to take */
  counter: Int32Array;
}

/** One steps funnel shared by both threads (see FunnelWorker.splitSteps). */
export interface StepsJob {
  scan: ScanData;
  spec: FunnelSpec;
  q: number;
  /** Int32Array over a SharedArrayBuffer: index [0] is the first candidate of the next slice */
  counter: Int32Array;
  /** candidates per slice */
  slice: number;
}

export type WorkerRequest = { kind: 'group'; state: GroupState; from: number; to: number } | ({ kind: 'funnels' } & FunnelJob) | ({ kind: 'steps' } & StepsJob);

export type WorkerAnswer =
  | { kind: 'group'; groups: BucketGroups }
  | { kind: 'group-failed'; message: string }
  | { kind: 'funnel'; q: number; results: unknown; ms: number }
  | { kind: 'funnel-failed'; q: number }
  | { kind: 'funnels-done' }
  | { kind: 'steps'; parts: AggParts }
  | { kind: 'steps-failed'; message: string };

const send = (a: WorkerAnswer) => parentPort!.postMessage(a);

function runFunnelJob(job: FunnelJob): void {
  const scan = scanFromData(job.scan, null, 1);
  for (;;) {
    const k = Atomics.add(job.counter, 0, 1);
    if (k >= job.items.length) break;
    const item = job.items[k]!;
    const t0 = performance.now();
    try {
      const results = itemResults(job.specs, item, scan, job.ctx);
      const ms = performance.now() - t0;
      item.forEach((q, i) => send({ kind: 'funnel', q, results: results[i], ms }));
    } catch {
      for (const q of item) send({ kind: 'funnel-failed', q });
    }
  }
  send({ kind: 'funnels-done' });
}

function runStepsJob(job: StepsJob): void {
  try {
    const scan = scanFromData(job.scan, null, 1);
    const { aggs } = stepsAggregate(job.spec, scan, job.q, sharedSlices(job.counter, job.slice));
    const parts = aggParts(aggs);
    // the sample buffers move to the main thread instead of being copied
    parentPort!.postMessage({ kind: 'steps', parts } satisfies WorkerAnswer, parts.flatMap(([, , samples]) => samples.map((x) => x.buffer as ArrayBuffer)));
  } catch (e) {
    send({ kind: 'steps-failed', message: e instanceof Error ? e.message : String(e) });
  }
}

parentPort?.on('message', (m: WorkerRequest) => {
  if (m.kind === 'steps') runStepsJob(m);
  else if (m.kind === 'group') {
    try {
      send({ kind: 'group', groups: finishBuckets(m.state, m.from, m.to) });
    } catch (e) {
      send({ kind: 'group-failed', message: e instanceof Error ? e.message : String(e) });
    }
  } else runFunnelJob(m);
});
