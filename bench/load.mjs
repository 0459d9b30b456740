#!/usr/bin/env node
// Benchmark: `discover-metrics load` end to end on ~2M PostHog-shaped Discover events (JSONL),
// plain and gzipped, into a fresh store each time, side by side with a raw DuckDB read_json of
// the same file into a table. Prints events/s, the ratio to the raw read, CPU and peak RSS.
//
//   node bench/load.mjs [--events N] [--no-gzip] [--keep DIR] [--input FILE] [--fixtures ACCOUNTS] [--rounds N] [--quiet]
//   (or: npm run bench:load -- ...)
//
// --input FILE times the load of an existing file instead; nothing is generated and the file is kept.
// --fixtures ACCOUNTS times realistic fixtures instead: `discover-metrics fixtures generate --seed 7
// --accounts ACCOUNTS --installations ACCOUNTS*6 --days 60` (the generator's full envelope, every
// Discover and Connect key), written once into --keep DIR (reused) or a temp folder.
// --rounds N loads each file N times, alternating with the raw read (default 1).
// The raw read: `CREATE TABLE raw AS SELECT * FROM read_json(FILE, columns = {...})` into a fresh
// DuckDB file, in its own process, all threads: the envelope typed (uuid UUID, event and distinct_id
// VARCHAR, timestamp TIMESTAMPTZ), properties and person_properties kept as JSON (DuckDB's schema
// detection cannot read realistic fixtures: keys first seen past its sample fail the read).
// --quiet loads with --quiet: no progress line (and no progress polling), to compare with the default.
//
// The generator is deterministic (same N -> same file): wizard sessions of Teleport Discover
// (started -> resourceSelection -> ... -> completed/aborted) with prehog's envelope properties and
// an occasional $set, ~330 bytes per event, 50k users. Needs a build (npm run build).
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, createReadStream } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, constants } from 'node:zlib';
import { pipeline } from 'node:stream/promises';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const N = Number(opt('--events', 2_000_000));
const gzipToo = !args.includes('--no-gzip');
const keep = opt('--keep', undefined);
const input = opt('--input', undefined);
const quiet = args.includes('--quiet');
const fixtures = opt('--fixtures', undefined);
const rounds = Number(opt('--rounds', '1'));

// --- deterministic generator ----------------------------------------------------------------
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const hex = (n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rand() * 16)];
  return s;
};
const uuid4 = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(rand() * 4)]}${hex(3)}-${hex(12)}`;
const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const anon = () => {
  let s = '';
  for (let i = 0; i < 43; i++) s += b64[Math.floor(rand() * 64)];
  return s + '=';
};
const flow = [
  'tp.ui.discover.started',
  'tp.ui.discover.resourceSelection',
  'tp.ui.discover.deployService',
  'tp.ui.discover.database.register',
  'tp.ui.discover.testConnection',
  'tp.ui.discover.completed',
];
const resources = ['DISCOVER_RESOURCE_SERVER', 'DISCOVER_RESOURCE_KUBERNETES', 'DISCOVER_RESOURCE_DATABASE_POSTGRES_RDS', 'DISCOVER_RESOURCE_APPLICATION_HTTP'];
const users = Array.from({ length: 50_000 }, () => anon());
const clusters = Array.from({ length: 500 }, () => anon());

async function generate(file, n) {
  const out = createWriteStream(file);
  let buf = '';
  let t = Date.UTC(2026, 0, 1);
  let written = 0;
  while (written < n) {
    const user = Math.floor(rand() * users.length);
    const cluster = clusters[user % clusters.length];
    const session = uuid4();
    const resource = resources[Math.floor(rand() * resources.length)];
    const steps = 1 + Math.floor(rand() * flow.length);
    for (let s = 0; s < steps && written < n; s++) {
      t += 1 + Math.floor(rand() * 5000);
      const last = s === steps - 1 && steps < flow.length;
      const status = last && rand() < 0.5 ? 'DISCOVER_STATUS_ERROR' : 'DISCOVER_STATUS_SUCCESS';
      const properties = {
        'tp.discover.metadata.id': session,
        'tp.discover.step.status': status,
        'tp.user_name': users[user],
        'tp.cluster_name': cluster,
        'tp.account_id': `acct-${user % 997}`,
        'tp.is_cloud': user % 3 === 0,
        $lib: 'prehog',
      };
      if (s > 0) properties['tp.discover.resource.name'] = resource;
      if (status === 'DISCOVER_STATUS_ERROR') properties['tp.discover.step.error'] = 'connection refused';
      if (rand() < 0.001) properties.$set = { 'tp.user_name': users[user] };
      buf +=
        JSON.stringify({
          uuid: uuid4(),
          event: flow[s],
          distinct_id: users[user],
          timestamp: new Date(t).toISOString(),
          properties,
        }) + '\n';
      written++;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

function timeLoad(file, label) {
  const db = join(dir, `${label}.duckdb`);
  rmSync(db, { force: true });
  rmSync(db + '.wal', { force: true });
  const t0 = process.hrtime.bigint();
  const cmd = [process.execPath, join(root, 'bin', 'discover-metrics'), '--store', db, '--format', 'json', ...(quiet ? ['--quiet'] : []), 'load', file];
  // /usr/bin/time (when present) adds the load's CPU seconds: on a shared machine wall time
  // mostly measures the neighbours, CPU time measures the work.
  const timed = existsSync('/usr/bin/time');
  const r = spawnSync(timed ? '/usr/bin/time' : cmd[0], timed ? ['-f', 'dm-cpu %U %S %M', ...cmd] : cmd.slice(1), {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = /dm-cpu ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  const cpuSecs = cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined;
  const rssMB = cpu ? Number(cpu[3]) / 1024 : undefined;
  if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
    throw new Error(`load failed (exit ${r.status})`);
  }
  // DISCOVER_METRICS_DEBUG=load: the load's phase times
  for (const line of (r.stderr ?? '').split('\n')) if (line.startsWith('[load]')) console.log(`       ${line}`);
  const summary = JSON.parse(r.stdout);
  const mb = statSync(file).size / 1e6;
  console.log(
    `${label.padEnd(6)} ${summary.inserted.toLocaleString('en-US')} events  ${mb.toFixed(0)} MB  ${secs.toFixed(2)} s  ` +
      `${Math.round(summary.inserted / secs).toLocaleString('en-US')} events/s  (store ${(statSync(db).size / 1e6).toFixed(0)} MB)`,
  );
  if (cpuSecs !== undefined) {
    console.log(
      `       cpu ${cpuSecs.toFixed(2)} s (user+sys)  ${Math.round(summary.inserted / cpuSecs).toLocaleString('en-US')} events per CPU-second` +
        `  => ${Math.round((summary.inserted / cpuSecs) * cpus().length).toLocaleString('en-US')} events/s if all ${cpus().length} cores were ours` +
        `, peak RSS ${rssMB.toFixed(0)} MB`,
    );
  }
  rmSync(db, { force: true });
  rmSync(db + '.wal', { force: true });
  return { secs, cpuSecs, rssMB, events: summary.inserted };
}

/** Raw DuckDB: read_json of the same file into a table of a fresh database file, in its own process. */
function timeRaw(file) {
  const db = join(dir, 'raw.duckdb');
  rmSync(db, { force: true });
  rmSync(db + '.wal', { force: true });
  const script = `
    const { DuckDBInstance } = require('@duckdb/node-api');
    (async () => {
      const db = await DuckDBInstance.create(process.argv[1]);
      const c = await db.connect();
      await c.run("CREATE TABLE raw AS SELECT * FROM read_json('" + process.argv[2].replace(/'/g, "''") + "', format = 'newline_delimited', " +
        "columns = {uuid: 'UUID', event: 'VARCHAR', distinct_id: 'VARCHAR', timestamp: 'TIMESTAMPTZ', properties: 'JSON', person_properties: 'JSON'})");
      const n = (await c.runAndReadAll('SELECT count(*) FROM raw')).getRows()[0][0];
      c.closeSync();
      db.closeSync();
      console.log(String(n));
    })();`;
  const cmd = [process.execPath, '-e', script, db, file];
  const timed = existsSync('/usr/bin/time');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(timed ? '/usr/bin/time' : cmd[0], timed ? ['-f', 'dm-cpu %U %S %M', ...cmd] : cmd.slice(1), { encoding: 'utf8', cwd: root });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
    throw new Error(`raw read_json failed (exit ${r.status})`);
  }
  const cpu = /dm-cpu ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr ?? '');
  const out = { secs, cpuSecs: cpu ? Number(cpu[1]) + Number(cpu[2]) : undefined, rssMB: cpu ? Number(cpu[3]) / 1024 : undefined, events: Number(r.stdout.trim()) };
  console.log(
    `raw    ${out.events.toLocaleString('en-US')} rows  read_json into a table  ${secs.toFixed(2)} s  (store ${(statSync(db).size / 1e6).toFixed(0)} MB)` +
      (out.cpuSecs !== undefined ? `  cpu ${out.cpuSecs.toFixed(2)} s, peak RSS ${out.rssMB.toFixed(0)} MB` : ''),
  );
  rmSync(db, { force: true });
  rmSync(db + '.wal', { force: true });
  return out;
}

/** Loads `file` and reads it raw, alternating, `rounds` times; prints the ratios (wall, CPU) per round and their median. */
function sideBySide(file, label) {
  const rows = [];
  for (let k = 0; k < rounds; k++) {
    const ours = timeLoad(file, label);
    const raw = timeRaw(file);
    rows.push({ ours, raw, load: loadavg()[0] });
    console.log(
      `       load / raw read_json: ${(ours.secs / raw.secs).toFixed(2)}x wall` +
        (ours.cpuSecs !== undefined && raw.cpuSecs !== undefined ? `, ${(ours.cpuSecs / raw.cpuSecs).toFixed(2)}x CPU` : '') +
        `  (1-min load average ${rows[k].load.toFixed(1)})`,
    );
  }
  if (rounds > 1) {
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`       median of ${rounds}: load / raw read_json ${med(rows.map((r) => r.ours.secs / r.raw.secs)).toFixed(2)}x wall (target <= 1.3x)`);
  }
}

const dir = keep ?? mkdtempSync(join(tmpdir(), 'dm-bench-load-'));
mkdirSync(dir, { recursive: true });
try {
  const machine = () => console.log(`cpus: ${cpus().length}, load average: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (input) {
    machine();
    sideBySide(input, 'input');
  } else if (fixtures) {
    const file = join(dir, `fixtures-${fixtures}.jsonl`);
    if (!existsSync(file)) {
      const g0 = Date.now();
      const accounts = Number(fixtures);
      const g = spawnSync(
        process.execPath,
        [join(root, 'bin', 'discover-metrics'), 'fixtures', 'generate', '--seed', '7', '--accounts', String(accounts), '--installations', String(accounts * 6), '--days', '60', '--out', file],
        { stdio: 'inherit' },
      );
      if (g.status !== 0) throw new Error(`fixtures generate failed (exit ${g.status})`);
      console.log(`generated realistic fixtures (${fixtures} accounts) in ${((Date.now() - g0) / 1000).toFixed(1)} s: ${(statSync(file).size / 1e6).toFixed(0)} MB (${dir})`);
    }
    machine();
    sideBySide(file, 'fixtures');
  } else {
    const jsonl = join(dir, 'events.jsonl');
    const g0 = Date.now();
    await generate(jsonl, N);
    console.log(`generated ${N.toLocaleString('en-US')} events in ${((Date.now() - g0) / 1000).toFixed(1)} s (${dir})`);
    machine();
    sideBySide(jsonl, 'jsonl');
    if (gzipToo) {
      const gz = join(dir, 'events.jsonl.gz');
      await pipeline(createReadStream(jsonl), createGzip({ level: constants.Z_BEST_SPEED }), createWriteStream(gz));
      timeLoad(gz, 'gzip');
    }
  }
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
