#!/usr/bin/env node
// Local funnel engine speed: a 7-step Discover funnel aggregated per session over ~10M events.
//
//   npm run build && node bench/funnel-engine.mjs [--events 10000000] [--store PATH] [--rebuild]
//
// Builds (once, then reuses) a store shaped like Discover through our store schema: events with
// the session id / resource / status as materialized columns (the generator follows
// /work/shared/bench-anchor/gen10m.mjs). Then measures
//   (a) one plain DuckDB scan of the same columns,
//   (b) the engine on one 7-step FunnelsQuery aggregated by properties.`tp.discover.metadata.id`,
//   (c) runMany of 4 such queries (one per resource) sharing one scan,
// and prints ms, the ratio to the scan, peak RSS, and the level counts of (b).
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { Store } = await import(join(root, 'dist/store/store.js'));
const { sqlString: q } = await import(join(root, 'dist/store/sql.js'));
const { openBenchStore } = await import('./lib/store.mjs');
const { localEngineForStore } = await import(join(root, 'dist/engines/local/index.js'));
const { taxonomy } = await import(join(root, 'dist/events/taxonomy.js'));

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const target = Number(arg('--events', '10000000'));
const storePath = arg('--store', join(tmpdir(), 'discover-metrics-bench', `funnel-${target}.duckdb`));
const rebuild = args.includes('--rebuild');

const t = taxonomy();
const ev = t.discover.events;
const STEPS = [ev.started, ev.resourceSelection, ev.deployService, ev.databaseConfigureMtls, ev.principalsConfigure, ev.testConnection, ev.completed];
const SESSION = t.discover.properties.sessionId;
const RESOURCE = t.discover.properties.resource;
const STATUS = t.discover.properties.status;
const RESOURCES = ['RESOURCE_SERVER', 'RESOURCE_KUBERNETES', 'RESOURCE_DATABASE_POSTGRES_RDS', 'RESOURCE_DATABASE_MYSQL_RDS'];


async function build() {
  const { store, events: have } = await openBenchStore(storePath, rebuild);
  if (have > 0) {
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
  console.log(`built ${rows.toLocaleString()} events in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${storePath}`);
  await store.close();
  return rows;
}

function funnel(resource) {
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

// wall time (best of 2) and the process CPU time of that run (all threads: JS + DuckDB), which
// is less distorted than wall time when other jobs share the cores
async function timed(label, fn, reps = 2) {
  let best = Infinity;
  let cpu = Infinity;
  let out;
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    out = await fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (ms < best) best = ms;
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
  }
  return { label, ms: best, cpu, out };
}

const rows = await build();
const store = await Store.open(storePath, { readOnly: true });
const engine = localEngineForStore(store);
const ctx = { timezone: 'UTC', weekStart: 0, now: new Date('2026-12-01T00:00:00Z') };
const sessCol = store.materializedColumn(SESSION);

// engine first, so its peak RSS is not mixed up with DuckDB's own buffers for (a)
const one = await timed('(b) engine: 7-step funnel per session', async () => engine.run(funnel(null), ctx));
const four = await timed('(c) engine runMany: 4 funnels (one per resource), one scan', async () => engine.runMany(RESOURCES.map(funnel), ctx));
const engineRss = process.resourceUsage().maxRSS / 1024;
const scan = await timed('(a) DuckDB scan: count, count distinct session, max(timestamp)', async () =>
  (await store.conn.runAndReadAll(`SELECT count(*), count(DISTINCT "${sessCol}"), max(timestamp) FROM events`)).getRows(),
);
await engine.close();
await store.close();

const rss = process.resourceUsage().maxRSS / 1024;
const load = (await import('node:os')).loadavg()[0];
console.log(`events: ${rows.toLocaleString()}  (1-min load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores)`);
for (const r of [scan, one, four]) console.log(`${r.label}: ${r.ms.toFixed(0)} ms wall (${(r.ms / scan.ms).toFixed(2)}x scan), ${r.cpu.toFixed(0)} ms CPU (${(r.cpu / scan.cpu).toFixed(2)}x scan)`);
console.log(`peak RSS after (b)+(c): ${engineRss.toFixed(0)} MB; after (a) too: ${rss.toFixed(0)} MB`);
console.log(`(b) level counts: ${one.out.results.map((s) => s.count).join(', ')}`);
console.log(`(c) step-1 counts per resource: ${four.out.map((r, i) => `${RESOURCES[i]}=${r.results[0]?.count ?? 0}`).join(', ')}`);
