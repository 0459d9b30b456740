/**
 * `sandbox serve`: start the server, print its URL on stdout (one line, for scripts), log
 * problems on stderr, and on SIGTERM/SIGINT shut down cleanly (in-flight writes finished, store
 * checkpointed) and exit 0.
 */
import { UsageError, redactSecrets } from '../errors.js';
import { startSandbox } from '../sandbox/server.js';
import { dirname, join } from 'node:path';
import type { CommandContext } from './context.js';

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
}

export async function sandboxServeCommand(o: SandboxServeOptions, c: CommandContext): Promise<void> {
  const { projectToken, personalApiKey } = o;
  if (!projectToken) throw new UsageError('sandbox serve needs --project-token phc_... (env POSTHOG_PROJECT_API_KEY)');
  if (!personalApiKey) throw new UsageError('sandbox serve needs --personal-api-key phx_... (env POSTHOG_PERSONAL_API_KEY)');
  // never the user's own event store by default: a sandbox file next to it unless --store is given
  const storePath = c.storeChosen ? c.store : join(dirname(c.store), 'sandbox.duckdb');
  const sb = await startSandbox({
    ...o,
    storePath,
    projectToken,
    personalApiKey,
    log: (l) => c.out.error(redactSecrets(l, [projectToken, personalApiKey])),
  });
  c.out.line(sb.url);
  c.out.status(`sandbox: project ${o.projectId} on ${sb.url}, store ${storePath} (Ctrl-C to stop)`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      c.out.status(`sandbox: ${sig}, shutting down`);
      sb.close().then(
        () => resolve(),
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
