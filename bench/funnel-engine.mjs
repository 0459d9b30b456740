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
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { Store } = await import(join(root, 'dist/store/store.js'));
const { localEngineForStore } = await import(join(root, 'dist/engines/local/index.js'));
const { buildFunnelStore, defaultStorePath, funnelQuery: funnel, RESOURCES, SESSION } = await import('./lib/funnel-store.mjs');

const { args, arg } = await import('./lib/args.mjs');
const target = Number(arg('--events', '10000000'));
const storePath = arg('--store', defaultStorePath(target));
const rebuild = args.includes('--rebuild');
const build = () => buildFunnelStore(storePath, target, rebuild);

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
