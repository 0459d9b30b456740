/**
 * The replay command's glue: options -> replay() -> summary in the chosen format. Exit 1 when
 * anything could not be sent.
 */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { emit } from '../output/emit.js';
import { resolveConnection } from '../config/posthog.js';
import { assertComplete, replay, type ReplaySummary } from './replay.js';

export async function replayCommand(files: string[], cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const o = cmd.opts() as Record<string, unknown>;
  const conn = resolveConnection({ host: o.host, projectApiKey: o.projectApiKey, config: o.config });
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
    concurrency: Math.max(1, o.concurrency as number),
    retryDelayMs: o.retryDelay as number,
    requestTimeoutMs: o.requestTimeout as number,
    gzip: o.gzip as boolean | undefined,
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
