/** `steps --resource <slug>|all`: which wizard steps take the most time. */
import type { Track, TrackFunnelOptions } from '../definitions/discover.js';
import { planTrackFunnels } from '../discover/funnel.js';
import { planStepHistograms, stepTimes, type StepTimeRow } from '../discover/steps.js';
import type { CommandResult } from '../output/report.js';
import { bar } from '../output/chart.js';
import { formatDuration } from '../output/format.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface StepsOptions {
  tracks: Track[];
  funnel: TrackFunnelOptions;
  /** With several tracks: how many of the slowest steps to show. */
  top: number;
  query: QueryOptions;
}

export async function stepsCommand(o: StepsOptions, c: CommandContext): Promise<CommandResult> {
  const { tracks, funnel: opts } = o;
  if (o.query.printQuery) {
    const { steps: funnels, times } = planTrackFunnels(tracks, opts, false);
    const histograms = planStepHistograms(tracks, opts).queries;
    return {
      queries: [...funnels, ...times, ...histograms],
      note:
        `${funnels.length} step funnel(s), ${times.length} funnel(s) of the required steps alone (their times), then ` +
        `${histograms.length} time_to_convert funnel(s), one per step (for p90); ` +
        'with --engine posthog a histogram is sent only for a step some session reached.',
    };
  }
  const ran = await withEngineRange(o.query, c, opts.dateRange, (engine, dateRange) => stepTimes(engine, tracks, { ...opts, dateRange }, o.query.ctx));
  let rows = ran.result;
  const all = tracks.length > 1;
  if (all) {
    rows = rows
      .filter((r) => r.sessions > 0)
      .sort((a, b) => (b.medianSeconds ?? -1) - (a.medianSeconds ?? -1))
      .slice(0, o.top);
  }
  const max = Math.max(0, ...rows.map((r) => r.p90Seconds ?? r.medianSeconds ?? 0));
  return {
    range: ran.range,
    json: { engine: o.query.engine, dateRange: opts.dateRange, window: opts.window, deployment: opts.deployment, steps: rows },
    tables: [
      {
        title: all ? `Slowest Discover steps (top ${rows.length} by median time)` : `Time per step — ${tracks[0]!.title}`,
        columns: [
          ...(all ? [{ key: 'resource', header: 'Resource' }] : [{ key: 'step', header: '#', align: 'right' as const }]),
          { key: 'name', header: 'Step' },
          { key: 'from', header: 'From step', dataOnly: true },
          { key: 'event', header: 'Event', dataOnly: true },
          { key: 'sessions', header: 'Sessions', align: 'right' },
          { key: 'medianSeconds', header: 'Median', align: 'right', text: (r: StepTimeRow) => formatDuration(r.medianSeconds) },
          { key: 'p90Seconds', header: 'p90 (≈)', align: 'right', text: (r: StepTimeRow) => formatDuration(r.p90Seconds) },
          { key: 'averageSeconds', header: 'Average', align: 'right', text: (r: StepTimeRow) => formatDuration(r.averageSeconds) },
          { key: 'p90BinSeconds', header: 'p90 bin width (s)', dataOnly: true },
          {
            key: 'bar',
            header: 'median ▇ / p90 ░',
            terminalOnly: true,
            text: (r: StepTimeRow) => {
              const m = bar(r.medianSeconds ?? 0, max, 20);
              const p = Math.max(0, Math.round(((r.p90Seconds ?? 0) / (max || 1)) * 20) - m.length);
              return m + '░'.repeat(p);
            },
          },
        ],
        rows,
        notes: [
          'Time from the previous step, per wizard session. Median is exact; p90 is read from PostHog\'s time-to-convert histogram (90 bins), so it is within one bin width.',
        ],
      },
    ],
  };
}
