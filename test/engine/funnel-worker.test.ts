/**
 * The funnel worker thread (compiled by test/global-setup.ts) computes the same results as this
 * thread from a scan on shared memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { tempStore, type TempStore } from './helpers.js';
import { prepareFunnel, resultsFor } from '../../src/engines/local/funnels/run.js';
import { scanFunnels } from '../../src/engines/local/funnels/scan.js';
import type { FunnelDone } from '../../src/engines/local/funnels/worker.js';
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
        worker.on('message', (m: FunnelDone) => {
          if ('done' in m) resolve();
          else if ('failed' in m) reject(new Error(`worker failed on funnel ${m.q}`));
          else got[m.q] = m.results;
        });
        worker.on('error', reject);
        // the counter starts at 0: the worker alone takes every funnel
        worker.postMessage({ scan: scan.data, specs, ctx, counter: new Int32Array(new SharedArrayBuffer(4)) });
      });
      expect(got).toEqual(here);
      expect((here[0] as { count: number }[]).map((s) => s.count)).toEqual([40, 20, 10]);
    } finally {
      await worker.terminate();
    }
  });
});
