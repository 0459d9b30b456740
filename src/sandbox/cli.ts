/**
 * `sandbox serve` glue: start the server, print its URL on stdout (one line, for scripts), log
 * problems on stderr, and on SIGTERM/SIGINT shut down cleanly (in-flight writes finished, store
 * checkpointed) and exit 0.
 */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { UsageError, redactSecrets } from '../errors.js';
import { isValidTimezone } from '../cli/query-options.js';
import { startSandbox } from './server.js';
import { dirname, join } from 'node:path';

export async function sandboxServeCommand(cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const o = cmd.opts() as Record<string, unknown>;
  const projectToken = (o.projectToken as string | undefined) ?? process.env.POSTHOG_PROJECT_API_KEY;
  const personalApiKey = (o.personalApiKey as string | undefined) ?? process.env.POSTHOG_PERSONAL_API_KEY;
  if (!projectToken) throw new UsageError('sandbox serve needs --project-token phc_... (env POSTHOG_PROJECT_API_KEY)');
  if (!personalApiKey) throw new UsageError('sandbox serve needs --personal-api-key phx_... (env POSTHOG_PERSONAL_API_KEY)');
  const tz = o.timezone as string;
  if (!isValidTimezone(tz)) throw new UsageError(`--timezone: '${tz}' is not an IANA timezone`);
  const ws = String(o.weekStart).toLowerCase();
  if (ws !== 'sunday' && ws !== 'monday') throw new UsageError(`--week-start: '${o.weekStart}' must be sunday or monday`);
  if (!Number.isInteger(o.port)) throw new UsageError(`--port: '${o.port}' is not a port number`);
  // never the user's own event store by default: a sandbox file next to it unless --store is given
  const explicitStore = (cmd.optsWithGlobals() as { store?: string }).store ?? process.env.DISCOVER_METRICS_STORE;
  const storePath = explicitStore ? g.store : join(dirname(g.store), 'sandbox.duckdb');
  const sb = await startSandbox({
    storePath,
    projectToken,
    personalApiKey,
    port: o.port as number,
    bind: o.bind as string,
    projectId: o.projectId as number,
    timezone: tz,
    weekStart: ws === 'monday' ? 1 : 0,
    failRate: o.failRate as number,
    failBurst: o.failBurst as number,
    latencyMs: o.latency as number,
    timeoutRate: o.timeoutRate as number,
    holdMs: o.hold as number,
    seed: o.seed as number,
    noDedup: o.dedup === false,
    queryRateLimits: o.queryRateLimit as { perMinute: number; perHour: number } | null,
    log: (l) => process.stderr.write(redactSecrets(l, [projectToken, personalApiKey]) + '\n'),
  });
  process.stdout.write(`${sb.url}\n`);
  if (!g.quiet) process.stderr.write(`sandbox: project ${o.projectId} on ${sb.url}, store ${storePath} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      if (!g.quiet) process.stderr.write(`sandbox: ${sig}, shutting down\n`);
      sb.close().then(
        () => resolve(),
        (e) => {
          process.stderr.write(`sandbox: shutdown failed: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exitCode = 70;
          resolve();
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
