// The Connect commands end to end through the binary: DAU from the CLI equals the distinct
// installations per day counted straight from the fixture file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../peer/harness.js';
import type { TestEvent } from '../engines/local/trends/helpers.js';
import { connectFixture, installationsPerDay, isInstallationEvent } from '../engines/local/trends/connect-fixture.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { Store } from '../../src/store/store.js';
import { buildDauQuery, loadConnectDefinitions } from '../../src/definitions/connect.js';

const fx = connectFixture(11, 30, 20);
const ctxArgs = ['--now', '2026-01-25T12:00:00Z', '--timezone', 'UTC'];
const range = ['--from', '2026-01-01', '--to', '2026-01-20'];
let dir: string;
let store: string;
let fixtureFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dm-connect-cli-'));
  store = join(dir, 'events.duckdb');
  fixtureFile = join(dir, 'events.jsonl');
  // PostHog export shape; person properties ride on the events like PostHog's person_properties
  const props = new Map(fx.persons.map((p) => [p.distinct_ids[0]!, p.properties ?? {}]));
  writeFileSync(fixtureFile, fx.events.map((e) => JSON.stringify({ ...e, person_properties: props.get(e.distinct_id) ?? {} })).join('\n') + '\n');
  const r = await runCli(['--store', store, 'load', fixtureFile]);
  if (r.code !== 0) throw new Error(`load failed: ${r.stderr}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.concurrent('dau through the CLI', () => {
  it('--format json: data equals installations per day counted from the fixture file', async () => {
    const r = await runCli(['--store', store, 'dau', ...range, ...ctxArgs, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const fromFile = readFileSync(fixtureFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TestEvent);
    expect(out.results).toHaveLength(1);
    expect(out.results[0].data).toEqual(installationsPerDay(fromFile, '2026-01-01', 20));
    expect(out.results[0].days[19]).toBe('2026-01-20');
    expect(out.query.kind).toBe('TrendsQuery');
  });

  it('table output has the table and a line chart', async () => {
    const r = await runCli(['--store', store, 'dau', ...range, ...ctxArgs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('20-Jan-2026');
    expect(r.stdout).toMatch(/┤/);
  });

  it('csv has one row per day per series', async () => {
    const r = await runCli(['--store', store, 'dau', ...range, ...ctxArgs, '--breakdown', 'os', '--format', 'csv']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const series = new Set(lines.slice(1).map((l) => l.split(',')[0]));
    expect(lines.length).toBe(1 + 20 * series.size);
  });

  it('--print-query prints exactly the TrendsQuery, without touching the store', async () => {
    const r = await runCli(['--store', join(dir, 'missing.duckdb'), 'dau', ...range, ...ctxArgs, '--math', 'wau', '--breakdown', 'arch', '--compare', '--print-query']);
    expect(r.code, r.stderr).toBe(0);
    const defs = loadConnectDefinitions();
    const expected = buildDauQuery(defs, {
      dateRange: { date_from: '2026-01-01', date_to: '2026-01-20' },
      interval: 'day',
      math: 'wau',
      breakdown: defs.dimensions.find((d) => d.key === 'arch'),
      compare: true,
    });
    expect(JSON.parse(r.stdout)).toEqual({ query: expected });
  });

  it('an unknown --breakdown exits 2 and lists the valid ones', async () => {
    const r = await runCli(['--store', store, 'dau', '--breakdown', 'platform', ...ctxArgs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--breakdown: unknown breakdown 'platform'");
    expect(r.stderr).toContain('Valid breakdowns: os, arch, os_version, app_version.');
    expect(r.stdout).toBe('');
  });

  it('bad --interval and --from are usage errors', async () => {
    const interval = await runCli(['--store', store, 'dau', '--interval', 'year', ...ctxArgs]);
    expect(interval.code).toBe(2);
    expect(interval.stderr).toMatch(/--interval <interval>' argument 'year' is invalid. Allowed choices are day, week, month/);
    const r = await runCli(['--store', store, 'dau', '--from', 'yesterday', ...ctxArgs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--from/);
  });

  it('an empty store says how to load or seed events', async () => {
    const empty = join(dir, 'empty.duckdb');
    const s = await Store.open(empty);
    await s.close();
    const r = await runCli(['--store', empty, 'dau', ...ctxArgs]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no events/);
    expect(r.stderr).toMatch(/load/);
  });
});

describe.concurrent('features and platforms through the CLI', () => {
  it('features --format json', async () => {
    const r = await runCli(['--store', store, 'features', ...range, ...ctxArgs, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.activeInstallations).toBeGreaterThan(0);
    expect(out.features.length).toBe(loadConnectDefinitions().features.length);
  });

  it('platforms markdown and csv', async () => {
    const md = await runCli(['--store', store, 'platforms', ...range, ...ctxArgs, '--format', 'markdown']);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^### Teleport Connect platforms/);
    const csv = await runCli(['--store', store, 'platforms', ...range, ...ctxArgs, '--dimension', 'os', '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.split('\n')[0]).toBe('dimension_key,dimension,property,value,label,installations,share,range_from,range_to,date_from,date_to');
  });
});

describe('with the seeded fixtures generator', () => {
  it('dau and platforms from the CLI equal what the generated file says', async () => {
    const gdir = mkdtempSync(join(tmpdir(), 'dm-connect-gen-'));
    try {
      const file = join(gdir, 'events.jsonl');
      const gstore = join(gdir, 'events.duckdb');
      const gen = await runCli(['fixtures', 'generate', '--seed', '3', '--accounts', '5', '--installations', '60', '--days', '14', '--start', '2026-03-20', '--out', file]);
      expect(gen.code, gen.stderr).toBe(0);
      const load = await runCli(['--store', gstore, 'load', file]);
      expect(load.code, load.stderr).toBe(0);
      const args = ['--store', gstore, '--from', '2026-03-20', '--to', '2026-04-02', '--now', '2026-04-05T00:00:00Z', '--format', 'json'];
      const dau = await runCli(['dau', ...args]);
      expect(dau.code, dau.stderr).toBe(0);
      const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TestEvent & { properties: Record<string, any> });
      const perDay = installationsPerDay(events, '2026-03-20', 14);
      expect(perDay.some((v) => v > 10)).toBe(true);
      expect(JSON.parse(dau.stdout).results[0].data).toEqual(perDay);

      const t = taxonomy();
      const osOf = new Map<string, string>();
      for (const e of events) {
        const os = e.properties.$set_once?.[t.connect.personProperties.os];
        if (e.distinct_id.startsWith(t.connect.distinctIdPrefix) && os && !osOf.has(e.distinct_id)) osOf.set(e.distinct_id, os);
      }
      const active = new Set(events.filter(isInstallationEvent).filter((e) => e.timestamp < '2026-04-03').map((e) => e.distinct_id));
      const expected: Record<string, number> = {};
      for (const id of active) expected[osOf.get(id) ?? '$$_posthog_breakdown_null_$$'] = (expected[osOf.get(id) ?? '$$_posthog_breakdown_null_$$'] ?? 0) + 1;
      const plat = await runCli(['platforms', ...args, '--dimension', 'os']);
      expect(plat.code, plat.stderr).toBe(0);
      const out = JSON.parse(plat.stdout);
      expect(out.activeInstallations).toBe(active.size);
      expect(Object.fromEntries(out.dimensions[0].values.map((v: { value: string; installations: number }) => [v.value, v.installations]))).toEqual(expected);
    } finally {
      rmSync(gdir, { recursive: true, force: true });
    }
  });
});
