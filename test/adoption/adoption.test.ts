import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEngineForStore } from '../../src/engines/local/index.js';
import { adoption, installationsQuery, downloadsQuery } from '../../src/adoption/index.js';
import { writeCdnLogs } from '../../src/downloads/generate.js';
import { analyzeDownloadLogs, downloadEvents, type Analysis } from '../../src/downloads/index.js';
import { periodOf } from '../../src/time/index.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { tempDir } from '../downloads/helpers.js';
import { tempStore, type TempStore, type TestEvent, type TestPerson } from '../engines/local/helpers.js';
import { json, run } from '../commands/cli.js';

// A small generated event set: Connect installations with their first and later events.
const t = taxonomy();
const login = t.connect.events.clusterLogin!;
const protocolUse = t.connect.events.protocolUse!;
const osKey = t.connect.personProperties.os!;
interface Inst { id: string; os: string; arch: string; days: string[] }
const INSTALLS: Inst[] = [
  { id: 'a', os: 'darwin', arch: 'arm64', days: ['2026-10-05T09:00:00Z', '2026-10-13T10:00:00Z'] },
  { id: 'b', os: 'win32', arch: 'x64', days: ['2026-10-06T12:00:00Z'] },
  { id: 'c', os: 'linux', arch: 'x64', days: ['2026-10-14T08:30:00Z', '2026-10-15T08:30:00Z'] },
  { id: 'd', os: 'darwin', arch: 'x64', days: ['2026-09-20T10:00:00Z', '2026-10-07T10:00:00Z'] },
  { id: 'e', os: 'darwin', arch: 'x64', days: ['2026-10-16T15:00:00Z'] },
  { id: 'f', os: 'win32', arch: 'x64', days: ['2026-10-12T07:00:00Z', '2026-10-12T09:00:00Z'] },
];
const events: TestEvent[] = INSTALLS.flatMap((i) =>
  i.days.map((ts, k) => ({ event: k === 0 ? login : protocolUse, distinct_id: `${t.connect.distinctIdPrefix}${i.id}`, timestamp: ts, properties: {} })),
);
// A cluster (non-Connect) event that must not count as an installation.
events.push({ event: t.discover.events.started!, distinct_id: 'tp.acme', timestamp: '2026-10-06T10:00:00Z', properties: {} });
const persons: TestPerson[] = INSTALLS.map((i) => ({ distinct_ids: [`${t.connect.distinctIdPrefix}${i.id}`], properties: { [osKey]: i.os } }));

const ctx = { timezone: 'UTC', weekStart: 0 as const, now: new Date('2026-11-01T00:00:00Z') };
const dateRange = { date_from: '2026-10-04', date_to: '2026-10-17' };

let logsDir: string;
let analysis: Analysis;
let withDownloads: TempStore;
let withoutDownloads: TempStore;

beforeAll(async () => {
  logsDir = tempDir('dm-adoption-logs-');
  await writeCdnLogs(logsDir, {
    seed: 5,
    start: new Date('2026-09-25T00:00:00Z'),
    days: 25,
    installations: INSTALLS.map((i) => ({ firstSeen: new Date(i.days[0]!), os: i.os, arch: i.arch, version: '16.4.0' })),
  });
  analysis = await analyzeDownloadLogs([logsDir], { salt: 'adoption-test-salt' });
  withoutDownloads = await tempStore(events, persons);
  withDownloads = await tempStore([...events, ...downloadEvents(analysis.downloads)], persons);
});

afterAll(async () => {
  await withDownloads?.cleanup();
  await withoutDownloads?.cleanup();
});

/** Installer downloads per (week, platform) counted straight from the logs. */
function expectedDownloads(): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of analysis.downloads) {
    if (d.kind !== 'install' || d.ts < Date.parse('2026-10-04T00:00:00Z') || d.ts >= Date.parse('2026-10-18T00:00:00Z')) continue;
    const k = `${periodOf(d.ts, { interval: 'week', timezone: 'UTC', weekStart: 0 })}/${d.platform}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

describe('adoption', () => {
  it('puts new and active installations by OS next to downloads from logs', async () => {
    const r = await adoption(localEngineForStore(withoutDownloads.store), { interval: 'week', dateRange, ctx, logDownloads: analysis.downloads });
    expect(r.periods).toEqual(['2026-10-04', '2026-10-11']);
    const cell = (period: string, platform: string) => r.rows.find((x) => x.period === period && x.platform === platform)!;
    // new: a (mac), b (win) in week 1; c (linux), e (mac), f (win) in week 2; d was first seen before the range
    expect([cell('2026-10-04', 'macos').newInstallations, cell('2026-10-04', 'windows').newInstallations, cell('2026-10-04', 'linux').newInstallations]).toEqual([1, 1, 0]);
    expect([cell('2026-10-11', 'macos').newInstallations, cell('2026-10-11', 'windows').newInstallations, cell('2026-10-11', 'linux').newInstallations]).toEqual([1, 1, 1]);
    // active: week 1 a, d (mac), b (win); week 2 a, e (mac), f (win), c (linux)
    expect([cell('2026-10-04', 'macos').activeInstallations, cell('2026-10-04', 'windows').activeInstallations]).toEqual([2, 1]);
    expect([cell('2026-10-11', 'macos').activeInstallations, cell('2026-10-11', 'linux').activeInstallations]).toEqual([2, 1]);
    const want = expectedDownloads();
    for (const row of r.rows) {
      expect(row.downloads, `${row.period}/${row.platform}`).toBe(want.get(`${row.period}/${row.platform}`) ?? 0);
      expect(row.ratio).toBe(row.downloads > 0 ? row.newInstallations / row.downloads : null);
    }
    const total = r.totals.reduce((a, x) => a + x.downloads, 0);
    const fresh = r.totals.reduce((a, x) => a + x.newInstallations, 0);
    expect(fresh).toBe(5);
    expect(total).toBeGreaterThanOrEqual(fresh);
    expect(r.downloadsSource).toBe('logs');
  });

  it('gives the same downloads from download events in the store (TrendsQuery on the download event)', async () => {
    const fromLogs = await adoption(localEngineForStore(withoutDownloads.store), { interval: 'week', dateRange, ctx, logDownloads: analysis.downloads });
    const fromStore = await adoption(localEngineForStore(withDownloads.store), { interval: 'week', dateRange, ctx });
    expect(fromStore.downloadsSource).toBe('store');
    expect(fromStore.rows).toEqual(fromLogs.rows);
    expect(fromStore.rows.some((x) => x.updates > 0) || fromLogs.rows.every((x) => x.updates === 0)).toBe(true);
  });

  it('agrees with the trends engine on bucket edges: months from a mid-month date, Monday weeks, a non-UTC zone', async () => {
    for (const [interval, weekStart] of [['month', 0], ['week', 1], ['day', 0]] as const) {
      const c = { timezone: 'Europe/Warsaw', weekStart, now: ctx.now };
      const range = { date_from: '2026-10-10', date_to: '2026-10-16' };
      const fromLogs = await adoption(localEngineForStore(withoutDownloads.store), { interval, dateRange: range, ctx: c, logDownloads: analysis.downloads });
      const fromStore = await adoption(localEngineForStore(withDownloads.store), { interval, dateRange: range, ctx: c });
      expect(fromLogs.rows, interval).toEqual(fromStore.rows);
      if (interval === 'month') {
        // PostHog counts the whole month for month intervals: downloads before the 10th are in.
        const early = analysis.downloads.filter((d) => d.kind === 'install' && d.ts >= Date.parse('2026-09-30T22:00:00Z') && d.ts < Date.parse('2026-10-09T22:00:00Z'));
        expect(fromLogs.rows.reduce((a, x) => a + x.downloads, 0)).toBeGreaterThanOrEqual(early.length);
        expect(fromLogs.periods).toEqual(['2026-10-01']);
      }
    }
  });

  it('builds plain PostHog TrendsQuery objects', () => {
    const q = installationsQuery('first_time_for_user', { interval: 'month', dateRange });
    expect(q).toMatchObject({
      kind: 'TrendsQuery',
      interval: 'month',
      series: [{ kind: 'EventsNode', event: null, math: 'first_time_for_user', properties: [{ type: 'event_metadata', key: 'distinct_id', operator: 'regex', value: '^connect\\.' }] }],
      breakdownFilter: { breakdown: osKey, breakdown_type: 'person' },
    });
    const d = downloadsQuery({ interval: 'day', dateRange });
    expect(d).toMatchObject({ series: [{ event: t.downloads.event, math: 'total' }, { event: t.downloads.event, math: 'total' }], breakdownFilter: { breakdown: t.downloads.properties.platform } });
  });
});

describe('discover-metrics adoption (CLI)', () => {
  it('renders the report from a store and log files, in json and as a table with a chart', async () => {
    await withoutDownloads.store.close();
    const args = ['--store', withoutDownloads.path, 'adoption', '--from', '2026-10-04', '--to', '2026-10-17', '--logs', logsDir, '--now', '2026-11-01T00:00:00Z'];
    const j = json(await run(['--format', 'json', ...args]));
    expect(j.periods).toEqual(['2026-10-04', '2026-10-11']);
    expect(j.totals.map((x: { platform: string }) => x.platform)).toEqual(['macos', 'windows', 'linux']);
    const table = await run(['--format', 'table', ...args, '--interval', 'day']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('Teleport Connect adoption by day 2026-10-04 to 2026-10-17');
    expect(table.stdout).toContain('New / downloads');
    expect(table.stdout).toContain('Whole range by platform');
    expect(table.stdout).toMatch(/● downloads\s+○ new installations\s+◆ active installations/);
    const md = await run(['--format', 'markdown', ...args]);
    expect(md.stdout).toContain('| Week | Platform | Downloads | New installations | New / downloads | Active installations | Updater fetches |');
    expect(md.stdout).not.toContain('●');
    const q = await run(['adoption', '--print-query', '--from', '-4w', '--interval', 'month']);
    expect(q.code).toBe(0);
    // PostHog request bodies, one per query sent
    expect(JSON.parse(q.stdout).map((x: { query: { series: { math: string }[] } }) => x.query.series[0]!.math)).toEqual(['dau', 'first_time_for_user', 'total']);
  });
});
