/**
 * The funnel worker thread (compiled by test/global-setup.ts) computes the same results as this
 * thread from a scan on shared memory.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { tempStore, type TempStore } from './helpers.js';
import { prepareFunnel } from '../../../src/engines/local/funnels/run.js';
import { aggParts, mergeAggParts, resultsFor, stepsAggregate, stepsFinish, workItems, type AggParts } from '../../../src/engines/local/funnels/results.js';
import type { TargetSlices } from '../../../src/engines/local/funnels/targets.js';
import { scanFunnels } from '../../../src/engines/local/funnels/scan.js';
import { Scatter, finishBuckets, joinGroups, type BucketGroups, type SigPlan } from '../../../src/engines/local/funnels/group.js';
import type { WorkerAnswer } from '../../../src/engines/local/funnels/worker.js';
import type { QueryContext } from '../../../src/engines/types.js';
import { ROOT } from '../../commands/cli.js';

const ctx: QueryContext = { timezone: 'UTC', weekStart: 0, now: new Date('2024-02-01T00:00:00Z') };
const range = { date_from: '2024-01-01', date_to: '2024-01-31' };
const node = (event: string, properties?: unknown[]) => ({ kind: 'EventsNode', event, ...(properties ? { properties } : {}) });

let t: TempStore;
beforeAll(async () => {
  const events = [];
  for (let u = 0; u < 40; u++) {
    const day = String(2 + (u % 20)).padStart(2, '0');
    const plan = ['free', 'pro', 'team'][u % 3];
    events.push({ event: 'start', distinct_id: `u${u}`, timestamp: `2024-01-${day}T10:00:00Z`, properties: { plan } });
    if (u % 2 === 0) events.push({ event: 'middle', distinct_id: `u${u}`, timestamp: `2024-01-${day}T10:0${u % 7}:00Z`, properties: { plan } });
    if (u % 4 === 0) events.push({ event: 'end', distinct_id: `u${u}`, timestamp: `2024-01-${day}T11:00:00Z`, properties: { plan } });
  }
  t = await tempStore(events, []);
});
afterAll(async () => t.cleanup());

describe('funnel worker', () => {
  it('answers a shared scan like the main thread, funnel by funnel', async () => {
    const plan = (value: string) => [{ key: 'plan', value, operator: 'exact', type: 'event' }];
    const queries = [
      { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start', plan('pro')), node('end', plan('pro'))], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start'), node('end')], dateRange: range, breakdownFilter: { breakdown: 'plan', breakdown_type: 'event' } },
      { kind: 'FunnelsQuery', series: [node('start', plan('team')), node('middle')], dateRange: range, funnelsFilter: { funnelVizType: 'time_to_convert' } },
    ];
    const specs = queries.map((q) => prepareFunnel(q as never, t.store, ctx).spec);
    const scan = await scanFunnels(t.store, specs, { shared: true });
    expect(scan.ts.buffer).toBeInstanceOf(SharedArrayBuffer);
    const here = specs.map((s, q) => resultsFor(s, scan, q, ctx));
    const worker = new Worker(join(ROOT, 'dist', 'engines', 'local', 'funnels', 'worker.js'));
    try {
      const got: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m: WorkerAnswer) => {
          if (m.kind === 'funnels-done') resolve();
          else if (m.kind === 'funnel-failed') reject(new Error(`worker failed on funnel ${m.q}`));
          else if (m.kind === 'funnel') got[m.q] = m.results;
        });
        worker.on('error', reject);
        // the counter starts at 0 and this thread takes none: the worker computes every funnel
        worker.postMessage({ kind: 'funnels', scan: scan.data, specs, items: workItems(specs), ctx, counter: new Int32Array(new SharedArrayBuffer(4)) });
      });
      expect(got).toEqual(here);
      expect((here[0] as { count: number }[]).map((s) => s.count)).toEqual([40, 20, 10]);
    } finally {
      await worker.terminate();
    }
  });

  it('a scan in rowid ranges gives the rows and results of one query', async () => {
    const queries = [
      { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range, breakdownFilter: { breakdown: 'plan', breakdown_type: 'event' } },
    ];
    const specs = queries.map((q) => prepareFunnel(q as never, t.store, ctx).spec);
    const whole = await scanFunnels(t.store, specs);
    const spy = vi.spyOn(t.store.conn, 'run');
    const parted = await scanFunnels(t.store, specs, { partRows: 7 });
    const parts = spy.mock.calls.filter(([sql]) => /e\.rowid >= /.test(String(sql)));
    spy.mockRestore();
    expect(parts.length).toBe(8);
    expect(Array.from(parted.ts)).toEqual(Array.from(whole.ts));
    expect(Array.from(parted.start)).toEqual(Array.from(whole.start));
    expect(resultsFor(specs[0]!, parted, 0, ctx)).toEqual(resultsFor(specs[0]!, whole, 0, ctx));
  });

  it('finishes half of a grouping on shared memory exactly as one thread would', async () => {
    const n = 50_000;
    let x = 12345;
    const rnd = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
    const hash = new Uint32Array(n * 2);
    const ts = new Float64Array(n);
    const code = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // up to 5000 keys, pairs of them sharing their high word
      const k = rnd() % 5000;
      hash[2 * i] = k;
      hash[2 * i + 1] = Math.imul(k >> 1, 2654435761) >>> 0;
      ts[i] = rnd() % 1000;
      code[i] = ((rnd() % 6) << 3) | (rnd() % 8);
    }
    const sig: SigPlan = { lowBits: 3, atomMask: 1, fieldShift: [1], fieldMask: [3] };
    const build = (shared: boolean) => {
      const sc = new Scatter(n, 1, false, shared);
      sc.addPart([{ count: n / 2, hash: hash.subarray(0, n), ts: ts.subarray(0, n / 2), i32: [code.subarray(0, n / 2)] }]);
      sc.addPart([{ count: n / 2, hash: hash.subarray(n), ts: ts.subarray(n / 2), i32: [code.subarray(n / 2)] }]);
      return sc.done(sig);
    };
    const one = build(false);
    const oneGroups = joinGroups([finishBuckets(one, 0, 256)], one.rows, true, false);
    const state = build(true);
    const worker = new Worker(join(ROOT, 'dist', 'engines', 'local', 'funnels', 'worker.js'));
    try {
      const theirs = new Promise<BucketGroups>((resolve, reject) => {
        worker.on('message', (m: WorkerAnswer) => (m.kind === 'group' ? resolve(m.groups) : reject(new Error(m.kind))));
        worker.on('error', reject);
        worker.postMessage({ kind: 'group', state, from: 128, to: 256 });
      });
      const mine = finishBuckets(state, 0, 128);
      const two = joinGroups([mine, await theirs], state.rows, true, true);
      expect(Array.from(two.start)).toEqual(Array.from(oneGroups.start));
      expect(Array.from(state.out.i32[0]!)).toEqual(Array.from(one.out.i32[0]!));
      expect(Array.from(state.out.ts)).toEqual(Array.from(one.out.ts));
      // the same signature per target (ids may be numbered differently)
      const sigOf = (g: typeof two, t: number) => g.signatures!.list[g.signatures!.of[t]!];
      for (let t = 0; t + 1 < two.start.length; t++) expect(sigOf(two, t)).toEqual(sigOf(oneGroups, t));
      expect(one.rows).toBe(n);
      const keys = new Set<number>();
      for (let i = 0; i < n; i++) keys.add(hash[2 * i]!);
      expect(oneGroups.start.length - 1).toBe(keys.size);
    } finally {
      await worker.terminate();
    }
  });

  describe('one steps funnel shared by two threads, slice by slice', () => {
    const plan = (value: string) => [{ key: 'plan', value, operator: 'exact', type: 'event' }];
    const byPlan = { breakdown: 'plan', breakdown_type: 'event' };
    const queries = [
      { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range, breakdownFilter: byPlan },
      { kind: 'FunnelsQuery', series: [node('start'), node('end')], dateRange: range, breakdownFilter: { ...byPlan, breakdown_limit: 1 }, funnelsFilter: { breakdownAttributionType: 'all_events' } },
      { kind: 'FunnelsQuery', series: [node('start'), node('middle', plan('pro')), node('end')], dateRange: range, breakdownFilter: byPlan, funnelsFilter: { breakdownAttributionType: 'step', breakdownAttributionValue: 1 } },
      { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range, funnelsFilter: { funnelOrderType: 'strict' } },
      { kind: 'FunnelsQuery', series: [node('end'), node('start')], dateRange: range, breakdownFilter: byPlan, funnelsFilter: { funnelOrderType: 'unordered' } },
    ];
    /** every other slice of `size` candidates, starting with slice `first` */
    const alternate = (first: number, size: number): TargetSlices => {
      let k = first;
      return { next: () => (k += 2) * size - 2 * size, size };
    };

    it('gives the results of one thread, whichever thread takes which slice', async () => {
      for (const q of queries) {
        const spec = prepareFunnel(q as never, t.store, ctx).spec;
        const scan = await scanFunnels(t.store, [spec]);
        const whole = resultsFor(spec, scan, 0, ctx);
        for (const size of [1, 3, 7]) {
          const mine = stepsAggregate(spec, scan, 0, alternate(0, size));
          const theirs = stepsAggregate(spec, scan, 0, alternate(1, size));
          // both shares hold outcomes: the join below really adds two threads' work
          if (size < 7) expect(mine.aggs.size * theirs.aggs.size, JSON.stringify(q)).toBeGreaterThan(0);
          // as postMessage hands them over
          mergeAggParts(mine.aggs, structuredClone(aggParts(theirs.aggs)), spec.steps.length);
          expect(stepsFinish(spec, mine.aggs, mine.info), JSON.stringify(q)).toEqual(whole);
        }
      }
    });

    it('the worker thread answers its share of a shared scan', async () => {
      const spec = prepareFunnel(queries[1] as never, t.store, ctx).spec;
      const scan = await scanFunnels(t.store, [spec], { shared: true });
      const whole = resultsFor(spec, scan, 0, ctx);
      const worker = new Worker(join(ROOT, 'dist', 'engines', 'local', 'funnels', 'worker.js'));
      try {
        const parts = await new Promise<AggParts>((resolve, reject) => {
          worker.on('message', (m: WorkerAnswer) => (m.kind === 'steps' ? resolve(m.parts) : reject(new Error(m.kind))));
          worker.on('error', reject);
          // this thread takes no slice: the worker runs every target
          worker.postMessage({ kind: 'steps', scan: scan.data, spec, q: 0, counter: new Int32Array(new SharedArrayBuffer(4)), slice: 2 });
        });
        const none = stepsAggregate(spec, scan, 0, { next: () => Number.MAX_SAFE_INTEGER, size: 2 });
        expect(none.aggs.size).toBe(0);
        mergeAggParts(none.aggs, parts, spec.steps.length);
        expect(stepsFinish(spec, none.aggs, none.info)).toEqual(whole);
      } finally {
        await worker.terminate();
      }
    });
  });
});
