/**
 * `push`: keep every definition as a saved insight in a PostHog project, on one dashboard
 * (PostHog's insights and dashboards REST API).
 */
import { requireQueryConnection, resolveConnection, type PostHogConnection } from '../config/posthog.js';
import { PostHogClient } from '../engines/posthog/client.js';
import { desiredInsights } from '../push/desired.js';
import { push } from '../push/push.js';
import { renderPush } from '../push/render.js';
import { itemsReporter } from './progress.js';
import type { CommandResult } from '../output/report.js';
import type { CommandContext } from './context.js';

export interface PushOptions {
  dryRun: boolean;
  prune: boolean;
  dashboard: string;
  /** Flags for the PostHog connection (environment and config files are merged by resolveConnection). */
  connection: PostHogConnection & { config?: string };
}

export async function pushCommand(o: PushOptions, c: CommandContext): Promise<CommandResult> {
  const want = desiredInsights();
  const conn = requireQueryConnection(resolveConnection(o.connection));
  const client = new PostHogClient({ ...conn, onNote: (m) => c.out.status(`note: ${m}`) });
  const progress = itemsReporter(c.out, 'push', 'insights', want.length);
  try {
    const result = await push(client, want, { dryRun: o.dryRun, prune: o.prune, dashboardName: o.dashboard, onProgress: progress.on, onPhase: (t) => progress.phase(t) });
    return renderPush(result, conn.host);
  } finally {
    progress.end();
  }
}
