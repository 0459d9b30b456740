// Connect growth reports (lifecycle, retention, stickiness) against numbers counted straight from
// the Connect fixture's events, independently of any query engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEngineForStore } from '../../src/engines/local/index.js';
import type { Engine } from '../../src/engines/types.js';
import type { Store } from '../../src/store/store.js';
import { loadConnectDefinitions } from '../../src/definitions/connect.js';
import { runLifecycleReport, runRetentionReport, runStickinessReport } from '../../src/connect/growth.js';
import { runShareReport } from '../../src/connect/share.js';
import { loadShareDefinition } from '../../src/definitions/connect-share.js';
import { renderLifecycle, renderRetention, renderStickiness } from '../../src/connect/growth-render.js';
import { storeWith } from '../engines/local/trends/helpers.js';
import { connectFixture, isInstallationEvent } from '../engines/local/trends/connect-fixture.js';

const fx = connectFixture();
const ctx = { timezone: 'UTC', weekStart: 0 as const, now: new Date('2026-01-25T12:00:00Z') };
const dateRange = { date_from: fx.start, date_to: '2026-01-20' };
const defs = loadConnectDefinitions();
const DAY = 86_400_000;
const day0 = Date.parse(`${fx.start}T00:00:00Z`);
const installs = fx.events.filter(isInstallationEvent);

/** installation -> sorted distinct day indexes (UTC) it was active on; and its first day ever */
const activeDays = new Map<string, number[]>();
for (const e of installs) {
  const d = Math.floor((Date.parse(e.timestamp) - day0) / DAY);
  const list = activeDays.get(e.distinct_id) ?? [];
  if (!list.includes(d)) list.push(d);
  activeDays.set(e.distinct_id, list);
}
for (const l of activeDays.values()) l.sort((a, b) => a - b);

let store: Store;
let engine: Engine;
beforeAll(async () => {
  store = await storeWith(fx.events, fx.persons);
  engine = localEngineForStore(store);
});
afterAll(async () => {
  await engine.close();
  await store.close();
});

describe('lifecycle', () => {
  it('new, returning, resurrecting and dormant per day equal the counts made from the events', async () => {
    const want = Array.from({ length: fx.days }, () => ({ new: 0, returning: 0, resurrecting: 0, dormant: 0 }));
    for (const days of activeDays.values()) {
      const set = new Set(days);
      for (let d = 0; d < fx.days; d++) {
        if (set.has(d)) {
          if (d === days[0]) want[d]!.new++;
          else if (set.has(d - 1)) want[d]!.returning++;
          else want[d]!.resurrecting++;
        } else if (set.has(d - 1)) want[d]!.dormant--;
      }
    }
    expect(want.reduce((a, w) => a + w.new, 0)).toBe(activeDays.size);
    const r = await runLifecycleReport(engine, defs, { dateRange, interval: 'day' }, ctx);
    expect(r.periods.map((p) => p.period)).toEqual(Array.from({ length: fx.days }, (_, d) => new Date(day0 + d * DAY).toISOString().slice(0, 10)));
    expect(r.periods.map(({ new: n, returning, resurrecting, dormant }) => ({ new: n, returning, resurrecting, dormant }))).toEqual(want);
    expect(r.periods.every((p) => !p.incomplete)).toBe(true);
  });

  it('JSON has the periods with the four statuses and the incomplete flag', async () => {
    const r = await runLifecycleReport(engine, defs, { dateRange: { date_from: '2026-01-12', date_to: null }, interval: 'week' }, ctx);
    const json = renderLifecycle(r).json as { periods: Record<string, unknown>[] };
    expect(Object.keys(json.periods[0]!)).toEqual(['period', 'new', 'returning', 'resurrecting', 'dormant', 'incomplete']);
    expect(json.periods.map((p) => p.incomplete)).toEqual([false, false, true]);
  });
});

describe('retention', () => {
  const weekOf = (d: number) => {
    const t = day0 + d * DAY;
    return t - new Date(t).getUTCDay() * DAY; // Sunday week start
  };

  it('first-time cohort sizes and returns per week equal the counts made from the events', async () => {
    const r = await runRetentionReport(engine, defs, { dateRange, period: 'week', intervals: 4, kind: 'first_time' }, ctx);
    const starts = r.cohorts.map((c) => Date.parse(`${c.period}T00:00:00Z`));
    expect(r.cohorts.map((c) => c.period)).toEqual(['2025-12-28', '2026-01-04', '2026-01-11', '2026-01-18']);
    const want = starts.map((_, i) => new Array<number>(starts.length - i).fill(0));
    for (const days of activeDays.values()) {
      const i = starts.indexOf(weekOf(days[0]!));
      const weeks = new Set(days.map(weekOf));
      for (let k = 0; i + k < starts.length; k++) if (k === 0 || weeks.has(starts[i + k]!)) want[i]![k]!++;
    }
    expect(r.cohorts.map((c) => c.size)).toEqual(want.map((w) => w[0]));
    expect(r.cohorts.map((c) => c.values)).toEqual(want);
    const json = renderRetention(r).json as { cohorts: { period: string; size: number; values: number[] }[] };
    expect(json.cohorts[0]).toMatchObject({ period: '2025-12-28', size: want[0]![0], values: want[0] });
  });

  it('recurring cohorts hold every installation active in the week', async () => {
    const r = await runRetentionReport(engine, defs, { dateRange, period: 'week', intervals: 4, kind: 'recurring' }, ctx);
    const starts = r.cohorts.map((c) => Date.parse(`${c.period}T00:00:00Z`));
    const sizes = starts.map((s) => [...activeDays.values()].filter((days) => days.some((d) => weekOf(d) === s)).length);
    expect(r.cohorts.map((c) => c.size)).toEqual(sizes);
  });
});

describe('stickiness', () => {
  it('installations per number of active days equal the counts made from the events', async () => {
    const r = await runStickinessReport(engine, defs, { dateRange, interval: 'day' }, ctx);
    const want = new Array<number>(fx.days).fill(0);
    for (const days of activeDays.values()) want[days.length - 1]!++;
    expect(r.rows.map((x) => x.intervals)).toEqual(Array.from({ length: fx.days }, (_, i) => i + 1));
    expect(r.rows.map((x) => x.installations)).toEqual(want);
    expect(r.total).toBe(activeDays.size);
    const json = renderStickiness(r).json as { rows: Record<string, unknown>[] };
    expect(Object.keys(json.rows[0]!)).toEqual(['intervals', 'installations', 'share']);
  });
});

describe('growth commands with --engine posthog (sandbox on 127.0.0.1) equal the local engine', async () => {
  const { sandboxOver } = await import('../sandbox/helpers.js');
  const { runCli } = await import('../peer/harness.js');
  const TOKEN = 'phc_growthTestToken001';
  const PKEY = 'phx_growthTestKey0001';
  let sb: Awaited<ReturnType<typeof sandboxOver>> | undefined;
  beforeAll(async () => {
    sb = await sandboxOver(fx.events, fx.persons, { projectToken: TOKEN, personalApiKey: PKEY });
  });
  afterAll(async () => {
    await sb?.close();
  });
  const lifecycleOpts = { dateRange, interval: 'day' as const };
  const retentionOpts = { dateRange, period: 'week' as const, intervals: 4, kind: 'first_time' as const };
  const cases: [string, string[], string, () => Promise<unknown>][] = [
    ['lifecycle', ['--interval', 'day'], 'periods', async () => (renderLifecycle(await runLifecycleReport(engine, defs, lifecycleOpts, ctx)).json as any).periods],
    ['retention', ['--period', 'week', '--intervals', '4'], 'cohorts', async () => (renderRetention(await runRetentionReport(engine, defs, retentionOpts, ctx)).json as any).cohorts],
    ['connect-share', ['--interval', 'week'], 'caveat', async () => (await runShareReport(engine, defs, loadShareDefinition(), { dateRange, interval: 'week' }, ctx)).caveat],
    ['stickiness', [], 'rows', async () => (renderStickiness(await runStickinessReport(engine, defs, { dateRange, interval: 'day' }, ctx)).json as any).rows],
  ];
  for (const [cmd, args, key, local] of cases) {
    it(cmd, async () => {
      const argv = [cmd, ...args, '--from', '2026-01-01', '--to', '2026-01-20', '--now', '2026-01-25T12:00:00Z', '--format', 'json'];
      const remote = await runCli([...argv, '--engine', 'posthog', '--host', sb!.url, '--project-id', '1', '--personal-api-key', PKEY]);
      expect(remote.code, remote.stderr).toBe(0);
      const r = JSON.parse(remote.stdout);
      expect(r.engine).toBe('posthog');
      expect(r[key]).toEqual(await local());
      expect(remote.stdout + remote.stderr).not.toContain(PKEY);
    });
  }
});
