/**
 * The session index (src/store/session-index.ts, funnels/index-scan.ts): funnels per wizard
 * session read from it give exactly what the events scan gives, for every Discover track and the
 * options the reports use, and the index is used only while it is current.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../../src/store/store.js';
import { seedStore } from '../../../src/synthetic/seed.js';
import { loadEvents, type RawEvent } from '../../../src/store/ingest.js';
import { buildSessionIndex, comboSets, openSessionIndex, sessionIndexPath } from '../../../src/store/session-index.js';
import { SESSION_INDEX_ENV } from '../../../src/engines/local/funnels/index-scan.js';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import { buildTrackCompletionQuery, buildTrackFunnelQuery } from '../../../src/definitions/discover.js';
import { loadTracks } from '../../../src/definitions/tracks.js';
import type { PostHogQuery, QueryContext } from '../../../src/engines/types.js';
import { tmpDir } from '../../commands/cli.js';

const ctx: QueryContext = { timezone: 'UTC', weekStart: 0, now: new Date('2026-11-20T00:00:00Z') };
const ALL = { date_from: '2026-10-01', date_to: '2026-11-19' };
// cuts through the data: rows on both sides of each edge
const PART = { date_from: '2026-11-05', date_to: '2026-11-09' };
const SID = 'tp.discover.metadata.id';

let dir: string;
let store: Store;

/** Runs each query with the index allowed, then with it off; returns both answers and how many scans the index served. */
async function both(queries: PostHogQuery[]): Promise<{ indexed: unknown[]; scanned: unknown[]; hits: number }> {
  const engine = localEngineForStore(store);
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const prevDebug = process.env.DISCOVER_METRICS_DEBUG;
  process.env.DISCOVER_METRICS_DEBUG = 'funnel';
  try {
    const indexed = await engine.runMany(queries, ctx);
    const hits = lines.filter((l) => l.startsWith('[funnel] session index:')).length;
    process.env[SESSION_INDEX_ENV] = '0';
    const scanned = await engine.runMany(queries, ctx);
    return { indexed: indexed.map((r) => r.results), scanned: scanned.map((r) => r.results), hits };
  } finally {
    delete process.env[SESSION_INDEX_ENV];
    if (prevDebug === undefined) delete process.env.DISCOVER_METRICS_DEBUG;
    else process.env.DISCOVER_METRICS_DEBUG = prevDebug;
    spy.mockRestore();
  }
}

beforeAll(async () => {
  dir = tmpDir('dm-session-index-');
  store = await Store.open(join(dir, 'events.duckdb'));
  // the demo set in small: every track, errors, retries, both deployments
  await seedStore(store, { generate: { accounts: 40, installations: 30, days: 40 }, now: ctx.now, downloads: false });
  // sessions across PART's edges: a step on each side of midnight
  const edge: RawEvent[] = [];
  let n = 0;
  for (const [day, next] of [['2026-11-04', '2026-11-05'], ['2026-11-09', '2026-11-10']]) {
    for (const track of ['DISCOVER_RESOURCE_SERVER', 'DISCOVER_RESOURCE_KUBERNETES', 'DISCOVER_RESOURCE_DATABASE_POSTGRES_RDS']) {
      const sid = `edge-${day}-${track}`;
      const ev = (event: string, ts: string): RawEvent => ({
        uuid: `00000000-0000-4000-9000-${String(++n).padStart(12, '0')}`,
        event,
        distinct_id: sid,
        timestamp: ts,
        properties: { [SID]: sid, 'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS', 'tp.discover.resource.name': track },
      });
      edge.push(ev('tp.ui.discover.started', `${day}T23:59:50Z`), ev('tp.ui.discover.resourceSelection', `${day}T23:59:55Z`));
      edge.push(ev('tp.ui.discover.deployService', `${next}T00:00:05Z`), ev('tp.ui.discover.completed', `${next}T00:00:09Z`));
    }
  }
  await loadEvents(store, edge);
}, 60_000);

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('session index', () => {
  it('is built by the load and is current', async () => {
    expect(existsSync(sessionIndexPath(store.path))).toBe(true);
    const index = await openSessionIndex(store);
    expect(index).not.toBeNull();
    const events = Number((await store.conn.runAndReadAll('SELECT count(*) FROM events')).getRows()[0]![0]);
    expect(index!.rows).toBe(events);
    const sessions = Number((await store.conn.runAndReadAll(`SELECT count(DISTINCT "${store.materializedColumn(SID)}") FROM events`)).getRows()[0]![0]);
    // every session, plus one group for the rows without one
    expect(index!.start.length - 1).toBe(sessions + 1);
  });

  it('gives every track funnel exactly what the scan gives', async () => {
    const queries: PostHogQuery[] = [];
    for (const track of loadTracks()) {
      const base = { window: { funnelWindowInterval: 14, funnelWindowIntervalUnit: 'day' as const }, deployment: 'all' as const };
      queries.push(buildTrackFunnelQuery(track, { ...base, dateRange: ALL, order: 'ordered' }) as unknown as PostHogQuery);
      queries.push(buildTrackFunnelQuery(track, { ...base, dateRange: PART, order: 'strict', deployment: 'cloud' }) as unknown as PostHogQuery);
      queries.push(buildTrackFunnelQuery(track, { ...base, dateRange: PART, order: 'unordered', breakdown: 'tp.discover.deploy.method' }) as unknown as PostHogQuery);
      queries.push(buildTrackFunnelQuery(track, { ...base, dateRange: ALL, order: 'ordered', vizType: 'time_to_convert' }) as unknown as PostHogQuery);
      // (funnel trends have no breakdown)
      const { breakdownFilter: _, ...trends } = buildTrackFunnelQuery(track, { ...base, dateRange: PART, order: 'ordered', vizType: 'trends', deployment: 'self-hosted' });
      queries.push(trends as unknown as PostHogQuery);
      queries.push(buildTrackCompletionQuery(track, { ...base, dateRange: ALL, order: 'ordered' }) as unknown as PostHogQuery);
    }
    const { indexed, scanned, hits } = await both(queries);
    expect(hits).toBeGreaterThan(0);
    expect(JSON.stringify(indexed)).toBe(JSON.stringify(scanned));
    // the funnels have something to compare: sessions enter and convert
    expect(JSON.stringify(scanned)).toMatch(/"count":[1-9]/);
  });

  it('agrees on exclusions, any-event steps and a filter on a column it does not hold (that one scans)', async () => {
    const step = (event: string, extra: Record<string, unknown> = {}) => ({ kind: 'EventsNode', event, name: event ?? 'All events', ...extra });
    const funnel = (series: unknown[], extra: Record<string, unknown> = {}): PostHogQuery =>
      ({
        kind: 'FunnelsQuery',
        series,
        dateRange: ALL,
        funnelsFilter: { funnelAggregateByHogQL: `properties.\`${SID}\``, funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day', ...((extra.funnelsFilter as object) ?? {}) },
        ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'funnelsFilter')),
      }) as unknown as PostHogQuery;
    const started = 'tp.ui.discover.started';
    const selection = 'tp.ui.discover.resourceSelection';
    const completed = 'tp.ui.discover.completed';
    const queries = [
      funnel([step(started), step(selection), step(completed)], { funnelsFilter: { exclusions: [{ kind: 'EventsNode', event: 'tp.ui.discover.deployService', funnelFromStep: 1, funnelToStep: 2 }] } }),
      funnel([step(started), step(null as unknown as string), step(completed)], { funnelsFilter: { funnelOrderType: 'strict' } }),
      funnel([step(started), step(completed)], { breakdownFilter: { breakdown: 'tp.discover.resource.name', breakdown_type: 'event' }, funnelsFilter: { breakdownAttributionType: 'all_events' } }),
      // $browser is not materialized: the combinations cannot answer it
      funnel([step(started), step(completed)], { properties: [{ key: '$browser', type: 'event', operator: 'is_not_set' }] }),
    ];
    const hits: number[] = [];
    for (const q of queries) {
      const r = await both([q]);
      hits.push(r.hits);
      expect(JSON.stringify(r.indexed)).toBe(JSON.stringify(r.scanned));
    }
    expect(hits).toEqual([1, 1, 1, 0]);
  });

  it('is not used once the events change without it, and a load brings it back', async () => {
    const q = trackQuery();
    const before = await both([q]);
    expect(before.hits).toBe(1);
    const sess = (n: number, event: string): RawEvent => ({
      uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      event,
      distinct_id: 'index-test',
      timestamp: `2026-11-10T10:00:0${n}Z`,
      properties: { [SID]: 'index-test-session', 'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS', 'tp.discover.resource.name': 'DISCOVER_RESOURCE_SERVER' },
    });
    // written like the sandbox does: no rebuild
    await loadEvents(store, [sess(1, 'tp.ui.discover.started')], { sessionIndex: false });
    expect(await openSessionIndex(store)).toBeNull();
    const stale = await both([q]);
    expect(stale.hits).toBe(0);
    expect(JSON.stringify(stale.indexed)).toBe(JSON.stringify(stale.scanned));
    // a load rebuilds it, with the new session in
    await loadEvents(store, [sess(2, 'tp.ui.discover.resourceSelection')]);
    const after = await both([q]);
    expect(after.hits).toBe(1);
    expect(JSON.stringify(after.indexed)).toBe(JSON.stringify(after.scanned));
  });

  it('ignores an index file cut short, or one whose stamp is not the one committed', async () => {
    const path = sessionIndexPath(store.path);
    const reopen = async () => {
      await store.close();
      store = await Store.open(path.replace(/\.sessions$/, ''));
    };
    truncateSync(path, statSync(path).size - 4);
    await reopen();
    expect(await openSessionIndex(store)).toBeNull();
    expect((await both([trackQuery()])).hits).toBe(0);
    await buildSessionIndex(store);
    expect(await openSessionIndex(store)).not.toBeNull();
    // meta holding another build's stamp than the file's
    await store.conn.run(`UPDATE meta SET value = '{"generation":"0","rows":1,"maxRowid":"0"}' WHERE key = 'session_index'`);
    await reopen();
    expect(await openSessionIndex(store)).toBeNull();
    await buildSessionIndex(store);
    expect((await both([trackQuery()])).hits).toBe(1);
    // the same counts, another build: a file copied from elsewhere is not this store's
    const meta = JSON.parse(String((await store.conn.runAndReadAll(`SELECT value FROM meta WHERE key = 'session_index'`)).getRows()[0]![0]));
    await store.conn.run(`UPDATE meta SET value = '${JSON.stringify({ ...meta, build: 'another-build' })}' WHERE key = 'session_index'`);
    await reopen();
    expect(await openSessionIndex(store)).toBeNull();
    await buildSessionIndex(store);
    expect((await both([trackQuery()])).hits).toBe(1);
  });
});

function trackQuery(): PostHogQuery {
  return buildTrackFunnelQuery(loadTracks()[0]!, {
    dateRange: ALL,
    window: { funnelWindowInterval: 14, funnelWindowIntervalUnit: 'day' },
    order: 'ordered',
    deployment: 'all',
  }) as unknown as PostHogQuery;
}

describe('combination sets', () => {
  // sessions' rows as combination ids: [0 1 0] [2] [1 0] [2 2] [3 1] [] [1 3]
  const sessions = [[0, 1, 0], [2], [1, 0], [2, 2], [3, 1], [], [1, 3]];
  const start = Int32Array.from([0, ...sessions.map((_, i) => sessions.slice(0, i + 1).flat().length)]);
  const combo = Int32Array.from(sessions.flat());
  const members = (r: ReturnType<typeof comboSets>, s: number) => [...r.setItems.subarray(r.setStart[r.setOf[s]!]!, r.setStart[r.setOf[s]! + 1]!)];

  // (by size: [0 1] and [1 3] share a hash, and a new hash comes after that)
  for (const hashOf of [undefined, (m: Int32Array) => m.length]) {
    it(`gives each session its distinct combinations, alike sessions one set${hashOf ? ', also when two sets have one hash' : ''}`, () => {
      const r = comboSets(start, sessions.length, combo, 4, hashOf);
      expect(sessions.map((_, s) => members(r, s))).toEqual([[0, 1], [2], [0, 1], [2], [1, 3], [], [1, 3]]);
      expect(r.setStart.length - 1).toBe(4);
      expect(r.setOf[0]).toBe(r.setOf[2]);
      expect(r.setOf[4]).toBe(r.setOf[6]);
    });
  }
});
