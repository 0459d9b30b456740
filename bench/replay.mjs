#!/usr/bin/env node
// Replay throughput end to end, as CI runs it: `discover-metrics sandbox serve` in one process,
// `discover-metrics replay` in another (fixture file -> posthog-node -> HTTP -> sandbox -> DuckDB).
// Usage: node bench/replay.mjs [events=100000] [batchSize=1000]   (needs `npm run build`)
// Prints the replay's events/s (its own clock, includes the validation pass) and the wall time
// until the sandbox has stored every event.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

/** CPU seconds (user+sys) a live process has used, from /proc (Linux); undefined elsewhere. */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'discover-metrics');
const n = Number(process.argv[2] ?? 100_000);
const batchSize = Number(process.argv[3] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'dm-bench-replay-'));
const file = join(dir, 'events.jsonl');
const base = Date.parse('2026-01-01T00:00:00Z');
const lines = [];
for (let i = 0; i < n; i++) {
  const h = createHash('sha1').update(`bench:${i}`).digest('hex');
  lines.push(
    JSON.stringify({
      uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`,
      event: i % 4 === 0 ? '$pageview' : 'tp.ui.discover.deployService',
      distinct_id: `user-${i % 5000}`,
      timestamp: new Date(base + i * 1000).toISOString(),
      properties: {
        'tp.discover.metadata.id': `session-${i % 20000}`,
        'tp.discover.resource.name': 'DISCOVER_RESOURCE_SERVER',
        'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS',
      },
    }),
  );
}
writeFileSync(file, lines.join('\n') + '\n');

// extra node flags for both processes, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const token = 'phc_benchToken000000';
const env = { ...process.env, NO_COLOR: '1', POSTHOG_PROJECT_API_KEY: token, POSTHOG_PERSONAL_API_KEY: 'phx_bench000000000' };
const server = spawn(process.execPath, [...nodeArgs, bin, '--store', join(dir, 'sandbox.duckdb'), 'sandbox', 'serve', '--port', '0', '--quiet'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const [chunk] = await once(server.stdout, 'data');
const url = String(chunk).trim().split('\n')[0];
try {
  const t0 = performance.now();
  const rep = spawn(process.execPath, [...nodeArgs, bin, 'replay', file, '--host', url, '--batch-size', String(batchSize), '--format', 'json', '--quiet'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  rep.stdout.on('data', (d) => (out += d));
  let replayCpu;
  const sampler = setInterval(() => (replayCpu = cpuSeconds(rep.pid) ?? replayCpu), 50);
  const [code] = await once(rep, 'close');
  clearInterval(sampler);
  const r = JSON.parse(out);
  const wallReplay = (performance.now() - t0) / 1000;
  const st = await (await fetch(`${url}/_sandbox/stats`)).json();
  const wallStored = (performance.now() - t0) / 1000;
  const serverCpu = cpuSeconds(server.pid);
  console.log(`replay: ${r.sent} sent, ${r.failed} failed, exit ${code}: ${Math.round(r.eventsPerSecond)} events/s (replay clock ${r.seconds.toFixed(2)} s)`);
  console.log(`end to end: ${Math.round(n / wallReplay)} events/s acknowledged (wall ${wallReplay.toFixed(2)} s incl. process start), ${Math.round(st.events / wallStored)} events/s stored (wall ${wallStored.toFixed(2)} s, ${st.events} events from ${st.captureRequests} requests)`);
  if (replayCpu !== undefined && serverCpu !== undefined) {
    // on a shared machine wall time depends on the load; CPU time per event does not
    console.log(`cpu: replay ${replayCpu.toFixed(2)} s (${Math.round(n / replayCpu)} events per CPU-second), sandbox ${serverCpu.toFixed(2)} s incl. startup (${Math.round(n / serverCpu)} events per CPU-second); load average ${(await import('node:os')).loadavg()[0].toFixed(1)}`);
  }
  if (st.events !== n || r.sent !== n) process.exitCode = 1;
} finally {
  server.kill('SIGTERM');
  await once(server, 'close');
  rmSync(dir, { recursive: true, force: true });
}
