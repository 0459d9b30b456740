/**
 * Action of `push`: connect to PostHog, plan or apply, render. Loaded lazily by src/commands/push.ts.
 */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { requireQueryConnection, resolveConnection } from '../config/posthog.js';
import { PostHogClient } from '../engines/posthog/client.js';
import { emit } from '../output/emit.js';
import { desiredInsights } from './desired.js';
import { push } from './push.js';
import { renderPush } from './render.js';

export async function pushCommand(command: Command): Promise<void> {
  const o = command.optsWithGlobals() as Record<string, unknown>;
  const g = globalsOf(command);
  const want = desiredInsights();
  const conn = requireQueryConnection(resolveConnection(o));
  const client = new PostHogClient({ ...conn, onNote: (m) => void (!g.quiet && process.stderr.write(`note: ${m}\n`)) });
  const result = await push(client, want, { dryRun: !!o.dryRun, prune: !!o.prune, dashboardName: typeof o.dashboard === 'string' ? o.dashboard : undefined });
  emit(g, renderPush(result, conn.host, g.format));
}
