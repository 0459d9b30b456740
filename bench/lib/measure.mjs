#!/usr/bin/env node
// Run the compiled CLI in this process and report wall time and peak RSS on stderr as JSON:
//   node bench/lib/measure.mjs <discover-metrics args...>
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const t0 = process.hrtime.bigint();
const { main } = await import(pathToFileURL(join(root, 'dist', 'cli', 'program.js')).href);
const code = await main(['node', 'discover-metrics', ...process.argv.slice(2)]);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stderr.write(`\n@@measure ${JSON.stringify({ code, ms, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
process.exitCode = code;
