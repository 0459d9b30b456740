#!/usr/bin/env node
// `npm run bench`: every benchmark script in bench/, one after the other (each prints its own
// figures; docs/BENCHMARKS.md says what each measures). They are heavy (millions of events):
// run them on a quiet machine, never in the test suite.
//
//   npm run bench                      all of them, in the order below
//   npm run bench -- load funnel-engine   only these (names of bench/*.mjs without .mjs)
//   npm run bench -- load --events 500000  one bench with its own options
//   npm run bench -- --list            the benches and their one-line description
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ORDER = ['generate', 'load', 'funnel-engine', 'discover-funnel', 'trends-engine', 'replay', 'downloads'];
const found = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4));
const all = [...ORDER.filter((n) => found.includes(n)), ...found.filter((n) => !ORDER.includes(n)).sort()];

/** The first comment line after the shebang: what the bench measures. */
function describe(name) {
  const lines = readFileSync(join(here, `${name}.mjs`), 'utf8').split('\n');
  const line = lines.find((l) => l.startsWith('// ') && !l.startsWith('// Usage') && !/^\/\/\s+(node|npm) /.test(l));
  return line ? line.slice(3) : '';
}

const args = process.argv.slice(2);
if (args.includes('--list') || args.includes('--help') || args.includes('-h')) {
  for (const n of all) console.log(`${n.padEnd(16)} ${describe(n)}`);
  process.exit(0);
}
const named = [];
while (args.length && !args[0].startsWith('-') && !/^\d/.test(args[0])) named.push(args.shift());
for (const n of named) {
  if (!existsSync(join(here, `${n}.mjs`))) {
    console.error(`bench: no bench named '${n}' (have: ${all.join(', ')})`);
    process.exit(2);
  }
}
if (args.length && named.length !== 1) {
  console.error('bench: options go to one bench: npm run bench -- NAME [options]');
  process.exit(2);
}
if (!existsSync(join(here, '..', 'dist', 'cli', 'main.js'))) {
  console.error('bench: build first (npm run build)');
  process.exit(2);
}
let failed = 0;
for (const n of named.length ? named : all) {
  console.log(`\n== bench/${n}.mjs`);
  const r = spawnSync(process.execPath, [join(here, `${n}.mjs`), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${n}.mjs failed (exit ${r.status ?? r.signal})`);
  }
}
process.exit(failed ? 1 : 0);
