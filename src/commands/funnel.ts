/** `funnel --resource <slug>|all|list [--interval day|week|month]`: Discover wizard funnels per resource track. */
import { loadTracks, trackSteps, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { planTrackFunnels, rankReports, runTrackFunnels, type FunnelStepRow, type TrackFunnelReport } from '../discover/funnel.js';
import type { CommandResult, Report } from '../output/report.js';
import { funnelStepTable } from '../output/funnel.js';
import { bar } from '../output/chart.js';
import { formatDuration, formatPercent, formatWindow } from '../output/format.js';
import type { PeriodInterval } from '../time/index.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';
import { funnelTrendCommand } from './funnel-trend.js';
import { failUnder } from './thresholds.js';

/**
 * Run the funnels of some tracks, or list the tracks (`--resource list`). With `interval` (one
 * track, no breakdown): conversion per period.
 */
export type FunnelOptions =
  | { list: true }
  | { tracks: Track[]; funnel: TrackFunnelOptions; query: QueryOptions; interval?: PeriodInterval; /** --fail-under */ failUnder?: number };

interface Meta {
  engine: string;
  dateRange: TrackFunnelOptions['dateRange'];
  window: TrackFunnelOptions['window'];
  order: string;
  deployment: string;
  aggregation: string;
}

export async function funnelCommand(o: FunnelOptions, c: CommandContext): Promise<CommandResult> {
  if ('list' in o) return listTracks();
  if (o.interval) return funnelTrendCommand({ track: o.tracks[0]!, funnel: o.funnel, interval: o.interval, query: o.query, failUnder: o.failUnder }, c);
  const tracks = o.tracks;
  const opts = o.funnel;
  if (o.query.printQuery) {
    const plan = planTrackFunnels(tracks, opts);
    return {
      queries: [...plan.steps, ...plan.times, ...plan.completion],
      note:
        `${plan.steps.length} step funnel(s), ${plan.times.length} funnel(s) of the required steps alone (their times), then ` +
        `${plan.completion.length} two-step funnel(s) (first step → resource added) whose median is the time to complete.`,
    };
  }
  const ran = await withEngineRange(o.query, c, opts.dateRange, (engine, dateRange) => runTrackFunnels(engine, tracks, { ...opts, dateRange }, o.query.ctx));
  const { reports } = ran.result;
  for (const r of reports) for (const w of r.warnings) if (tracks.length === 1 || r.sessions > 0) c.out.warn(w);
  const meta: Meta = {
    engine: o.query.engine,
    dateRange: opts.dateRange,
    window: opts.window,
    order: opts.order,
    deployment: opts.deployment,
    aggregation: 'wizard session',
  };
  const rates = reports.map((r) => ({ name: r.slug, rate: r.sessions > 0 ? r.completionRate : null, detail: `${r.completed} of ${r.sessions} sessions` }));
  return {
    ...(tracks.length === 1 ? oneTrack(reports[0]!, meta) : allTracks(rankReports(reports), meta)),
    range: ran.range,
    failure: failUnder('funnel', 'completion', rates, o.failUnder),
  };
}

function listTracks(): Report {
  const rows = loadTracks().map((t) => ({
    slug: t.slug,
    title: t.title,
    resource: t.resource,
    steps: trackSteps(t, 'cloud').length,
    selfHostedSteps: trackSteps(t, 'self-hosted').length,
  }));
  return {
    json: { resources: rows },
    tables: [
      {
        title: 'Discover resource tracks (queries/discover/*.json)',
        columns: [
          { key: 'slug', header: 'Resource' },
          { key: 'title', header: 'Track' },
          { key: 'resource', header: 'tp.discover.resource.name' },
          { key: 'steps', header: 'Steps (cloud)', align: 'right' },
          { key: 'selfHostedSteps', header: 'Steps (self-hosted)', align: 'right' },
        ],
        rows,
      },
    ],
  };
}

function describeRange(meta: Meta): string {
  return `Window ${formatWindow(meta.window)} · ${meta.order} · ${meta.deployment === 'all' ? 'every cluster' : `${meta.deployment} clusters`} · engine ${meta.engine}`;
}

function oneTrack(r: TrackFunnelReport, meta: Meta): Report {
  const notes = [
    describeRange(meta),
    `Completed ${r.completed.toLocaleString('en-US')} of ${r.sessions.toLocaleString('en-US')} sessions (${formatPercent(r.completionRate)}); ` +
      `median time to complete ${formatDuration(r.medianSecondsToComplete)}, average ${formatDuration(r.averageSecondsToComplete)}.`,
    `Added: sessions that passed "${r.steps.find((x) => x.key === r.addedAt)?.name ?? r.addedAt}" (SUCCESS or SKIPPED); ${r.completedEventSent ?? 0} of them sent \`completed\` (lost when a tab closes on the Finished page).`,
    'Counted: SUCCESS or SKIPPED outcomes, one funnel per wizard session (tp.discover.metadata.id). Optional steps never hold a session up;',
    'drop-off and times are from the previous required step.',
    ...(r.legacy ? [`Legacy: ${r.legacy}.`] : []),
  ];
  return {
    json: { ...meta, ...r },
    tables: [
      funnelStepTable(`${r.title} — Discover funnel (${r.slug})`, labelled(r.steps), { notes }),
      ...(r.breakdowns ?? []).map((b) => funnelStepTable(`${r.title} — ${b.value}`, labelled(b.steps))),
    ],
  };
}

function allTracks(reports: TrackFunnelReport[], meta: Meta): Report {
  const rows = reports.map((r, i) => ({
    rank: r.sessions > 0 ? i + 1 : null,
    slug: r.legacy ? `${r.slug} (legacy)` : r.slug,
    title: r.title,
    steps: r.steps.length,
    sessions: r.sessions,
    completed: r.completed,
    completionRate: r.completionRate,
    medianSecondsToComplete: r.medianSecondsToComplete,
    averageSecondsToComplete: r.averageSecondsToComplete,
    worstStep: worstStep(r),
  }));
  return {
    json: { ...meta, resources: reports },
    tables: [
      {
        title: 'Discover funnels by resource — ranked by completion rate, then median time to complete',
        columns: [
          { key: 'rank', header: '#', align: 'right' },
          { key: 'slug', header: 'Resource' },
          { key: 'steps', header: 'Steps', align: 'right', dataOnly: true },
          { key: 'sessions', header: 'Sessions', align: 'right' },
          { key: 'completed', header: 'Completed', align: 'right' },
          { key: 'completionRate', header: 'Completion', align: 'right', text: (r) => formatPercent(r.completionRate) },
          { key: 'medianSecondsToComplete', header: 'Median time', align: 'right', text: (r) => formatDuration(r.medianSecondsToComplete) },
          { key: 'worstStep', header: 'Biggest drop-off' },
          { key: 'bar', header: '', text: (r) => bar(r.completionRate, 1, 10), terminalOnly: true },
        ],
        rows,
        notes: [describeRange(meta), 'Completed = added the resource (passed the last required step). Selection-only cards: discover-metrics demand.', 'Per-resource details: discover-metrics funnel --resource <slug>.'],
      },
    ],
  };
}

/** Step names marked "(optional)" for the table (the data keeps the name and an `optional` flag). */
function labelled(steps: FunnelStepRow[]): FunnelStepRow[] {
  return steps.map((x) => (x.optional ? { ...x, name: `${x.name} (optional)` } : x));
}

function worstStep(r: TrackFunnelReport): string {
  let worst: FunnelStepRow | undefined;
  for (const s of r.steps.slice(1)) if (!worst || s.dropOff > worst.dropOff) worst = s;
  if (!worst || worst.dropOff === 0) return '';
  return `${worst.name} (−${formatPercent(1 - (worst.conversionFromPrevious ?? 0), 0)})`;
}
