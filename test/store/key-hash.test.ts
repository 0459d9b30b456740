/**
 * The wizard session id's hash column (hashedKeys in store.ts): written with the column by every
 * load and by materialize(), always hash() of the value (NULL included), and funnels give the
 * same answers with it as without it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { loadEvents, type RawEvent } from '../../src/store/ingest.js';
import { localEngineForStore } from '../../src/engines/local/index.js';
import { buildTrackFunnelQuery, loadTracks } from '../../src/definitions/discover.js';
import type { QueryContext } from '../../src/engines/types.js';

const SID = 'tp.discover.metadata.id';
const ctx: QueryContext = { timezone: 'UTC', weekStart: 0, now: new Date('2024-06-01T00:00:00Z') };

let store: Store;
beforeEach(async () => {
  store = await Store.open(':memory:');
});
afterEach(async () => store.close());

let n = 0;
const U = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
const step = (event: string, session: string, second: number, resource?: string): RawEvent => ({
  uuid: U(),
  event: `tp.ui.discover.${event}`,
  distinct_id: `u-${session}`,
  timestamp: `2024-05-01T10:00:${String(second).padStart(2, '0')}Z`,
  properties: {
    [SID]: session,
    'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS',
    ...(resource ? { 'tp.discover.resource.name': resource } : {}),
  },
});
const other = (second: number): RawEvent => ({ uuid: U(), event: '$pageview', distinct_id: 'web', timestamp: `2024-05-01T10:01:${String(second).padStart(2, '0')}Z`, properties: {} });

async function mismatches(): Promise<number> {
  const col = store.materializedColumn(SID)!;
  const h = store.keyHashColumn(SID)!;
  const r = await store.conn.runAndReadAll(`SELECT count(*) FROM events WHERE "${h}" IS DISTINCT FROM hash("${col}")`);
  return Number(r.getRows()[0]![0]);
}

describe('session id hash column', () => {
  it('is created with the column and equals hash() of every row, across loads', async () => {
    await loadEvents(store, [step('started', 's1', 1), other(1), step('started', 's2', 2)]);
    expect(store.keyHashColumn(SID)).toBe(`${store.materializedColumn(SID)}__hash`);
    expect(await mismatches()).toBe(0);
    // a second load into the existing columns, with rows that lack the key
    await loadEvents(store, [step('resourceSelection', 's1', 3, 'DISCOVER_RESOURCE_SERVER'), other(2), other(3)]);
    expect(await mismatches()).toBe(0);
    const nulls = await store.conn.runAndReadAll(`SELECT count(*) FROM events WHERE "${store.keyHashColumn(SID)}" IS NULL`);
    expect(Number(nulls.getRows()[0]![0])).toBe(0);
  });

  it('is filled when the key is materialized after its rows were stored', async () => {
    // the first load has no session ids: no column yet
    await loadEvents(store, [other(1), other(2)]);
    expect(store.materializedColumn(SID)).toBeUndefined();
    await store.conn.run(`INSERT INTO events (uuid, event, distinct_id, person_id, timestamp, properties)
      VALUES ('${U()}', 'tp.ui.discover.started', 'x', 'x', '2024-05-01T10:00:00Z', '{"${SID}": "late"}')`);
    await store.materialize([SID]);
    expect(await mismatches()).toBe(0);
    const r = await store.conn.runAndReadAll(`SELECT "${store.materializedColumn(SID)}" FROM events WHERE "${store.keyHashColumn(SID)}" = hash('late')`);
    expect(r.getRows()).toEqual([['late']]);
  });

  it('gives funnels the same answers as hashing the session id in the scan', async () => {
    const track = loadTracks().find((t) => t.slug === 'server')!;
    const events: RawEvent[] = [];
    for (let s = 0; s < 40; s++) {
      const id = `sess-${s}`;
      events.push(step('started', id, 1));
      if (s % 3 !== 0) events.push(step('resourceSelection', id, 2, track.resource));
      if (s % 4 === 1) events.push(step('deployService', id, 3, track.resource));
    }
    // rows without a session id (not Discover's) are outside the funnel either way
    events.push(other(5), other(6));
    await loadEvents(store, events);
    const q = buildTrackFunnelQuery(track, {
      dateRange: { date_from: '2024-04-01', date_to: '2024-05-31' },
      order: 'ordered',
      window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' },
      deployment: 'all', // these rows carry no tp.is_cloud
    });
    const withHash = await localEngineForStore(store).run(q as never, ctx);
    const col = store.keyHashColumn(SID)!;
    await store.conn.run(`ALTER TABLE events DROP COLUMN "${col}"`);
    const reopened = store;
    await (reopened as unknown as { loadMaterialized(): Promise<void> }).loadMaterialized();
    expect(store.keyHashColumn(SID)).toBeUndefined();
    const without = await localEngineForStore(store).run(q as never, ctx);
    expect(withHash.results).toEqual(without.results);
    const counts = (withHash.results as { count: number; breakdown_value: string[] }[][]).find((l) => l[0]!.breakdown_value[0] === track.resource)!.map((x) => x.count);
    expect(counts[0]).toBeGreaterThan(0);
  });
});
