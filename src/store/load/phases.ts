/**
 * The phases of a load, for its debug timing (DISCOVER_METRICS_DEBUG=load prints each phase's
 * duration on stderr).
 */
import { debug, debugEnabled } from '../../debug.js';

let stepStart = 0;
let stepCpu = process.cpuUsage();
export function step(name: string): void {
  if (!debugEnabled('load')) return;
  const now = performance.now();
  const cpu = process.cpuUsage(stepCpu);
  if (stepStart) debug('load', `${name} ${((now - stepStart) / 1000).toFixed(2)}s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)}s)`);
  stepStart = now;
  stepCpu = process.cpuUsage();
}
