#!/usr/bin/env node
// Replay throughput end to end: fixture file -> posthog-node -> local sandbox -> DuckDB store.
// Usage: node bench/replay.mjs [events=100000] [batchSize=1000]
// Needs a build (npm run build). Prints events/s for the replay and the sandbox's stored count.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href;
const { startSandbox } = await import(dist('sandbox/server.js'));
const { replay } = await import(dist('replay/replay.js'));

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
      event: i % 4 === 0 ? 'connect.cluster.login' : 'tp.ui.discover.deployService',
      distinct_id: `user-${i % 5000}`,
      timestamp: new Date(base + i * 1000).toISOString(),
      properties: {
        'tp.discover.metadata.id': `session-${i % 20000}`,
        'tp.discover.resource.name': 'DISCOVER_RESOURCE_SERVER',
        'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS',
        'tp.cluster_name': `cluster-${i % 300}`,
      },
    }),
  );
}
writeFileSync(file, lines.join('\n') + '\n');

const token = 'phc_benchToken000000';
const sb = await startSandbox({ storePath: join(dir, 'sandbox.duckdb'), projectToken: token, personalApiKey: 'phx_bench000000000' });
try {
  const t0 = performance.now();
  const r = await replay({ files: [file], host: sb.url, projectApiKey: token, batchSize, chunkSize: 10_000, quiet: true, log: () => {} });
  const s = (performance.now() - t0) / 1000;
  const st = await sb.stats();
  console.log(`replay: ${r.sent} events sent, ${r.failed} failed in ${s.toFixed(2)} s (incl. validation pass) = ${Math.round(r.sent / s)} events/s end to end`);
  console.log(`sandbox: ${st.events} events stored from ${st.captureRequests} requests`);
  if (st.events !== n || r.sent !== n) process.exitCode = 1;
} finally {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
}
