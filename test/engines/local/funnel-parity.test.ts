// Differential check of the local funnel engine against a small reference written here from
// PostHog's funnel UDF (steps.rs, unordered_steps.rs) and the HogQL around it (funnel_udf.py's
// event-array filter, the steps aggregation): random funnels over random events, answers compared
// step by step. The reference is deliberately plain (objects, float seconds, the Rust control
// flow) and shares no code with the engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import type { PostHogQuery } from '../../../src/engines/types.js';
import { prng as rng } from '../../../src/downloads/generate.js';
import { tempStore, type TempStore, type TestEvent } from './helpers.js';

const ctx = { timezone: 'UTC', weekStart: 0 as const, now: new Date('2024-02-01T00:00:00Z') };
const BASE_US = Date.UTC(2024, 0, 10) * 1000;

interface RefEvent {
  /** seconds (toFloat(timestamp)) */
  t: number;
  /** UDF steps: 1-based steps ascending, then exclusions -2, -3, ... */
  steps: number[];
  id: number;
}

interface RefResult {
  stepReached: number;
  timings: number[];
  bitfield: number;
}

/** funnel_udf.py's _udf_event_array_filter over a time-sorted event list (no breakdown). */
function arrayFilter(events: RefEvent[]): RefEvent[] {
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  return events.filter((x, i) => {
    const before = events[(i - 1 + events.length) % events.length]!;
    const after = events[(i + 1) % events.length]!;
    return !(x.steps.length <= 1 && same(x.steps, before.steps) && same(x.steps, after.steps) && x.t > before.t && x.t < after.t);
  });
}

interface Entered {
  ts: number;
  excluded: boolean;
  timings: number[];
  ids: number[];
  steps: number;
}

const fresh = (): Entered => ({ ts: 0, excluded: false, timings: [], ids: [], steps: 0 });

/** steps.rs for one target (ordered and strict), no breakdown, no optional steps. */
function refOrdered(events: RefEvent[], n: number, windowS: number, strict: boolean): RefResult {
  const simultaneity = strict || events.some((e) => e.steps.some((s) => s < 0)) ? 0 : 0.05;
  const entered: Entered[] = Array.from({ length: n + 1 }, fresh);
  let max: { step: number; v: Entered } = { step: 0, v: fresh() };
  const process = (e: RefEvent, multiple: boolean) => {
    for (const raw of [...e.steps].reverse()) {
      const exclusion = raw < 0;
      const step = Math.abs(raw);
      const prevIdx = step - 1;
      const prevTs = entered[prevIdx]!.ts;
      const inWindow = prevTs !== 0 && e.t - prevTs <= windowS;
      const already = entered[step]!.ts === prevTs && entered[step]!.ts !== 0;
      if (!inWindow || already) continue;
      const prev = entered[prevIdx]!;
      if (exclusion) {
        if (!prev.excluded) {
          prev.excluded = true;
          if (max.step === prevIdx && e.t - max.v.ts <= windowS) max.v.excluded = true;
        }
        continue;
      }
      if (multiple && prev.ids.includes(e.id)) continue;
      const next: Entered = { ts: prev.ts, excluded: prev.excluded, timings: [...prev.timings, e.t], ids: [...prev.ids, e.id], steps: prev.steps | (1 << (step - 1)) };
      if (!prev.excluded) entered[step] = { ...next, timings: [...next.timings], ids: [...next.ids] };
      if (step > max.step || (step === max.step && max.v.excluded)) max = { step, v: next };
    }
    if (!multiple && strict) {
      for (let i = 1; i <= n; i++) if (!e.steps.includes(i)) entered[i] = fresh();
    }
  };
  let i = 0;
  while (i < events.length) {
    const group = [events[i]!];
    const start = events[i]!.t;
    for (i++; i < events.length && !(events[i]!.t - start > simultaneity); i++) group.push(events[i]!);
    entered[0] = { ...fresh(), ts: start };
    const allEqual = group.every((g) => g.steps.join() === group[0]!.steps.join());
    if (group.length === 1 || allEqual) for (const g of group) process(g, false);
    else {
      const pairs = group.flatMap((g) => g.steps.filter((s) => s > 0).map((s) => ({ ...g, t: start, steps: [s] })));
      pairs.sort((a, b) => a.steps[0]! - b.steps[0]!);
      for (const p of pairs) process(p, true);
    }
    if (entered[n]!.ts > 0) break;
  }
  if (max.v.excluded) return { stepReached: -1, timings: [], bitfield: 0 };
  const timings = max.v.timings.slice(1).map((t, k) => t - max.v.timings[k]!);
  return { stepReached: max.step - 1, timings, bitfield: max.v.steps };
}

/** unordered_steps.rs for one target, no breakdown. */
function refUnordered(events: RefEvent[], n: number, windowS: number): RefResult {
  let queues: RefEvent[][] = Array.from({ length: n }, () => []);
  let completed = 0;
  let max = { step: 0, times: [] as number[] };
  const updateMax = () => {
    if (completed > max.step) {
      max = { step: completed, times: queues.filter((q) => q.length > 0).map((q) => q[0]!.t).sort((a, b) => a - b) };
    }
  };
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    for (;;) {
      let oldest = -1;
      for (let s = 0; s < n; s++) if (queues[s]!.length && (oldest < 0 || queues[s]![0]!.t < queues[oldest]![0]!.t)) oldest = s;
      if (oldest < 0) break;
      if (completed < n && queues[oldest]![0]!.t + windowS >= e.t) break;
      updateMax();
      queues[oldest]!.shift();
      if (queues[oldest]!.length === 0) completed--;
    }
    if (e.steps.every((s) => s < 0)) {
      queues = Array.from({ length: n }, () => []);
      completed = 0;
    } else {
      let best = -1;
      for (const s of e.steps) {
        const back = queues[s - 1]!.length ? queues[s - 1]![queues[s - 1]!.length - 1]!.t : 0;
        if (best < 0 || back < (queues[best - 1]!.length ? queues[best - 1]![queues[best - 1]!.length - 1]!.t : 0)) best = s;
      }
      if (queues[best - 1]!.length === 0) completed++;
      queues[best - 1]!.push(e);
    }
    if (max.step === n) break;
    if (i === events.length - 1) updateMax();
  }
  return { stepReached: max.step - 1, timings: max.times.slice(1).map((t, k) => t - max.times[k]!), bitfield: 2 ** max.step - 1 };
}

interface Funnel {
  steps: string[];
  order: 'ordered' | 'strict' | 'unordered';
  windowMinutes: number;
  exclusion: boolean;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) / 2;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.ceil(pos)]! - s[lo]!) * (pos - lo);
}

/** Each target's UDF result (those with step_reached >= 0), as PostHog's inner aggregation. */
function refRun(f: Funnel, byTarget: Map<string, { us: number; event: string; id: number }[]>): RefResult[] {
  const n = f.steps.length;
  const out: RefResult[] = [];
  for (const list of byTarget.values()) {
    let events: RefEvent[] = list.map((e) => {
      const steps = f.steps.flatMap((s, i) => (s === e.event ? [i + 1] : []));
      if (f.exclusion && e.event === 'x') for (let slot = 1; slot < n; slot++) steps.push(-(slot + 1));
      return { t: e.us / 1e6, steps, id: e.id };
    });
    if (f.order !== 'strict') events = events.filter((e) => e.steps.length > 0);
    if (events.length === 0) continue;
    events = arrayFilter(events);
    const windowS = f.windowMinutes * 60;
    const r = f.order === 'unordered' ? refUnordered(events, n, windowS) : refOrdered(events, n, windowS, f.order === 'strict');
    if (r.stepReached >= 0) out.push(r);
  }
  return out;
}

/** Time to convert from the first to the last step: the samples' average and median. */
function refTtc(f: Funnel, byTarget: Map<string, { us: number; event: string; id: number }[]>): { samples: number; avg: number | null; med: number | null } {
  const to = f.steps.length - 1;
  const xs = refRun(f, byTarget)
    .filter((r) => r.stepReached >= to)
    .map((r) => r.timings.slice(0, to).reduce((a, b) => a + b, 0));
  return { samples: xs.length, avg: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null, med: median(xs) };
}

/** The steps answer PostHog's aggregation gives for these per-target events. */
function refSteps(f: Funnel, byTarget: Map<string, { us: number; event: string; id: number }[]>): { count: number; avg: number | null; med: number | null }[] {
  const n = f.steps.length;
  const counts = new Array<number>(n).fill(0);
  const samples: number[][] = Array.from({ length: n }, () => []);
  const results = refRun(f, byTarget);
  for (const r of results) {
    for (let i = 0; i < n; i++) if (r.bitfield & (1 << i)) counts[i]!++;
    r.timings.forEach((t, k) => {
      if (t > 0) samples[k + 1]!.push(t);
    });
  }
  const any = results.length > 0;
  if (!any) return [];
  return counts.map((count, i) => ({
    count,
    avg: i === 0 || samples[i]!.length === 0 ? null : samples[i]!.reduce((a, b) => a + b, 0) / samples[i]!.length,
    med: i === 0 ? null : median(samples[i]!),
  }));
}

/**
 * Events of `targets` people over a few hours, bursty: most follow the previous one by 0–80 ms
 * (page-load bursts, to exercise the 50 ms grouping), some by 30 s–20 min. Timestamps are
 * distinct per person (PostHog orders exact ties arbitrarily).
 */
function randomEvents(seed: number, targets: number): { events: TestEvent[]; byTarget: Map<string, { us: number; event: string; id: number }[]> } {
  const r = rng(seed);
  const names = ['a', 'b', 'c', 'x', 'o'];
  const events: TestEvent[] = [];
  const byTarget = new Map<string, { us: number; event: string; id: number }[]>();
  let id = 0;
  for (let p = 0; p < targets; p++) {
    const did = `p${p}`;
    const list: { us: number; event: string; id: number }[] = [];
    let us = BASE_US + Math.floor(r() * 3_600e6);
    const k = 1 + Math.floor(r() * 9);
    for (let i = 0; i < k; i++) {
      us += r() < 0.55 ? 1 + Math.floor(r() * 80_000) : 30e6 + Math.floor(r() * 1_200e6);
      // names repeat often, so the event-array filter has runs to thin out
      const event = i > 0 && r() < 0.35 ? list[i - 1]!.event : names[Math.floor(r() * names.length)]!;
      list.push({ us, event, id: id++ });
      events.push({ event, distinct_id: did, person_id: did, timestamp: new Date(us / 1000).toISOString().replace('Z', `${String(us % 1000).padStart(3, '0')}Z`) });
    }
    byTarget.set(did, list);
  }
  return { events, byTarget };
}

function randomFunnels(seed: number, count: number): Funnel[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: count }, () => {
    const n = 2 + Math.floor(r() * 3);
    const order = pick(['ordered', 'ordered', 'strict', 'unordered'] as const);
    return { steps: Array.from({ length: n }, () => pick(['a', 'b', 'c'])), order, windowMinutes: pick([1, 10, 60]), exclusion: r() < 0.3 };
  });
}

function toQuery(f: Funnel): PostHogQuery {
  return {
    kind: 'FunnelsQuery',
    series: f.steps.map((event) => ({ kind: 'EventsNode', event, name: event })),
    dateRange: { date_from: '2024-01-09', date_to: '2024-01-11' },
    funnelsFilter: {
      funnelOrderType: f.order,
      funnelWindowInterval: f.windowMinutes,
      funnelWindowIntervalUnit: 'minute',
      ...(f.exclusion ? { exclusions: [{ kind: 'EventsNode', event: 'x', name: 'x', funnelFromStep: 0, funnelToStep: f.steps.length - 1 }] } : {}),
    },
  };
}

describe('funnel engine vs a reference of PostHog’s current UDF (random funnels)', () => {
  let t: TempStore;
  let data: ReturnType<typeof randomEvents>;
  beforeAll(async () => {
    data = randomEvents(20261203, 300);
    t = await tempStore(data.events);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('answers every random funnel like the reference (counts, average and median times)', async () => {
    const funnels = randomFunnels(7, 120);
    const engine = localEngineForStore(t.store);
    const answers = await engine.runMany(funnels.map(toQuery), ctx);
    let checked = 0;
    funnels.forEach((f, k) => {
      const want = refSteps(f, data.byTarget);
      const got = (answers[k]!.results as { count: number; average_conversion_time: number | null; median_conversion_time: number | null }[]).map((s) => ({
        count: s.count,
        avg: s.average_conversion_time,
        med: s.median_conversion_time,
      }));
      const label = JSON.stringify(f);
      expect(got.length, label).toBe(want.length);
      got.forEach((g, i) => {
        expect(g.count, `${label} step ${i}`).toBe(want[i]!.count);
        for (const key of ['avg', 'med'] as const) {
          if (want[i]![key] === null) expect(g[key], `${label} step ${i} ${key}`).toBeNull();
          else expect(g[key]!, `${label} step ${i} ${key}`).toBeCloseTo(want[i]![key]!, 5);
        }
      });
      if (want.length) checked++;
    });
    // the data must make the check bite: most funnels have somebody in them
    expect(checked).toBeGreaterThan(80);
  });

  it('answers time to convert like the reference (samples, average and median)', async () => {
    const funnels = randomFunnels(11, 40);
    const engine = localEngineForStore(t.store);
    const answers = await engine.runMany(
      funnels.map((f) => {
        const q = toQuery(f);
        return { ...q, funnelsFilter: { ...(q.funnelsFilter as object), funnelVizType: 'time_to_convert' } };
      }),
      ctx,
    );
    funnels.forEach((f, k) => {
      const want = refTtc(f, data.byTarget);
      const got = answers[k]!.results as { bins: [number, number][]; average_conversion_time: number | null; median_conversion_time: number | null };
      const label = JSON.stringify(f);
      expect(got.bins.reduce((a, b) => a + b[1], 0), label).toBe(want.samples);
      for (const [key, w] of [['average_conversion_time', want.avg], ['median_conversion_time', want.med]] as const) {
        if (w === null) expect(got[key], `${label} ${key}`).toBeNull();
        else expect(got[key]!, `${label} ${key}`).toBeCloseTo(w, 5);
      }
    });
  });

  it('the generated data exercises both rules: sub-50 ms groups of different steps and thinned runs', () => {
    let groups = 0;
    let thinned = 0;
    for (const list of data.byTarget.values()) {
      for (let i = 1; i < list.length; i++) if (list[i]!.us - list[i - 1]!.us <= 50_000 && list[i]!.event !== list[i - 1]!.event) groups++;
      for (let i = 1; i + 1 < list.length; i++) if (list[i]!.event === list[i - 1]!.event && list[i]!.event === list[i + 1]!.event) thinned++;
    }
    expect(groups).toBeGreaterThan(50);
    expect(thinned).toBeGreaterThan(20);
  });
});
