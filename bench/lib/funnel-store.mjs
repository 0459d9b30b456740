// The 7-step Discover funnel bench store, shared by bench/funnel-engine.mjs and
// bench/funnel-vs-clickhouse.mjs: ~N events shaped like Discover (session id / resource / status
// materialized, as a load writes them; the generator follows shared/bench-anchor/gen10m.mjs),
// built once under the temp folder, then reused (`rebuild` starts over).
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBenchStore } from './store.mjs';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const { sqlString: q } = await import(join(root, 'dist/store/sql.js'));
const { taxonomy } = await import(join(root, 'dist/events/taxonomy.js'));
const { buildSessionIndex, openSessionIndex } = await import(join(root, 'dist/store/session-index.js'));

const t = taxonomy();
const ev = t.discover.events;
export const STEPS = [ev.started, ev.resourceSelection, ev.deployService, ev.databaseConfigureMtls, ev.principalsConfigure, ev.testConnection, ev.completed];
export const SESSION = t.discover.properties.sessionId;
export const RESOURCE = t.discover.properties.resource;
const STATUS = t.discover.properties.status;
export const RESOURCES = ['RESOURCE_SERVER', 'RESOURCE_KUBERNETES', 'RESOURCE_DATABASE_POSTGRES_RDS', 'RESOURCE_DATABASE_MYSQL_RDS'];

/** Where the store for `events` target events lives unless --store says otherwise. */
export const defaultStorePath = (events) => join(tmpdir(), 'discover-metrics-bench', `funnel-${events}.duckdb`);

/**
 * Builds the store at `path` unless it holds events already, and its session index unless that
 * is current (a load builds it; this store is written with SQL); returns the event count.
 */
export async function buildFunnelStore(path, target, rebuild) {
  const { store, events: have } = await openBenchStore(path, rebuild);
  if (have > 0) {
    if (!(await openSessionIndex(store))) {
      const built = await buildSessionIndex(store);
      console.log(`built the session index in ${(built.ms / 1000).toFixed(1)} s at ${built.path}`);
    }
    await store.close();
    return have;
  }
  await store.materialize([SESSION, RESOURCE, STATUS]);
  const col = (k) => `"${store.materializedColumn(k)}"`;
  // ~73% of range rows survive the drop-off filter, as in the anchor generator
  const n = Math.round(target / 0.73);
  const t0 = Date.now();
  // a store keeps hash(session id) next to it (Store.keyHashColumn): written here like a load does
  const hashCol = store.keyHashColumn(SESSION);
  await store.conn.run(`
    INSERT INTO events (uuid, event, distinct_id, person_id, timestamp, properties, ${col(SESSION)}, ${col(RESOURCE)}, ${col(STATUS)}${hashCol ? `, "${hashCol}"` : ''})
    WITH s AS (SELECT i, i // 7 AS sess, i % 7 AS step FROM range(${n}) t(i))
    SELECT uuid() AS uuid,
      [${STEPS.map(q).join(', ')}][(step + 1)::BIGINT] AS event,
      'user-' || (sess // 3)::VARCHAR AS distinct_id,
      'person-' || (sess // 3)::VARCHAR AS person_id,
      TIMESTAMPTZ '2026-09-01 00:00:00+00' + to_seconds((sess * 37 % 7776000)::BIGINT) + to_seconds((step * 120 + hash(i) % 300)::BIGINT) AS timestamp,
      NULL::JSON AS properties,
      'sess-' || sess::VARCHAR,
      [${RESOURCES.map(q).join(', ')}][(hash(sess) % 4 + 1)::BIGINT],
      'SUCCESS'${hashCol ? `,
      hash('sess-' || sess::VARCHAR)` : ''}
    FROM s WHERE hash(sess * 7 + 3) % 100 >= step * 9`);
  // the JSON column mirrors the materialized values (what a load would produce)
  await store.conn.run(`UPDATE events SET properties = json_object(${q(SESSION)}, ${col(SESSION)}, ${q(RESOURCE)}, ${col(RESOURCE)}, ${q(STATUS)}, ${col(STATUS)})`);
  await store.conn.run('CHECKPOINT');
  const rows = Number((await store.conn.runAndReadAll('SELECT count(*) FROM events')).getRows()[0][0]);
  console.log(`built ${rows.toLocaleString()} events in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${path}`);
  const built = await buildSessionIndex(store);
  console.log(`built the session index in ${(built.ms / 1000).toFixed(1)} s at ${built.path}`);
  await store.close();
  return rows;
}

/** The bench's FunnelsQuery: 7 steps, 1-day window, per wizard session (one resource, or all). */
export function funnelQuery(resource) {
  const props = resource ? [{ key: RESOURCE, type: 'event', operator: 'exact', value: resource }] : undefined;
  return {
    kind: 'FunnelsQuery',
    series: STEPS.map((e, i) => ({ kind: 'EventsNode', event: e, name: e, ...(i === 0 && props ? { properties: props } : {}) })),
    dateRange: { date_from: '2026-08-01', date_to: '2026-12-31' },
    funnelsFilter: {
      funnelWindowInterval: 1,
      funnelWindowIntervalUnit: 'day',
      funnelOrderType: 'ordered',
      funnelAggregateByHogQL: `properties.\`${SESSION}\``,
    },
  };
}
