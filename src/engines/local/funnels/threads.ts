/**
 * Threads: a batch's funnel passes on this thread and, for big scans, a worker thread
 * (worker.ts) that also finishes half of the scan's grouping; work items go biggest first.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { QueryContext } from '../../types.js';
import { itemResults, mergeAggParts, stepsAggregate, stepsFinish, workItems, type AggParts } from './results.js';
import type { BucketGroups, GroupState, ScanResult } from './scan.js';
import type { FunnelSpec } from './spec.js';
import { SPLIT_TARGETS, relevantBits, sharedSlices } from './targets.js';
import type { WorkerAnswer, WorkerRequest } from './worker.js';
import { debug } from '../../../debug.js';

/**
 * Work items, biggest first (by the targets their passes visit), so that two threads taking them
 * in turn do not end with one waiting while the other runs a big one.
 */
function byCost(items: number[][], specs: readonly FunnelSpec[], scan: ScanResult): number[][] {
  const cost = (item: number[]): number => {
    const spec = specs[item[0]!]!;
    const relevant = spec.viz === 'trends' ? 0 : relevantBits(spec, !!spec.breakdown && !!scan.bd);
    return scan.candidates(item[0]!, relevant);
  };
  return items
    .map((item, i) => ({ item, i, c: cost(item) }))
    .sort((a, b) => b.c - a.c || a.i - b.i)
    .map((x) => x.item);
}

/**
 * Funnel passes run on two threads once a scan is this big (a worker costs tens of
 * milliseconds to start and its module load overlaps the DuckDB scan). Environment:
 * DISCOVER_METRICS_FUNNEL_THREADS=1 keeps them on one thread;
 * DISCOVER_METRICS_FUNNEL_THREADS_MIN_EVENTS changes the threshold (tests use 0).
 */
export const THREAD_MIN_EVENTS = 500_000;

export function funnelWorkerUrl(): URL | null {
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
export function computeAll(specs: readonly FunnelSpec[], scan: ScanResult, ctx: QueryContext): Computed[] {
  const out: (Computed | undefined)[] = new Array(specs.length);
  for (const item of workItems(specs)) computeItem(specs, item, scan, ctx, out);
  return out as Computed[];
}

/** Funnels whose targets the two threads can share (FunnelWorker.splitSteps). */
export function splittable(spec: FunnelSpec): boolean {
  return spec.viz === 'steps';
}

/** The worker stopped (crashed, failed to load) while this thread waited for it. */
export class WorkerGone extends Error {}

/**
 * This thread's side of the funnel worker (worker.ts): one request at a time, answers
 * dispatched to whoever waits for them.
 */
export class FunnelWorker {
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
    if (specs.length === 1 && splittable(specs[0]!)) return [await this.splitSteps(scan, specs[0]!, ctx)];
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

  /**
   * A batch of one steps funnel: both threads run its targets, slice by slice from a shared
   * counter, into aggregates of their own, joined here (counts add up; the statistics do not
   * depend on the order of the samples). If the worker fails, this thread starts over alone.
   */
  private async splitSteps(scan: ScanResult, spec: FunnelSpec, ctx: QueryContext): Promise<Computed> {
    const t0 = performance.now();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const theirs = this.request<AggParts>({ kind: 'steps', scan: scan.data, spec, q: 0, counter, slice: SPLIT_TARGETS }, (a, done, fail) => {
      if (a.kind === 'steps') done(a.parts);
      else if (a.kind === 'steps-failed') fail(new WorkerGone(`funnel worker: ${a.message}`));
    });
    theirs.catch(() => undefined); // awaited below
    const { aggs, info } = stepsAggregate(spec, scan, 0, sharedSlices(counter));
    let parts: AggParts;
    try {
      parts = await theirs;
    } catch {
      return computeAll([spec], scan, ctx)[0]!;
    }
    mergeAggParts(aggs, parts, spec.steps.length);
    debug('funnel', () => `one steps funnel on 2 threads, done ${performance.now().toFixed(0)} ms since start`);
    return { results: stepsFinish(spec, aggs, info), ms: performance.now() - t0 };
  }

  terminate(): Promise<number> {
    this.onGone = null;
    return this.worker.terminate();
  }
}
