/**
 * The phases of a load, for its debug timing (DISCOVER_METRICS_DEBUG_LOAD=1 prints each phase's
 * duration on stderr).
 */
const DEBUG = !!process.env.DISCOVER_METRICS_DEBUG_LOAD;
let stepStart = 0;
let stepCpu = process.cpuUsage();
export function step(name: string): void {
  if (!DEBUG) return;
  const now = performance.now();
  const cpu = process.cpuUsage(stepCpu);
  if (stepStart) {
    process.stderr.write(`[load] ${name} ${((now - stepStart) / 1000).toFixed(2)}s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)}s)\n`);
  }
  stepStart = now;
  stepCpu = process.cpuUsage();
}

