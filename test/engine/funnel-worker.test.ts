/**
 * The funnel worker thread (compiled by test/global-setup.ts) computes the same results as this
 * thread from a scan on shared memory.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { tempStore, type TempStore } from './helpers.js';
import { prepareFunnel, resultsFor, workItems } from '../../src/engines/local/funnels/run.js';
import { radixFinish, radixGroup, radixGrouped, radixStart, scanFunnels } from '../../src/engines/local/funnels/scan.js';
import type { WorkerAnswer } from '../../src/engines/local/funnels/worker.js';
import type { QueryContext } from '../../src/engines/types.js';
import { ROOT } from '../e2e/cli.js';

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
    const hi = new Uint32Array(n);
    const lo = new Uint32Array(n);
    const val = new Float64Array(n);
    const tag = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // 5000 keys, some sharing hi with a different lo
      const k = rnd() % 5000;
      hi[i] = Math.imul(k >> 1, 2654435761) >>> 0;
      lo[i] = k;
      val[i] = i * 0.5;
      tag[i] = i;
    }
    const one = radixGroup(hi.slice(), lo.slice(), [val.slice()], [tag.slice()], false);
    const shared = <T extends Uint32Array | Float64Array | Int32Array>(a: T): T => {
      const c = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
      c.set(a as never);
      return c;
    };
    const state = radixStart({ hi: shared(hi), lo: shared(lo), idx: new Int32Array(0), f64: [shared(val)], i32: [shared(tag)] }, false, true);
    const worker = new Worker(join(ROOT, 'dist', 'engines', 'local', 'funnels', 'worker.js'));
    try {
      const theirs = new Promise<Int32Array>((resolve, reject) => {
        worker.on('message', (m: WorkerAnswer) => (m.kind === 'radix' ? resolve(m.starts) : reject(new Error(m.kind))));
        worker.on('error', reject);
        worker.postMessage({ kind: 'radix', state, from: 128, to: 256 });
      });
      const mine = radixFinish(state, 0, 128);
      const two = radixGrouped(state, [mine, await theirs]);
      expect(Array.from(two.start)).toEqual(Array.from(one.start));
      expect(Array.from(two.i32[0]!)).toEqual(Array.from(one.i32[0]!));
      expect(Array.from(two.f64[0]!)).toEqual(Array.from(one.f64[0]!));
      expect(one.start.length - 1).toBe(5000);
    } finally {
      await worker.terminate();
    }
  });
});
