// Connect reports (dau, features, platforms) against numbers counted straight from a fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEngineForStore } from '../../src/engines/local/index.js';
import type { Engine } from '../../src/engines/types.js';
import type { Store } from '../../src/store/store.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { findDimension, loadConnectDefinitions, buildDauQuery, activityProperties } from '../../src/definitions/connect.js';
import { runDauReport, runFeaturesReport, runPlatformsReport, NULL_VALUE } from '../../src/connect/reports.js';
import { renderDau, renderFeatures, renderPlatforms } from '../../src/connect/render.js';
import { renderCsv, renderTable } from '../../src/output/table.js';
import { storeWith } from '../engines/local/trends/helpers.js';
import { connectFixture, installationsPerDay, isInstallationEvent } from '../engines/local/trends/connect-fixture.js';

const fx = connectFixture();
const ctx = { timezone: 'UTC', weekStart: 0 as const, now: new Date('2026-01-25T12:00:00Z') };
const dateRange = { date_from: fx.start, date_to: '2026-01-20' };
const defs = loadConnectDefinitions();
const installs = fx.events.filter(isInstallationEvent);

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

describe('definitions', () => {
  it('resolve every name from the taxonomy', () => {
    const t = taxonomy();
    expect(defs.activity.installationIdPrefix).toBe(t.connect.distinctIdPrefix);
    expect(defs.activity.excludeEvents).toEqual([t.downloads.event]);
    expect(defs.dimensions.map((d) => d.personProperty)).toEqual([t.connect.personProperties.os, t.connect.personProperties.arch, t.connect.personProperties.osVersion, t.connect.personProperties.appVersion]);
    for (const f of defs.features) expect(Object.values(t.connect.events)).toContain(f.event);
  });

  it('"any Connect event" is an all-events series with event_metadata filters PostHog accepts', () => {
    const q = buildDauQuery(defs, { dateRange, interval: 'day', math: 'dau' }) as Record<string, any>;
    expect(q.series).toEqual([{ kind: 'EventsNode', event: null, name: 'All events', custom_name: 'Active installations', math: 'dau' }]);
    expect(q.properties).toEqual(activityProperties(defs.activity));
    expect(q.properties[0]).toEqual({ type: 'event_metadata', key: 'distinct_id', operator: 'regex', value: '^connect\\.' });
  });

  it('unknown breakdowns list the valid ones', () => {
    expect(() => findDimension(defs, 'platform')).toThrow(/unknown breakdown 'platform'/);
    try {
      findDimension(defs, 'os_versoin');
    } catch (e) {
      expect((e as Error).message).toMatch(/did you mean 'os_version'/);
      expect((e as { hint?: string }).hint).toBe('Valid breakdowns: os, arch, os_version, app_version.');
    }
  });
});

describe('dau report', () => {
  it('equals the distinct installations per day counted from the events', async () => {
    const r = await runDauReport(engine, defs, { dateRange, interval: 'day', math: 'dau' }, ctx);
    expect(r.series).toHaveLength(1);
    expect(r.series[0]!.data).toEqual(installationsPerDay(fx.events, fx.start, fx.days));
    expect(r.series[0]!.days[0]).toBe('2026-01-01');
    expect(r.series[0]!.labels[0]).toBe('1-Jan-2026');
    expect(r.series[0]!.data.some((v) => v > 5)).toBe(true);
  });

  it('weekly interval counts unique installations per week; WAU there is the same', async () => {
    const dau = await runDauReport(engine, defs, { dateRange, interval: 'week', math: 'dau' }, ctx);
    const wau = await runDauReport(engine, defs, { dateRange, interval: 'week', math: 'wau' }, ctx);
    expect(wau.effectiveMath).toBe('dau');
    expect(wau.series[0]!.data).toEqual(dau.series[0]!.data);
    // week of Sun 2026-01-04: installations active Jan 4..10
    const ids = new Set(installs.filter((e) => e.timestamp >= '2026-01-04' && e.timestamp < '2026-01-11').map((e) => e.distinct_id));
    expect(dau.series[0]!.days).toEqual(['2025-12-28', '2026-01-04', '2026-01-11', '2026-01-18']);
    expect(dau.series[0]!.data[1]).toBe(ids.size);
  });

  it('WAU per day counts installations active in the 7 days ending that day', async () => {
    const r = await runDauReport(engine, defs, { dateRange, interval: 'day', math: 'wau' }, ctx);
    const day = '2026-01-10';
    const ids = new Set(installs.filter((e) => e.timestamp >= '2026-01-04' && e.timestamp < '2026-01-11').map((e) => e.distinct_id));
    expect(r.series[0]!.data[r.series[0]!.days.indexOf(day)]).toBe(ids.size);
  });

  it('breaks down by a person property, installations without it in the null bucket', async () => {
    const r = await runDauReport(engine, defs, { dateRange, interval: 'day', math: 'dau', breakdown: findDimension(defs, 'os') }, ctx);
    const total = installationsPerDay(fx.events, fx.start, fx.days);
    const summed = total.map((_, i) => r.series.reduce((a, s) => a + s.data[i]!, 0));
    expect(summed).toEqual(total);
    expect(r.series.map((s) => s.name)).toContain('(not set)');
    expect(r.series.find((s) => s.breakdownValue === NULL_VALUE)!.name).toBe('(not set)');
  });

  it('compare adds the previous period after the current one', async () => {
    const r = await runDauReport(engine, defs, { dateRange: { date_from: '2026-01-11', date_to: '2026-01-20' }, interval: 'day', math: 'dau', compare: true }, ctx);
    expect(r.series.map((s) => s.compare)).toEqual(['current', 'previous']);
    expect(r.series[1]!.days[0]).toBe('2026-01-01');
    expect(r.series[1]!.data).toEqual(installationsPerDay(fx.events, fx.start, fx.days).slice(0, 10));
  });

  it('renders a table with a chart that fits 80 columns, and long CSV', async () => {
    const r = await runDauReport(engine, defs, { dateRange, interval: 'day', math: 'dau' }, ctx);
    const out = renderDau(r);
    const text = renderTable(out.tables[0]!);
    expect(text).toContain('1-Jan-2026');
    const chart = out.chart?.();
    expect(chart).toBeDefined();
    for (const line of chart!.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    const csv = renderCsv(out.csv![0]!).trim().split('\n');
    expect(csv[0]).toBe('series,breakdown_value,compare,date,label,value,incomplete');
    expect(csv).toHaveLength(1 + fx.days);
    const b = await runDauReport(engine, defs, { dateRange, interval: 'day', math: 'dau', breakdown: findDimension(defs, 'app_version') }, ctx);
    expect(renderCsv(renderDau(b).csv![0]!).trim().split('\n')).toHaveLength(1 + fx.days * b.series.length);
  });
});

describe('features report', () => {
  it('counts installations and events per feature and breakdown value', async () => {
    const r = await runFeaturesReport(engine, defs, dateRange, ctx);
    const active = new Set(installs.map((e) => e.distinct_id)).size;
    expect(r.activeInstallations).toBe(active);
    const t = taxonomy();
    for (const f of r.features) {
      const evs = installs.filter((e) => e.event === f.event);
      expect(f.events, f.key).toBe(evs.length);
      expect(f.installations, f.key).toBe(new Set(evs.map((e) => e.distinct_id)).size);
      expect(f.share).toBeCloseTo(f.installations / active, 10);
    }
    const transfer = r.features.find((f) => f.event === t.connect.events.fileTransferRun)!;
    const dir = transfer.breakdowns[0]!;
    expect(dir.values.map((v) => v.label).sort()).toEqual(['download', 'upload']);
    const uploads = installs.filter((e) => e.event === t.connect.events.fileTransferRun && e.properties?.[t.connect.properties.fileTransferIsUpload] === true);
    expect(dir.values.find((v) => v.label === 'upload')!.events).toBe(uploads.length);
    const setup = r.features.find((f) => f.event === t.connect.events.connectMyComputerSetup)!;
    const failedSteps = setup.breakdowns[1]!;
    const failed = installs.filter((e) => e.event === t.connect.events.connectMyComputerSetup && e.properties?.[t.connect.properties.setupSuccess] === false);
    expect(failedSteps.values.reduce((a, v) => a + v.events, 0)).toBe(failed.length);
    const protocol = r.features.find((f) => f.event === t.connect.events.protocolUse)!;
    expect(Array.isArray(protocol.breakdowns[1]!.values[0]!.value)).toBe(true);
    const text = renderTable(renderFeatures(r).tables[0]!);
    expect(text).toContain('Cluster logins');
  });
});

describe('platforms report', () => {
  it('shares of active installations per person property value', async () => {
    const r = await runPlatformsReport(engine, defs, dateRange, ctx);
    const activeIds = new Set(installs.map((e) => e.distinct_id));
    expect(r.activeInstallations).toBe(activeIds.size);
    const t = taxonomy();
    const os = r.dimensions.find((d) => d.key === 'os')!;
    const expected = new Map<string, number>();
    for (const p of fx.persons) {
      if (!activeIds.has(p.distinct_ids[0]!)) continue;
      const v = (p.properties?.[t.connect.personProperties.os] as string | undefined) ?? NULL_VALUE;
      expected.set(v, (expected.get(v) ?? 0) + 1);
    }
    expect(Object.fromEntries(os.values.map((v) => [v.value, v.installations]))).toEqual(Object.fromEntries(expected));
    expect(os.values.reduce((a, v) => a + (v.share ?? 0), 0)).toBeCloseTo(1, 10);
    expect(renderTable(renderPlatforms(r).tables[0]!)).toContain('Operating system');
  });
});
