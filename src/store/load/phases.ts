/**
 * The phases of a load, for its debug timing (DISCOVER_METRICS_DEBUG=load prints each phase's
 * duration, its CPU time and the process's peak RSS so far on stderr), and the test hook that
 * stops a load at one of them.
 */
import { writeSync } from 'node:fs';
import { debug, debugEnabled } from '../../debug.js';

let stepStart = 0;
let stepCpu = process.cpuUsage();
export function step(name: string): void {
  if (!debugEnabled('load')) return;
  const now = performance.now();
  const cpu = process.cpuUsage(stepCpu);
  if (stepStart) debug('load', `${name} ${((now - stepStart) / 1000).toFixed(2)}s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)}s) peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  stepStart = now;
  stepCpu = process.cpuUsage();
}

/**
 * Tests only: DISCOVER_METRICS_TEST_PAUSE_AT=<phase> makes a load stop at that phase for good
 * (it says `dm-test-phase <phase>` on stderr, then blocks this thread), so that a test can kill
 * the process there. DuckDB work already started (a COMMIT, a CHECKPOINT) goes on in DuckDB's
 * own threads meanwhile, so a kill lands inside it.
 */
export function pauseForTest(phase: string): void {
  if (process.env.DISCOVER_METRICS_TEST_PAUSE_AT !== phase) return;
  writeSync(2, `dm-test-phase ${phase}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
