#!/usr/bin/env node
// Our funnel engine against ClickHouse's windowFunnel, side by side in one run.
//
//   npm run build && node bench/funnel-vs-clickhouse.mjs [--rounds 5] [--events 10000000] [--store PATH] [--chdb-dir DIR]
//   (or: npm run bench:funnel-ch)
//
// On the funnel bench store (bench/lib/funnel-store.mjs, the one bench/funnel-engine.mjs uses;
// built once, ~1 min, then reused) it times, round after round so that both engines see the same
// machine load:
//   ours  the local engine's 7-step funnel per wizard session (1-day window), in this process,
//         reading the session index a load keeps (src/store/session-index.ts);
//   ours, scan  the same without the index (DISCOVER_METRICS_SESSION_INDEX=0): the events scanned
//         and grouped by session in every query, as before the index;
//   CH    ClickHouse's windowFunnel over the same events (session, event, time) from a MergeTree
//         ordered like PostHog's events table, through chDB in a child process;
//   scan  one plain DuckDB scan of the same columns (count, distinct sessions, max time): the floor.
// Each is timed inside its process (start-up, table loads and the first, warm-up run excluded),
// wall and CPU time (all threads). The level counts of both engines must be identical (else exit 1).
//
// chDB (ClickHouse in-process, ~550 MB) is never a project dependency: the script installs it once
// into a scratch folder outside the repo (default ~/.cache/discover-metrics-bench/chdb, or
// --chdb-dir / DISCOVER_METRICS_CHDB_DIR) with `npm install chdb@3.4.0`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { Store } = await import(join(root, 'dist/store/store.js'));
const { localEngineForStore } = await import(join(root, 'dist/engines/local/index.js'));
const { buildFunnelStore, defaultStorePath, funnelQuery, RESOURCE, SESSION, STEPS } = await import('./lib/funnel-store.mjs');

const { arg } = await import('./lib/args.mjs');
const target = Number(arg('--events', '10000000'));
const storePath = arg('--store', defaultStorePath(target));
const rounds = Number(arg('--rounds', '5'));
const chdbDir = arg('--chdb-dir', process.env.DISCOVER_METRICS_CHDB_DIR ?? join(homedir(), '.cache', 'discover-metrics-bench', 'chdb'));
const CHDB = 'chdb@3.4.0';

function ensureChdb() {
  try {
    createRequire(`${chdbDir}/`).resolve('chdb');
    return;
  } catch {
    // not installed yet
  }
  console.log(`installing ${CHDB} into ${chdbDir} (once, ~550 MB; outside the project)`);
  mkdirSync(chdbDir, { recursive: true });
  const r = spawnSync('npm', ['install', '--prefix', chdbDir, '--no-audit', '--no-fund', '--no-save', CHDB], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm install ${CHDB} failed (exit ${r.status})`);
}

/** The ClickHouse child: started once, then one `run` per round. */
async function startClickHouse(parquet) {
  const data = mkdtempSync(join(tmpdir(), 'dm-bench-chdb-'));
  const child = spawn(process.execPath, [join(root, 'bench', 'lib', 'chdb-funnel.cjs'), parquet, data, JSON.stringify(STEPS)], {
    env: { ...process.env, CHDB_DIR: chdbDir },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the chDB child exited');
    return JSON.parse(value);
  };
  const ready = await next();
  return {
    ready,
    async run() {
      child.stdin.write('run\n');
      return next();
    },
    stop() {
      child.stdin.end('quit\n');
      rmSync(data, { recursive: true, force: true });
    },
  };
}

const rows = await buildFunnelStore(storePath, target, false);
ensureChdb();
const store = await Store.open(storePath, { readOnly: true });
const sess = store.materializedColumn(SESSION);
const res = store.materializedColumn(RESOURCE);
// the same events for ClickHouse, as Parquet next to the store (rewritten when the store is newer)
const parquet = storePath.replace(/\.duckdb$/, '') + '.parquet';
if (!existsSync(parquet) || statSync(parquet).mtimeMs < statSync(storePath).mtimeMs) {
  await store.conn.run(
    `COPY (SELECT "${sess}" AS session_id, "${res}" AS resource, event, epoch_ms(timestamp) AS ts_ms FROM events) TO '${parquet.replace(/'/g, "''")}' (FORMAT parquet)`,
  );
}
const ch = await startClickHouse(parquet);
const { openSessionIndex } = await import(join(root, 'dist/store/session-index.js'));
const indexed = (await openSessionIndex(store)) !== null;
const engine = localEngineForStore(store);
const ctx = { timezone: 'UTC', weekStart: 0, now: new Date('2026-12-01T00:00:00Z') };
const query = funnelQuery(null);
const scanSql = `SELECT count(*), count(DISTINCT "${sess}"), max(timestamp) FROM events`;

async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpu: (c.user + c.system) / 1000, out };
}
const ours = () => timed(() => engine.run(query, ctx));
const oursScan = async () => {
  process.env.DISCOVER_METRICS_SESSION_INDEX = '0';
  try {
    return await timed(() => engine.run(query, ctx));
  } finally {
    delete process.env.DISCOVER_METRICS_SESSION_INDEX;
  }
};
const scan = () => timed(() => store.conn.runAndReadAll(scanSql));

// warm-up (JIT, page cache, ClickHouse's marks): not counted
const first = await ours();
const firstScan = await oursScan();
const firstCh = await ch.run();
await scan();

// identical level counts: windowFunnel gives each session's level, we give sessions per step
const ourCounts = first.out.results.map((s) => s.count);
const chCounts = STEPS.map((_, k) => firstCh.levels.filter(([level]) => level >= k + 1).reduce((a, [, n]) => a + n, 0));
const scanCounts = firstScan.out.results.map((s) => s.count);
const same = ourCounts.length === chCounts.length && ourCounts.every((n, k) => n === chCounts[k] && n === scanCounts[k]);

const table = [];
for (let r = 0; r < rounds; r++) {
  const o = await ours();
  const c = await ch.run();
  const s = await scan();
  const os = await oursScan();
  table.push({ load: loadavg()[0], ours: o, ch: c, scan: s, oursScan: os });
}
ch.stop();
await engine.close();
await store.close();

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cell = (x) => `${x.ms.toFixed(0)} (${x.cpu.toFixed(0)})`.padStart(13);
const ratio = (x) => x.toFixed(2).padStart(9);
console.log(`events: ${rows.toLocaleString('en-US')} in ${storePath}; ClickHouse ${ch.ready.version} (chDB), ${ch.ready.rows.toLocaleString('en-US')} rows`);
console.log(`session index: ${indexed ? 'current, used by "ours"' : 'MISSING OR STALE: "ours" scans too'}`);
console.log(`cpus: ${cpus().length}; 1-min load average during the rounds: ${table.map((t) => t.load.toFixed(1)).join(', ')}`);
console.log('');
console.log('round  | ours ms (cpu) |   CH ms (cpu) | scan ms (cpu) |  ours/CH | ours/scan | cpu ours/CH | no index ms (cpu) | no index/CH');
const ratios = (o, c, s, x) => [o.ms / c.ms, o.ms / s.ms, o.cpu / c.cpu, x.ms / c.ms];
const line = (label, o, c, s, x, r = ratios(o, c, s, x)) =>
  console.log(`${label.padEnd(6)} | ${cell(o)} | ${cell(c)} | ${cell(s)} | ${ratio(r[0])} | ${ratio(r[1])} | ${ratio(r[2]).padStart(11)} | ${cell(x).padStart(17)} | ${ratio(r[3]).padStart(11)}`);
table.forEach((t, r) => line(String(r + 1), t.ours, t.ch, t.scan, t.oursScan));
// the median row: each column's median, the ratios' medians over the rounds (not ratios of medians)
const m = (k) => ({ ms: med(table.map((t) => t[k].ms)), cpu: med(table.map((t) => t[k].cpu)) });
const per = table.map((t) => ratios(t.ours, t.ch, t.scan, t.oursScan));
line('median', m('ours'), m('ch'), m('scan'), m('oursScan'), [0, 1, 2, 3].map((i) => med(per.map((r) => r[i]))));
console.log('');
console.log('targets: ours/CH <= 0.50 and ours/scan <= 3.0 (wall time, same round); a busy machine inflates wall times, CPU ratios less so');
console.log(`level counts, ours: ${ourCounts.join(', ')} (without the index: ${scanCounts.join(', ')})`);
console.log(`level counts, CH:   ${chCounts.join(', ')}  -> ${same ? 'identical' : 'DIFFERENT'}`);
if (!same) process.exitCode = 1;
