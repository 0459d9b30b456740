#!/usr/bin/env node
// `funnel --resource all` at scale: generate ~10M Discover-heavy events, load them, then time
// the report end to end (CLI process: start-up, DuckDB scan, every track's funnel) and compare
// with one plain DuckDB scan of the same columns. Runs alternate between the session index the
// load keeps (src/store/session-index.ts; a kept store from before it gets one with `store
// index`) and the events scan (DISCOVER_METRICS_SESSION_INDEX=0); both answers must be identical.
//
//   node bench/discover-funnel.mjs [--accounts 340000] [--installations 2000] [--days 90] [--runs 3] [--keep DIR]
//
// Needs `npm install` (dist/ built). Writes to a temp dir unless --keep DIR is given (then an
// existing store there is reused).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const accounts = opt('accounts', '340000');
const installations = opt('installations', '2000');
const days = opt('days', '90');
const runs = Number(opt('runs', '3'));
const keep = opt('keep', undefined);
const dir = keep ?? mkdtempSync(join(tmpdir(), 'dm-bench-funnel-'));
mkdirSync(dir, { recursive: true });
const file = join(dir, 'events.jsonl');
const store = join(dir, 'events.duckdb');
const cli = join(root, 'bin', 'discover-metrics');

function timed(label, argv, env = {}) {
  const t = Date.now();
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', ...env } });
  const ms = Date.now() - t;
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`${label} failed (${r.status})`);
  }
  return { ms, r };
}

if (!existsSync(store)) {
  const g = timed('generate', [cli, 'fixtures', 'generate', '--seed', '7', '--accounts', accounts, '--installations', installations, '--days', days, '--out', file]);
  console.log(`generate: ${(g.ms / 1000).toFixed(1)} s`);
  const l = timed('load', [cli, '--store', store, '--quiet', 'load', file]);
  console.log(`load:     ${(l.ms / 1000).toFixed(1)} s`);
  rmSync(file, { force: true });
}

if (!existsSync(`${store}.sessions`)) {
  const x = timed('store index', [cli, '--store', store, '--quiet', 'store', 'index']);
  console.log(`store index: ${(x.ms / 1000).toFixed(1)} s`);
}

const inst = await DuckDBInstance.create(store, { access_mode: 'READ_ONLY' });
const c = await inst.connect();
const mat = Object.fromEntries((await c.runAndReadAll('select key, col from materialized')).getRows());
const sid = mat['tp.discover.metadata.id'];
const res = mat['tp.discover.resource.name'];
const st = mat['tp.discover.step.status'];
const total = Number((await c.runAndReadAll('select count(*) from events')).getRows()[0][0]);
const discover = Number((await c.runAndReadAll(`select count(*) from events where event like 'tp.ui.discover.%'`)).getRows()[0][0]);
const scanSql = `select count(*), count(distinct "${sid}"), max(timestamp), count("${res}"), count("${st}") from events where event like 'tp.ui.discover.%'`;
await c.runAndReadAll(scanSql);
let scanMs = Infinity;
for (let i = 0; i < 3; i++) {
  const t = Date.now();
  await c.runAndReadAll(scanSql);
  scanMs = Math.min(scanMs, Date.now() - t);
}
const sessions = Number((await c.runAndReadAll(`select count(distinct "${sid}") from events`)).getRows()[0][0]);
c.closeSync();
inst.closeSync();

const funnelArgs = [join(root, 'bench', 'lib', 'measure.mjs'), '--store', store, 'funnel', '--resource', 'all', '--from', 'all', '--format', 'json'];
const modes = { index: { times: [], rss: 0, out: null }, scan: { times: [], rss: 0, out: null } };
for (let i = 0; i < runs; i++) {
  for (const [mode, env] of [['index', {}], ['scan', { DISCOVER_METRICS_SESSION_INDEX: '0' }]]) {
    const { r } = timed('funnel', funnelArgs, env);
    const m = JSON.parse(/@@measure (.*)/.exec(r.stderr)[1]);
    modes[mode].times.push(m.ms);
    modes[mode].rss = Math.max(modes[mode].rss, m.maxRssMB);
    modes[mode].out ??= r.stdout;
  }
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = [...modes.index.times].sort((a, b) => a - b);
const median = med(times);
const rss = modes.index.rss;
console.log(`events: ${total.toLocaleString('en-US')} (Discover ${discover.toLocaleString('en-US')}, ${sessions.toLocaleString('en-US')} wizard sessions)`);
console.log(`plain DuckDB scan of the same columns: ${scanMs} ms`);
console.log(`funnel --resource all (CLI, ${runs} runs): median ${median.toFixed(0)} ms, best ${times[0].toFixed(0)} ms, peak RSS ${rss.toFixed(0)} MB`);
console.log(`ratio to one plain scan: ${(median / scanMs).toFixed(1)}x`);
console.log(`without the session index (same runs, alternating): median ${med(modes.scan.times).toFixed(0)} ms, best ${Math.min(...modes.scan.times).toFixed(0)} ms, peak RSS ${modes.scan.rss.toFixed(0)} MB`);
const same = modes.index.out === modes.scan.out;
console.log(`answers with and without the index: ${same ? 'identical' : 'DIFFERENT'}`);
if (!same) process.exitCode = 1;
if (!keep) rmSync(dir, { recursive: true, force: true });
