#!/usr/bin/env node
// Local trends engine speed: DAU by day for 90 days, broken down by a person property
// (connect.os), over ~10M Connect events.
//
//   npm run build && node bench/trends-engine.mjs [--events 10000000] [--installations 50000] [--store PATH] [--rebuild]
//
// Builds (once, then reuses) a store through our store schema: Connect installations
// (connect.<n> distinct ids, one person each with OS/arch/version person properties) sending
// Connect events spread over 90 days. Then measures
//   (a) one plain DuckDB scan: count and count(DISTINCT person_id) over the events,
//   (b) the engine on a TrendsQuery: all events, math dau, interval day, 90 days, breakdown on
//       the person property connect.os,
//   (c) the `discover-metrics dau --breakdown os` query (the same plus the Connect activity
//       filters on distinct id and event name),
// and prints the best of 3 runs in ms, the ratio to the scan, and peak RSS.
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { Store } = await import(join(root, 'dist/store/store.js'));
const { sqlString: q } = await import(join(root, 'dist/store/sql.js'));
const { openBenchStore } = await import('./lib/store.mjs');
const { localEngineForStore } = await import(join(root, 'dist/engines/local/index.js'));
const { taxonomy } = await import(join(root, 'dist/events/taxonomy.js'));
const { loadConnectDefinitions, buildDauQuery, findDimension } = await import(join(root, 'dist/definitions/connect.js'));

const { args, arg } = await import('./lib/args.mjs');
const target = Number(arg('--events', '10000000'));
const installations = Number(arg('--installations', '50000'));
const storePath = arg('--store', join(tmpdir(), 'discover-metrics-bench', `trends-${target}-${installations}.duckdb`));
const rebuild = args.includes('--rebuild');

const t = taxonomy();
const EVENTS = Object.values(t.connect.events);
const pp = t.connect.personProperties;
const DAYS = 90;
const START = '2026-08-01';

async function build() {
  const { store, events: have } = await openBenchStore(storePath, rebuild);
  if (have > 0) {
    await store.close();
    return have;
  }
  const t0 = Date.now();
  const prefix = t.connect.distinctIdPrefix;
  await store.conn.run(`
    INSERT INTO persons (id, properties, created_at)
    SELECT 'person-' || i::VARCHAR,
      json_object(
        ${q(pp.os)}, ['darwin', 'darwin', 'win32', 'linux'][(hash(i) % 4 + 1)::BIGINT],
        ${q(pp.arch)}, ['arm64', 'x64'][(hash(i * 3) % 2 + 1)::BIGINT],
        ${q(pp.osVersion)}, ['14.1', '13.6', '6.5.0', '10.0.22631'][(hash(i * 5) % 4 + 1)::BIGINT],
        ${q(pp.appVersion)}, ['15.0.0', '15.1.2', '16.0.0', '16.1.0'][(hash(i * 7) % 4 + 1)::BIGINT]),
      TIMESTAMPTZ '${START} 00:00:00+00'
    FROM range(${installations}) t(i)`);
  await store.conn.run(`
    INSERT INTO person_distinct_ids SELECT ${q(prefix)} || i::VARCHAR, 'person-' || i::VARCHAR FROM range(${installations}) t(i)`);
  // each event: an installation (skewed: some are much busier), a day, a time of day
  await store.conn.run(`
    INSERT INTO events (uuid, event, distinct_id, person_id, timestamp, properties)
    WITH s AS (SELECT i, (hash(i) % ${installations}) * (hash(i * 13) % 3 + 1) % ${installations} AS inst FROM range(${target}) t(i))
    SELECT uuid(),
      [${EVENTS.map(q).join(', ')}][(hash(i * 17) % ${EVENTS.length} + 1)::BIGINT],
      ${q(prefix)} || inst::VARCHAR,
      'person-' || inst::VARCHAR,
      TIMESTAMPTZ '${START} 00:00:00+00' + to_seconds((hash(i * 31) % ${DAYS * 86400})::BIGINT),
      NULL::JSON
    FROM s`);
  await store.conn.run('CHECKPOINT');
  const rows = Number((await store.conn.runAndReadAll('SELECT count(*) FROM events')).getRows()[0][0]);
  console.log(`built ${rows.toLocaleString()} events, ${installations.toLocaleString()} installations in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${storePath}`);
  await store.close();
  return rows;
}

async function timed(label, fn, reps = 3) {
  let best = Infinity;
  let out;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    out = await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { label, ms: best, out };
}

const rows = await build();
const store = await Store.open(storePath, { readOnly: true });
const engine = localEngineForStore(store);
const ctx = { timezone: 'UTC', weekStart: 0, now: new Date('2026-10-29T12:00:00Z') };
const dateRange = { date_from: START, date_to: '2026-10-29' };

const trends = {
  kind: 'TrendsQuery',
  series: [{ kind: 'EventsNode', event: null, name: 'All events', math: 'dau' }],
  interval: 'day',
  dateRange,
  breakdownFilter: { breakdown: pp.os, breakdown_type: 'person' },
};
const defs = loadConnectDefinitions();
const dauQuery = buildDauQuery(defs, { dateRange, interval: 'day', math: 'dau', breakdown: findDimension(defs, 'os') });

const scan = await timed('(a) DuckDB scan: count, count(DISTINCT person_id)', async () =>
  (await store.conn.runAndReadAll('SELECT count(*), count(DISTINCT person_id) FROM events')).getRows(),
);
const b = await timed('(b) engine: DAU by day, 90 days, breakdown person connect.os', async () => engine.run(trends, ctx));
const c = await timed('(c) engine: `dau --breakdown os` query (with Connect activity filters)', async () => engine.run(dauQuery, ctx));
await engine.close();
await store.close();

const rss = process.resourceUsage().maxRSS / 1024;
console.log(`events: ${rows.toLocaleString()}, installations: ${installations.toLocaleString()}`);
for (const r of [scan, b, c]) console.log(`${r.label}: ${r.ms.toFixed(0)} ms (${(r.ms / scan.ms).toFixed(2)}x scan)`);
const res = b.out.results;
console.log(`(b) ${res.length} series x ${res[0].days.length} days; first day ${res[0].days[0]}: ${res.map((s) => `${s.breakdown_value}=${s.data[0]}`).join(', ')}`);
console.log(`(b) equals (c): ${JSON.stringify(res.map((s) => s.data)) === JSON.stringify(c.out.results.map((s) => s.data))}`);
console.log(`peak RSS: ${rss.toFixed(0)} MB`);
