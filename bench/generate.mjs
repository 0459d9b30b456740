#!/usr/bin/env node
// Speed and memory of the fixtures generator (discover-metrics fixtures generate).
//
//   node bench/generate.mjs [--events 10000000] [--days 60] [--out /dev/null|FILE]
//
// Scales the simulated world so it yields about --events events over --days days (Connect
// installations make most of the volume; accounts are 1/12 of them), streams the JSONL to
// --out (default /dev/null; a .gz name gzips), and prints wall time, CPU time, events/s and
// peak RSS. Needs the compiled dist/ (npm run build).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const target = Number(arg('--events', '10000000'));
const days = Number(arg('--days', '60'));
const out = arg('--out', '/dev/null');
// Calibrated on the demo set: ~80 Connect events per installation over 60 days, ~1/12 of
// them again from accounts' Discover sessions.
const installations = Math.max(1, Math.round((target / 80) * (60 / days)));
const accounts = Math.max(1, Math.round(installations / 12));

const { writeFixtures } = await import(join(root, 'dist/synthetic/write.js'));
const { DEMO_END } = await import(join(root, 'dist/synthetic/generate.js'));

const t0 = performance.now();
const c0 = process.cpuUsage();
const summary = await writeFixtures({ seed: 1, start: DEMO_END - days * 86_400_000, days, accounts, installations }, out);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const peakRssMb = process.resourceUsage().maxRSS / 1024;
const result = {
  events: summary.events,
  accounts,
  installations,
  days,
  out,
  wallSeconds: +(ms / 1000).toFixed(2),
  cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  eventsPerSecond: Math.round(summary.events / (ms / 1000)),
  peakRssMb: Math.round(peakRssMb),
};
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
