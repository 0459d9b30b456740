/**
 * `replay FILE...`: send fixture events to PostHog or the sandbox, then summarize. Exit 1 when
 * anything could not be sent (after the summary is printed).
 */
import { resolveConnection } from '../config/posthog.js';
import type { Report } from '../output/report.js';
import { assertComplete, replay, type ReplayOptions, type ReplaySummary } from '../replay/replay.js';
import type { CommandContext } from './context.js';

export interface ReplayCommandOptions extends Omit<ReplayOptions, 'signal' | 'host' | 'projectApiKey' | 'tty' | 'quiet'> {
  host?: string;
  projectApiKey?: string;
  config?: string;
}

export async function replayCommand(o: ReplayCommandOptions, c: CommandContext): Promise<Report> {
  const conn = resolveConnection({ host: o.host, projectApiKey: o.projectApiKey, config: o.config });
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
  const { config: _config, ...rest } = o;
  const summary = await replay({
    ...rest,
    signal: stop.signal,
    host: conn.host,
    projectApiKey: conn.projectApiKey,
    concurrency: Math.max(1, o.concurrency ?? 1),
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
