/**
 * The replay command's glue: options -> replay() -> summary in the chosen format. Exit 1 when
 * anything could not be sent.
 */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { emit } from '../output/emit.js';
import { resolveConnection, type PostHogConnection } from '../config/posthog.js';
import { assertComplete, replay, type ReplaySummary, type UuidVerifier } from './replay.js';

/**
 * With a personal API key and project id, replay asks PostHog which uuids it holds after an
 * unanswered request. Queries go to the app host: --query-host, else the capture host with
 * PostHog Cloud's ingest host (us.i.posthog.com) mapped to its app host (us.posthog.com).
 */
async function verifierFor(conn: PostHogConnection, queryHost: string | undefined, quiet: boolean): Promise<UuidVerifier | undefined> {
  if (!conn.personalApiKey || !conn.projectId || !conn.host) return undefined;
  const host = queryHost ?? conn.host.replace(/^(https?:\/\/)([a-z]+)\.i\.posthog\.com/i, '$1$2.posthog.com');
  const { requireQueryConnection } = await import('../config/posthog.js');
  const { createPostHogEngine } = await import('../engines/posthog/index.js');
  const { postHogUuidVerifier } = await import('./verify.js');
  const q = requireQueryConnection({ host, projectId: conn.projectId, personalApiKey: conn.personalApiKey });
  const engine = createPostHogEngine({ ...q, onNote: (m) => void (quiet || process.stderr.write(`note: ${m}\n`)) });
  return postHogUuidVerifier(engine.client);
}

export async function replayCommand(files: string[], cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const o = cmd.opts() as Record<string, unknown>;
  const conn = resolveConnection({ host: o.host, projectApiKey: o.projectApiKey, personalApiKey: o.personalApiKey, projectId: o.projectId, config: o.config });
  const verify = await verifierFor(conn, o.queryHost as string | undefined, g.quiet);
  // Ctrl-C / SIGTERM: finish the chunks in flight, keep the checkpoint exact, report; a second one kills
  const stop = new AbortController();
  const onSignal = (sig: string) => {
    if (!g.quiet) process.stderr.write(`\nreplay: ${sig}: finishing the chunks in flight (again to abort)\n`);
    stop.abort();
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const summary = await replay({
    signal: stop.signal,
    files,
    host: conn.host,
    projectApiKey: conn.projectApiKey,
    historical: !!o.historical,
    dryRun: !!o.dryRun,
    yes: !!o.yes,
    checkpoint: o.checkpoint as string | undefined,
    resume: !!o.resume,
    batchSize: o.batchSize as number,
    chunkSize: o.chunkSize as number,
    retries: o.retries as number,
    concurrency: o.concurrency as number,
    retryDelayMs: o.retryDelay as number,
    requestTimeoutMs: o.requestTimeout as number,
    gzip: o.gzip as boolean | undefined,
    verify,
    ingestionLagMs: o.ingestionLag as number | undefined,
    tty: !!process.stderr.isTTY,
    quiet: g.quiet,
  }).finally(() => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  });
  emit(g, renderSummary(summary));
  assertComplete(summary);
}

export function renderSummary(s: ReplaySummary) {
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
    table: {
      title: s.dryRun ? 'replay --dry-run (nothing sent)' : 'replay',
      columns: [
        { key: 'item', header: 'item' },
        { key: 'value', header: 'value', align: 'right' as const },
      ],
      rows,
    },
  };
}
