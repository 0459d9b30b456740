/**
 * `replay FILE...`: send fixture events to PostHog or the sandbox, then summarize. Exit 1 when
 * anything could not be sent (after the summary is printed).
 */
import { resolveConnection, type PostHogConnection } from '../config/posthog.js';
import type { Report } from '../output/report.js';
import { assertComplete, replay, type ReplayOptions, type ReplaySummary, type UuidVerifier } from '../replay/replay.js';
import type { CommandContext } from './context.js';

export interface ReplayCommandOptions extends Omit<ReplayOptions, 'signal' | 'host' | 'projectApiKey' | 'tty' | 'quiet' | 'verify'> {
  host?: string;
  projectApiKey?: string;
  config?: string;
  /** With these, replay asks PostHog which uuids it holds before re-sending unanswered events. */
  personalApiKey?: string;
  projectId?: string;
  queryHost?: string;
}

/**
 * With a personal API key and project id, replay asks PostHog which uuids it holds after an
 * unanswered request. Queries go to the app host: --query-host, else the capture host with
 * PostHog Cloud's ingest host (us.i.posthog.com) mapped to its app host (us.posthog.com).
 */
async function verifierFor(conn: PostHogConnection, queryHost: string | undefined, c: CommandContext): Promise<UuidVerifier | undefined> {
  if (!conn.personalApiKey || !conn.projectId || !conn.host) return undefined;
  const host = queryHost ?? conn.host.replace(/^(https?:\/\/)([a-z]+)\.i\.posthog\.com/i, '$1$2.posthog.com');
  const { requireQueryConnection } = await import('../config/posthog.js');
  const { createPostHogEngine } = await import('../engines/posthog/index.js');
  const { postHogUuidVerifier } = await import('../replay/verify.js');
  const q = requireQueryConnection({ host, projectId: conn.projectId, personalApiKey: conn.personalApiKey });
  const engine = createPostHogEngine({ ...q, onNote: (m) => c.out.status(`note: ${m}`) });
  return postHogUuidVerifier(engine.client);
}

export async function replayCommand(o: ReplayCommandOptions, c: CommandContext): Promise<Report> {
  const conn = resolveConnection({ host: o.host, projectApiKey: o.projectApiKey, personalApiKey: o.personalApiKey, projectId: o.projectId, config: o.config });
  const verify = await verifierFor(conn, o.queryHost, c);
  // Ctrl-C / SIGTERM: finish the chunks in flight, keep the checkpoint exact, report; a second one kills
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    c.out.status(`\nreplay: ${sig}: finishing the chunks in flight (again to abort)`);
    stop.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const { config: _config, personalApiKey: _pk, projectId: _pid, queryHost: _qh, ...rest } = o;
  const summary = await replay({
    ...rest,
    verify,
    signal: stop.signal,
    host: conn.host,
    projectApiKey: conn.projectApiKey,
    tty: !!process.stderr.isTTY,
    quiet: c.quiet,
  }).finally(() => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  });
  // the summary is printed even when events are missing; then the command fails (exit 1)
  let failure: Error | undefined;
  try {
    assertComplete(summary);
  } catch (e) {
    failure = e as Error;
  }
  return { ...renderSummary(summary), failure };
}

export function renderSummary(s: ReplaySummary): Report {
  const rows: { item: string; value: string | number }[] = s.dryRun
    ? [
        { item: 'files', value: s.files },
        { item: 'events (valid)', value: s.events },
        { item: 'distinct ids', value: s.distinctIds ?? 0 },
        ...Object.entries(s.eventCounts ?? {})
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => ({ item: `  ${k}`, value: v })),
      ]
    : [
        { item: 'host', value: s.host ?? '' },
        { item: 'events', value: s.events },
        { item: 'already sent (checkpoint)', value: s.alreadyDone },
        { item: 'sent', value: s.sent },
        { item: 'failed', value: s.failed },
        { item: 'not attempted', value: s.notSent },
        { item: 'failed flushes (re-sent)', value: s.requestErrors },
        { item: 'events/s', value: Math.round(s.eventsPerSecond) },
        { item: 'seconds', value: Number(s.seconds.toFixed(2)) },
      ];
  return {
    json: s,
    // a dry run's counts are its answer; a real run's table is a summary of what was sent
    status: !s.dryRun,
    tables: [
      {
        title: s.dryRun ? 'replay --dry-run (nothing sent)' : 'replay',
        columns: [
          { key: 'item', header: 'item' },
          { key: 'value', header: 'value', align: 'right' as const },
        ],
        rows,
      },
    ],
  };
}
