import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempStore, type TempStore } from './helpers.js';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import { median } from '../../../src/engines/local/funnels/stats.js';
import { Scatter, finishBuckets, joinGroups, type ScanChunk } from '../../../src/engines/local/funnels/group.js';
import { parseQuery } from '../../../src/query/parse.js';
import type { QueryContext } from '../../../src/engines/types.js';

const ctx: QueryContext = { timezone: 'UTC', weekStart: 0, now: new Date('2024-02-01T00:00:00Z') };
const node = (event: string, properties?: unknown[]) => ({ kind: 'EventsNode', event, ...(properties ? { properties } : {}) });
const range = { date_from: '2024-01-01', date_to: '2024-01-31' };
type Step = { count: number; breakdown_value?: string[]; average_conversion_time: number | null; median_conversion_time: number | null };

let t: TempStore;
beforeAll(async () => {
  t = await tempStore(
    [
      // session s1 spans two persons (one conversion per session when aggregating by session)
      { event: 'start', distinct_id: 'u1', timestamp: '2024-01-02T10:00:00Z', properties: { $session_id: 's1', plan: 'free' } },
      { event: 'middle', distinct_id: 'u2', timestamp: '2024-01-02T10:05:00Z', properties: { $session_id: 's1' } },
      { event: 'end', distinct_id: 'u2', timestamp: '2024-01-02T10:10:00Z', properties: { $session_id: 's1' } },
      { event: 'start', distinct_id: 'u3', timestamp: '2024-01-03T10:00:00Z', properties: { $session_id: 's2', plan: 'pro' } },
      { event: 'other', distinct_id: 'u3', timestamp: '2024-01-03T10:01:00Z', properties: { $session_id: 's2' } },
      { event: 'middle', distinct_id: 'u3', timestamp: '2024-01-03T10:02:00Z', properties: { $session_id: 's2' } },
      { event: 'start', distinct_id: 'u4', timestamp: '2024-01-04T10:00:00Z', properties: { plan: 'pro' } },
      { event: 'middle', distinct_id: 'u4', timestamp: '2024-02-03T10:00:00Z', properties: {} },
    ],
    [
      { distinct_ids: ['u1'], properties: { role: 'admin' } },
      { distinct_ids: ['u2'], properties: { role: 'dev' } },
      { distinct_ids: ['u3'], properties: { role: 'dev' } },
      { distinct_ids: ['u4'], properties: { role: 'dev' } },
    ],
  );
});
afterAll(async () => t.cleanup());

describe('local funnel engine', () => {
  it('aggregates by a HogQL field (funnelAggregateByHogQL)', async () => {
    const e = localEngineForStore(t.store);
    const byPerson = await e.run({ kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range }, ctx);
    expect((byPerson.results as Step[]).map((s) => s.count)).toEqual([3, 1, 0]);
    const bySession = await e.run(
      { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range, funnelsFilter: { funnelAggregateByHogQL: "properties['$session_id']" } },
      ctx,
    );
    // s1 converts fully; s2 reaches middle; events without a session form one (NULL) group
    expect((bySession.results as Step[]).map((s) => s.count)).toEqual([3, 2, 1]);
    expect((bySession.results as Step[])[2]!.average_conversion_time).toBe(300);
  });

  it('strict order breaks on any other event; month windows are 31 days', async () => {
    const e = localEngineForStore(t.store);
    const strict = await e.run({ kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: range, funnelsFilter: { funnelOrderType: 'strict' } }, ctx);
    expect((strict.results as Step[]).map((s) => s.count)).toEqual([3, 0]);
    const wide = await e.run(
      { kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: { date_from: '2024-01-01', date_to: '2024-02-28' }, funnelsFilter: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'month' } },
      ctx,
    );
    // u3 converts in minutes; u4's middle is 30 days after start: inside a 31-day "month"
    // (u1's session continues as another person, so u1 does not convert)
    expect((wide.results as Step[]).map((s) => s.count)).toEqual([3, 2]);
    const week = await e.run(
      { kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: { date_from: '2024-01-01', date_to: '2024-02-28' }, funnelsFilter: { funnelWindowInterval: 4, funnelWindowIntervalUnit: 'week' } },
      ctx,
    );
    expect((week.results as Step[]).map((s) => s.count)).toEqual([3, 1]);
  });

  it('names breakdown values from the filters it knows, and asks DuckDB only for others', async () => {
    const e = localEngineForStore(t.store);
    const bd = { breakdown: 'plan', breakdown_type: 'event' };
    const filtered = [{ key: 'plan', type: 'event', operator: 'exact', value: ['free', 'pro'] }];
    const run = vi.spyOn(t.store.conn, 'run');
    try {
      // no filter on plan: 'free' and 'pro' are found by the DISTINCT query
      const open = await e.run({ kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: range, breakdownFilter: bd }, ctx);
      expect(run.mock.calls.some(([sql]) => String(sql).includes('SELECT DISTINCT'))).toBe(true);
      run.mockClear();
      // the steps name every value the rows have: no DISTINCT query, the same buckets
      const known = await e.run({ kind: 'FunnelsQuery', series: [node('start', filtered), node('middle')], dateRange: range, breakdownFilter: bd }, ctx);
      expect(run.mock.calls.some(([sql]) => String(sql).includes('SELECT DISTINCT'))).toBe(false);
      const buckets = (r: typeof open) => (r.results as Step[][]).map((x) => [x[0]!.breakdown_value, x.map((s) => s.count)]);
      expect(buckets(known)).toEqual(buckets(open));
      expect(buckets(open)).toEqual([
        [['pro'], [2, 1]],
        [['free'], [1, 0]],
      ]);
    } finally {
      run.mockRestore();
    }
  });

  it('breaks down by person properties with a limit and "Other"', async () => {
    const e = localEngineForStore(t.store);
    const r = await e.run(
      { kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: range, breakdownFilter: { breakdown: 'role', breakdown_type: 'person', breakdown_limit: 1 } },
      ctx,
    );
    const rows = r.results as Step[][];
    expect(rows.map((x) => x[0]!.breakdown_value)).toEqual([['dev'], ['Other']]);
    expect(rows.map((x) => x.map((s) => s.count))).toEqual([
      [2, 1],
      [1, 0],
    ]);
  });

  it('applies global property groups (OR) and step filters', async () => {
    const e = localEngineForStore(t.store);
    const r = await e.run(
      {
        kind: 'FunnelsQuery',
        series: [node('start', [{ key: 'plan', value: 'pro', operator: 'exact', type: 'event' }]), node('middle')],
        dateRange: range,
        properties: { type: 'OR', values: [{ type: 'AND', values: [{ key: 'plan', operator: 'is_set', value: 'is_set' }] }, { type: 'AND', values: [{ key: '$session_id', value: 's2' }] }] },
      },
      ctx,
    );
    expect((r.results as Step[]).map((s) => s.count)).toEqual([2, 1]);
  });

  it('runMany answers compatible funnels from one scan, same as one by one', async () => {
    const e = localEngineForStore(t.store);
    const qs = [
      { kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start'), node('end')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('middle'), node('end')], dateRange: range, funnelsFilter: { funnelOrderType: 'unordered' } },
      // a different global filter still shares the scan (it moves into the step masks)
      { kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: range, properties: [{ key: 'plan', value: 'pro' }] },
    ];
    const single = [];
    for (const q of qs) single.push((await e.run(q, ctx)).results);
    const spy = vi.spyOn(t.store.conn, 'run');
    const many = await e.runMany(qs, ctx);
    // one scan of the events for all four funnels
    expect(spy.mock.calls.filter(([sql]) => /FROM events e/.test(String(sql)))).toHaveLength(1);
    spy.mockRestore();
    expect(many.map((r) => r.results)).toEqual(single);
  });

  it('compares one property with several values through one value code, with the same counts', async () => {
    const e = localEngineForStore(t.store);
    const plan = (value: unknown, operator = 'exact') => [{ key: 'plan', value, operator, type: 'event' }];
    const qs = [
      { kind: 'FunnelsQuery', series: [node('start', plan('free')), node('middle')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start', plan('pro')), node('middle')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start', plan(['free', 'pro'])), node('middle')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start', plan('enterprise')), node('middle')], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start', plan('pro', 'is_not')), node('middle')], dateRange: range },
      // exact on the value code and a second condition on another property, in one step
      { kind: 'FunnelsQuery', series: [node('start', [...plan(['pro', 'free']), { key: '$session_id', operator: 'is_set', value: 'is_set' }]), node('middle')], dateRange: range },
    ];
    const spy = vi.spyOn(t.store.conn, 'run');
    const many = await e.runMany(qs, ctx);
    const scans = spy.mock.calls.map(([sql]) => String(sql)).filter((sql) => /FROM events e/.test(sql));
    spy.mockRestore();
    expect(scans).toHaveLength(1);
    expect(scans[0]).toMatch(/enum_code\(TRY_CAST\(.* AS ENUM\('free', 'pro', 'enterprise'\)\)\)/);
    const counts = many.map((r) => (r.results as Step[]).map((s) => s.count));
    // u1 starts on free (its middle is u2's), u3 and u4 on pro (u4's middle is past the range)
    expect(counts).toEqual([[1, 0], [2, 1], [3, 1], [], [1, 0], [2, 1]]);
    const single = [];
    for (const q of qs) single.push((await e.run(q, ctx)).results);
    expect(many.map((r) => r.results)).toEqual(single);
  });

  it('filters rows no step can match in the scan when every step requires the same condition', async () => {
    const e = localEngineForStore(t.store);
    const set = [{ key: 'plan', operator: 'is_set', value: 'is_set', type: 'event' }];
    const qs = [
      { kind: 'FunnelsQuery', series: [node('start', set), node('middle', set)], dateRange: range },
      { kind: 'FunnelsQuery', series: [node('start', set), node('end', set)], dateRange: range, funnelsFilter: { funnelOrderType: 'unordered' } },
    ];
    const spy = vi.spyOn(t.store.conn, 'run');
    const many = await e.runMany(qs, ctx);
    const scan = spy.mock.calls.map(([sql]) => String(sql)).find((sql) => /FROM events e/.test(sql))!;
    spy.mockRestore();
    expect(scan.slice(scan.indexOf(' WHERE '))).toMatch(/IS NOT NULL\)/);
    // the middle and end events carry no plan: nobody gets past the first step
    expect(many.map((r) => (r.results as Step[]).map((s) => s.count))).toEqual([
      [3, 0],
      [3, 0],
    ]);
    // a strict funnel sees every event: no such filter there
    const strictSpy = vi.spyOn(t.store.conn, 'run');
    await e.run({ kind: 'FunnelsQuery', series: [node('start', set), node('middle', set)], dateRange: range, funnelsFilter: { funnelOrderType: 'strict' } }, ctx);
    const strictScan = strictSpy.mock.calls.map(([sql]) => String(sql)).find((sql) => /FROM events e/.test(sql))!;
    strictSpy.mockRestore();
    expect(strictScan.slice(strictScan.indexOf(' WHERE '))).not.toMatch(/IS NOT NULL\)/);
  });

  it('time-to-convert funnels that differ only in their steps share one pass, with the same results', async () => {
    const e = localEngineForStore(t.store);
    const ttc = (from: number, to: number, bins?: number) => ({
      kind: 'FunnelsQuery',
      series: [node('start'), node('middle'), node('end')],
      dateRange: range,
      funnelsFilter: { funnelVizType: 'time_to_convert', funnelFromStep: from, funnelToStep: to, ...(bins ? { binCount: bins } : {}) },
    });
    const qs = [ttc(0, 1), ttc(1, 2, 5), ttc(0, 2), { kind: 'FunnelsQuery', series: [node('start'), node('middle'), node('end')], dateRange: range }];
    const { prepareFunnel } = await import('../../../src/engines/local/funnels/run.js');
    const { workItems } = await import('../../../src/engines/local/funnels/results.js');
    expect(workItems(qs.map((q) => prepareFunnel(q as never, t.store, ctx).spec))).toEqual([[0, 1, 2], [3]]);
    const single = [];
    for (const q of qs) single.push((await e.run(q, ctx)).results);
    const many = await e.runMany(qs, ctx);
    expect(many.map((r) => r.results)).toEqual(single);
    // u3 converts from start to middle; nobody reaches the end after a start
    expect((single[0] as { bins: number[][] }).bins.reduce((a, b) => a + b[1]!, 0)).toBe(1);
    expect(single[2]).toEqual({ bins: [[0, 0], [60, 0]], average_conversion_time: null, median_conversion_time: null });
  });

  it('answers actors queries with person objects', async () => {
    const e = localEngineForStore(t.store);
    const source = { kind: 'FunnelsQuery', series: [node('start'), node('middle')], dateRange: range };
    const r = await e.run({ kind: 'ActorsQuery', source: { kind: 'FunnelsActorsQuery', source, funnelStep: -2 } }, ctx);
    expect(r.columns).toEqual(['actor']);
    const actors = (r.results as [{ distinct_ids: string[]; properties: Record<string, unknown> }][]).map((x) => x[0]);
    expect(actors.map((a) => a.distinct_ids)).toEqual([['u1'], ['u4']]);
    expect(actors[0]!.properties).toEqual({ role: 'admin' });
  });

  it('rejects kinds it does not run, naming the supported ones', async () => {
    const e = localEngineForStore(t.store);
    await expect(e.run({ kind: 'PathsQuery' }, ctx)).rejects.toThrow(/the local engine cannot run PathsQuery queries/);
  });
});

describe('optional steps', () => {
  it('counts an optional step only for those who did it; later steps do not need it', async () => {
    const o = await tempStore([
      { event: 'a', distinct_id: 'p1', timestamp: '2024-01-02T10:00:00Z' },
      { event: 'b', distinct_id: 'p1', timestamp: '2024-01-02T10:01:00Z' },
      { event: 'c', distinct_id: 'p1', timestamp: '2024-01-02T10:02:00Z' },
      { event: 'a', distinct_id: 'p2', timestamp: '2024-01-02T10:00:00Z' },
      { event: 'c', distinct_id: 'p2', timestamp: '2024-01-02T10:05:00Z' },
      { event: 'a', distinct_id: 'p3', timestamp: '2024-01-02T10:00:00Z' },
    ]);
    try {
      const e = localEngineForStore(o.store);
      const r = await e.run({ kind: 'FunnelsQuery', series: [node('a'), { ...node('b'), optionalInFunnel: true }, node('c')], dateRange: range }, ctx);
      expect((r.results as Step[]).map((s) => s.count)).toEqual([3, 1, 2]);
    } finally {
      await o.cleanup();
    }
  });
});

describe('building blocks', () => {
  it('median interpolates like ClickHouse quantile(0.5) and matches a sort', () => {
    expect(median([3600, 7200])).toBe(5400);
    expect(median([3600, 7200, 7200])).toBe(7200);
    for (let r = 0; r < 50; r++) {
      const xs = Array.from({ length: 1 + Math.floor(Math.random() * 200) }, () => Math.floor(Math.random() * 50));
      const s = [...xs].sort((a, b) => a - b);
      const mid = (s.length - 1) / 2;
      expect(median(xs)).toBe(s[Math.floor(mid)]! + (s[Math.ceil(mid)]! - s[Math.floor(mid)]!) * (mid - Math.floor(mid)));
    }
  });

  it('median of big inputs (narrowed by a histogram) matches a sort, whatever the distribution', () => {
    let x = 7;
    const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296);
    const shapes: Record<string, () => number> = {
      uniform: () => rnd() * 1000,
      // conversion times: mostly seconds, a few close to a day
      skewed: () => (rnd() < 0.999 ? Math.round(rnd() * 30e6) / 1e6 : 86000 + rnd() * 400),
      twoValues: () => (rnd() < 0.5 ? 1 : 2),
      manyTies: () => Math.floor(rnd() * 5),
      constant: () => 42,
      tinyRange: () => 1 + Math.floor(rnd() * 4) * Number.EPSILON,
    };
    for (const [name, gen] of Object.entries(shapes)) {
      for (const n of [4096, 5001, 20000, 20001]) {
        const xs = Array.from({ length: n }, gen);
        const s = [...xs].sort((a, b) => a - b);
        const mid = (n - 1) / 2;
        const want = s[Math.floor(mid)]! + (s[Math.ceil(mid)]! - s[Math.floor(mid)]!) * (mid - Math.floor(mid));
        expect(median(xs), `${name} n=${n}`).toBe(want);
      }
    }
  });

  it('groups rows by their 64-bit key across scan parts, each group in time order (scan order on ties)', () => {
    // 3 parts of chunks; keys share buckets and even their high word, timestamps tie often
    const parts: ScanChunk[][] = [];
    const rows: { key: number; ts: number; scan: number }[] = [];
    const hashOf = (k: number) => [k, k % 5 === 0 ? 0x01020304 : Math.imul(k, 2654435761) >>> 0] as const;
    let scan = 0;
    for (let p = 0; p < 3; p++) {
      const chunks: ScanChunk[] = [];
      for (let c = 0; c < 4; c++) {
        const count = 1 + ((p * 7 + c * 13) % 600);
        const hash = new Uint32Array(count * 2);
        const ts = new Float64Array(count);
        const key = new Int32Array(count);
        const order = new Int32Array(count);
        for (let i = 0; i < count; i++) {
          // key 0 gets every 5th row (a group past the insertion sort size), the rest ~17 each
          const k = scan % 5 === 0 ? 0 : (scan * 7919) % 211;
          const [lo, hi] = hashOf(k);
          hash[2 * i] = lo;
          hash[2 * i + 1] = hi;
          ts[i] = (scan * 31) % 17; // ties and out-of-order rows
          key[i] = k;
          order[i] = scan;
          rows.push({ key: k, ts: ts[i]!, scan });
          scan++;
        }
        chunks.push({ count, hash, ts, i32: [key, order] });
      }
      parts.push(chunks);
    }
    const sc = new Scatter(16, 2, true, false);
    for (const p of parts) sc.addPart(p);
    const state = sc.done(null);
    const { start } = joinGroups([finishBuckets(state, 0, 256)], state.rows, false, false);
    expect(state.rows).toBe(scan);
    expect(start[start.length - 1]).toBe(scan);
    const seen = new Set<number>();
    for (let t = 0; t + 1 < start.length; t++) {
      const a = start[t]!;
      const b = start[t + 1]!;
      const key = state.out.i32[0]![a]!;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      const expected = rows.filter((r) => r.key === key).sort((x, y) => x.ts - y.ts || x.scan - y.scan);
      expect(b - a).toBe(expected.length);
      for (let k = a; k < b; k++) {
        const r = expected[k - a]!;
        expect(state.out.i32[0]![k]).toBe(key);
        expect(state.out.ts[k]).toBe(r.ts);
        expect(state.out.i32[1]![k]).toBe(r.scan);
        expect(state.out.idx[k]).toBe(r.scan);
      }
    }
    expect(seen.size).toBe(new Set(rows.map((r) => r.key)).size);
  });

  it('gives every person the step a brute-force ordered funnel gives, over many kinds of people', async () => {
    // People differ in which events they did and with which plan: the engine groups alike people
    // to share work, which must never change anyone's result. 3 step events (one filtered on plan,
    // one on two plans), noise events, distinct timestamps, a 2-hour window.
    let x = 7;
    const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const plans = ['free', 'pro', 'team'];
    const events: { event: string; distinct_id: string; timestamp: string; properties: { plan: string } }[] = [];
    for (let u = 0; u < 300; u++) {
      let at = Date.parse('2024-01-05T00:00:00Z') + u * 60_000;
      for (let e = 0, n = rnd(10); e < n; e++) {
        at += (1 + rnd(40)) * 60_000;
        events.push({ event: ['a', 'b', 'c', 'noise'][rnd(4)]!, distinct_id: `p${u}`, timestamp: new Date(at).toISOString(), properties: { plan: plans[rnd(3)]! } });
      }
    }
    const plan = (value: string[]) => [{ key: 'plan', value, operator: 'exact', type: 'event' }];
    const steps = [
      { event: 'a', ok: (p: string) => p !== 'free' },
      { event: 'b', ok: () => true },
      { event: 'c', ok: (p: string) => p === 'team' },
    ];
    const windowMs = 2 * 3_600_000;
    // furthest step per person: from each step-0 event, take the earliest next matching event
    const reached = new Map<string, number>();
    const byPerson = new Map<string, typeof events>();
    for (const e of events) byPerson.set(e.distinct_id, [...(byPerson.get(e.distinct_id) ?? []), e]);
    for (const [id, evs] of byPerson) {
      let best = 0;
      evs.forEach((first, i) => {
        if (first.event !== steps[0]!.event || !steps[0]!.ok(first.properties.plan)) return;
        const t0 = Date.parse(first.timestamp);
        let step = 1;
        for (const e of evs.slice(i + 1)) {
          if (step === steps.length || Date.parse(e.timestamp) - t0 > windowMs) break;
          if (e.event === steps[step]!.event && steps[step]!.ok(e.properties.plan)) step++;
        }
        best = Math.max(best, step);
      });
      if (best > 0) reached.set(id, best);
    }
    const expected = steps.map((_, i) => [...reached.values()].filter((r) => r > i).length);
    expect(expected[2]).toBeGreaterThan(0);
    const s = await tempStore(events);
    try {
      const q = {
        kind: 'FunnelsQuery',
        series: [node('a', plan(['pro', 'team'])), node('b'), node('c', plan(['team']))],
        dateRange: range,
        funnelsFilter: { funnelWindowInterval: 2, funnelWindowIntervalUnit: 'hour' },
      };
      const [res] = await localEngineForStore(s.store).runMany([parseQuery(q, 'q')], ctx);
      expect((res!.results as Step[]).map((r) => r.count)).toEqual(expected);
    } finally {
      await s.cleanup();
    }
  });
});
