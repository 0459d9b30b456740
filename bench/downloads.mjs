#!/usr/bin/env node
// Parse speed of the CloudFront log reader (discover-metrics downloads).
//
//   node bench/downloads.mjs [--mb 1024] [--gzip] [--keep]
//
// Writes ~N MB of uncompressed CloudFront log text (blocks of generated traffic: ~4% Teleport
// Connect artifact requests, the rest other objects/pages) to a temporary file — gzipped with
// --gzip — then times readCloudFrontLogs + countDownloads over it and prints MB/s of
// uncompressed text. Needs the compiled dist/ (npm run build).
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const args = process.argv.slice(2);

if (args[0] === '--parse') {
  const { readCloudFrontLogs } = await import(join(root, 'dist/downloads/logs.js'));
  const { countDownloads } = await import(join(root, 'dist/downloads/count.js'));
  const t = performance.now();
  const read = await readCloudFrontLogs([args[1]], { salt: 'bench-salt-0123456789' });
  const downloads = countDownloads(read);
  const ms = performance.now() - t;
  const s = read.stats;
  process.stdout.write(JSON.stringify({ bytes: s.bytes, requests: s.requests, connectRequests: s.connectRequests, downloads: downloads.length, malformed: s.malformed, ms }));
  process.exit(0);
}
const mb = Number(args[args.indexOf('--mb') + 1] ?? 0) || 1024;
const gzip = args.includes('--gzip');
const keep = args.includes('--keep');

const { generateCdnLogs, prng } = await import(join(root, 'dist/downloads/generate.js'));

// One block of realistic traffic (header stripped), repeated to the target size.
const start = new Date('2026-10-01T00:00:00Z');
const r = prng(1);
const oses = ['darwin', 'darwin', 'win32', 'linux'];
const installations = Array.from({ length: 400 }, () => ({
  firstSeen: new Date(start.getTime() + r() * 14 * 86_400_000),
  os: oses[Math.floor(r() * 4)],
  arch: r() < 0.3 ? 'arm64' : 'x64',
  version: '16.4.0',
}));
const files = generateCdnLogs({ seed: 1, start, days: 14, installations, backgroundPerHour: 40 });
const header = files[0].text.split('\n').slice(0, 2).join('\n') + '\n';
const block = Buffer.from(files.map((f) => f.text.split('\n').slice(2).join('\n')).join(''), 'utf8');
const target = mb * 1024 * 1024;
const reps = Math.max(1, Math.round(target / block.length));

const dir = mkdtempSync(join(tmpdir(), 'dm-bench-downloads-'));
const file = join(dir, gzip ? 'E2BENCH.2026-10-01-00.bench.gz' : 'E2BENCH.2026-10-01-00.bench.log');
function* chunks() {
  yield Buffer.from(header);
  for (let i = 0; i < reps; i++) yield block;
}
const t0 = performance.now();
await pipeline(Readable.from(chunks()), ...(gzip ? [createGzip({ level: 1 })] : []), createWriteStream(file));
const writeMs = performance.now() - t0;

// Time the parse in a fresh process so the generator's heap does not weigh on it.
const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--parse', file], { encoding: 'utf8' });
if (child.status !== 0) {
  process.stderr.write(child.stderr);
  process.exit(1);
}
const { bytes, requests, connectRequests, downloads, malformed, ms } = JSON.parse(child.stdout);
const textMb = bytes / 1024 / 1024;
console.log(`log text: ${textMb.toFixed(0)} MB uncompressed (${requests.toLocaleString('en-US')} requests, ${connectRequests.toLocaleString('en-US')} Connect artifact requests)${gzip ? `, ${(statSync(file).size / 1024 / 1024).toFixed(0)} MB gzipped` : ''}; written in ${(writeMs / 1000).toFixed(1)} s`);
console.log(`parsed + counted in ${(ms / 1000).toFixed(2)} s: ${(textMb / (ms / 1000)).toFixed(0)} MB/s of log text (${downloads.toLocaleString('en-US')} downloads, ${malformed} malformed)`);
if (!keep) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${file}`);
