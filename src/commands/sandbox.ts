/**
 * `sandbox serve`: start the server, print its URL on stdout (one line, for scripts), log
 * problems on stderr, and on SIGTERM/SIGINT shut down cleanly (in-flight writes finished, store
 * checkpointed) and exit 0.
 */
import { FindingError, UsageError, cannotWrite, redactSecrets } from '../errors.js';
import { startSandbox } from '../sandbox/server.js';
import { dirname, join } from 'node:path';
import type { CommandContext } from './context.js';
import { claimPidFile, isAlive, readPidFile, releasePidFile, writePidFile } from '../sandbox/pidfile.js';

export interface SandboxServeOptions {
  port: number;
  bind: string;
  projectToken?: string;
  personalApiKey?: string;
  projectId: number;
  timezone: string;
  weekStart: 0 | 1;
  failRate: number;
  failBurst: number;
  latencyMs: number;
  timeoutRate: number;
  holdMs: number;
  seed: number;
  /** Keep every accepted copy of a re-sent uuid (PostHog before a merge). */
  noDedup?: boolean;
  /** PostHog's query API limits per personal API key; null turns them off. */
  queryRateLimits?: { perMinute: number; perHour: number } | null;
  /** Write the server's PID and URL here once it listens; removed when it stops. */
  pidFile?: string;
}

/** Set by `sandbox start` for the server it leaves running: its parent exits on purpose. */
export const DETACHED_ENV = 'DISCOVER_METRICS_SANDBOX_DETACHED';

export async function sandboxServeCommand(o: SandboxServeOptions, c: CommandContext): Promise<void> {
  const { projectToken, personalApiKey } = o;
  if (!projectToken) throw new UsageError('sandbox serve needs --project-token phc_... (env POSTHOG_PROJECT_API_KEY)');
  if (!personalApiKey) throw new UsageError('sandbox serve needs --personal-api-key phx_... (env POSTHOG_PERSONAL_API_KEY)');
  // never the user's own event store by default: a sandbox file next to it unless --store is given
  const storePath = c.storeChosen ? c.store : join(dirname(c.store), 'sandbox.duckdb');
  if (o.pidFile) claimPidFile(o.pidFile);
  const sb = await startSandbox({
    ...o,
    storePath,
    projectToken,
    personalApiKey,
    log: (l) => c.out.error(redactSecrets(l, [projectToken, personalApiKey])),
  });
  if (o.pidFile) {
    try {
      writePidFile(o.pidFile, sb.url);
    } catch (e) {
      await sb.close();
      throw e;
    }
  }
  c.out.line(sb.url);
  c.out.status(`sandbox: project ${o.projectId} on ${sb.url}, store ${storePath} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    // A launcher in front (npx, npm exec) may not pass SIGTERM on: when it dies, the server stops too.
    const parent = process.ppid;
    const watch = process.env[DETACHED_ENV] ? undefined : setInterval(() => process.ppid !== parent && stop('launcher exited'), 500);
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      if (watch) clearInterval(watch);
      c.out.status(`sandbox: ${sig}, shutting down`);
      sb.close().then(
        () => {
          if (o.pidFile) releasePidFile(o.pidFile);
          resolve();
        },
        (e) => {
          c.out.error(`sandbox: shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
          process.exitCode = 70;
          resolve();
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export interface SandboxStartOptions {
  /** The `sandbox serve` arguments (start's own taken out). */
  serveArgs: string[];
  pidFile: string;
  logFile: string;
  timeoutSeconds: number;
}

/**
 * `sandbox start`: run `sandbox serve` in the background, detached, its stderr in a log file; wait
 * until it listens, print its URL and exit 0. `sandbox stop` ends it through the PID file.
 */
export async function sandboxStartCommand(o: SandboxStartOptions, c: CommandContext): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { openSync, closeSync, readFileSync } = await import('node:fs');
  claimPidFile(o.pidFile);
  let log: number;
  try {
    log = openSync(o.logFile, 'a');
  } catch (e) {
    throw cannotWrite('--log-file', o.logFile, e);
  }
  const child = spawn(process.execPath, [process.argv[1]!, ...o.serveArgs], {
    detached: true,
    stdio: ['ignore', 'pipe', log],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  closeSync(log);
  const url = await new Promise<string | undefined>((resolve) => {
    let buf = '';
    const timer = setTimeout(() => resolve(undefined), o.timeoutSeconds * 1000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl).trim());
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  child.stdout!.destroy();
  if (!url) {
    if (child.exitCode === null) child.kill('SIGTERM');
    const tail = readFileSync(o.logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
    throw new FindingError(`sandbox start: the server did not come up${child.exitCode !== null ? ` (exit ${child.exitCode})` : ` within ${o.timeoutSeconds} s`}; log ${o.logFile}`, tail || undefined);
  }
  child.unref();
  c.out.line(url);
  c.out.status(`sandbox: running as pid ${child.pid} (${o.pidFile}, log ${o.logFile}); stop it with: discover-metrics sandbox stop --pid-file ${o.pidFile}`);
}

export interface SandboxStopOptions {
  pidFile: string;
  timeoutSeconds: number;
}

/** `sandbox stop`: SIGTERM to the PID in the file, wait for a clean shutdown (store checkpointed). */
export async function sandboxStopCommand(o: SandboxStopOptions, c: CommandContext): Promise<void> {
  const info = readPidFile(o.pidFile);
  if (!info) throw new UsageError(`--pid-file: ${o.pidFile} does not exist: no sandbox was started with it (or it has stopped)`);
  if (!isAlive(info.pid)) {
    releasePidFile(o.pidFile, info.pid);
    c.out.status(`sandbox: pid ${info.pid} was not running; removed ${o.pidFile}`);
    return;
  }
  process.kill(info.pid, 'SIGTERM');
  const deadline = Date.now() + o.timeoutSeconds * 1000;
  while (isAlive(info.pid)) {
    if (Date.now() > deadline) throw new FindingError(`sandbox stop: pid ${info.pid} still runs ${o.timeoutSeconds} s after SIGTERM`, `Look at its log; kill -KILL ${info.pid} ends it without a checkpoint.`);
    await new Promise((r) => setTimeout(r, 100));
  }
  releasePidFile(o.pidFile, info.pid);
  c.out.status(`sandbox: stopped pid ${info.pid}`);
}
