/** `funnel --resource <slug>|all|list [--interval day|week|month]`: Discover wizard funnels per resource track. */
import { loadTracks, trackSteps, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { planTrackFunnels, rankReports, runTrackFunnels, type FunnelStepRow, type TrackFunnelReport } from '../discover/funnel.js';
import type { CommandResult, Report } from '../output/report.js';
import { funnelBreakdownMatrix, funnelStepTable } from '../output/funnel.js';
import type { TableSpec } from '../output/table.js';
import { bar, barColumn } from '../output/chart.js';
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
  /** --breakdown: the property the funnels are split by. */
  breakdown?: string;
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
  const missing = reports.filter((r) => r.breakdownMissing);
  if (opts.breakdown && missing.length) {
    const n = missing.reduce((a, r) => a + r.breakdownMissing!.sessions, 0);
    const of = missing.reduce((a, r) => a + r.breakdownMissing!.of, 0);
    const at = missing[0]!.breakdownMissing!;
    c.out.warn(
      `${opts.breakdown} is not set on "${at.step}" (${at.event}), the step the breakdown value is read from, for ${n.toLocaleString('en-US')} of ${of.toLocaleString('en-US')} sessions` +
        `${tracks.length > 1 ? ` (${missing.map((r) => r.slug).join(', ')})` : ''}: they show as None. Choose a property that event carries.`,
    );
  }
  const meta: Meta = {
    engine: o.query.engine,
    dateRange: opts.dateRange,
    window: opts.window,
    order: opts.order,
    deployment: opts.deployment,
    aggregation: 'wizard session',
    ...(opts.breakdown ? { breakdown: opts.breakdown } : {}),
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
          { key: 'resource', header: 'tp.discover.resource.name', drop: 1 },
          { key: 'steps', header: 'Steps (cloud)', shortHeader: 'Cloud', align: 'right' },
          { key: 'selfHostedSteps', header: 'Steps (self-hosted)', shortHeader: 'Self-hosted', align: 'right' },
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
    'Counted: SUCCESS or SKIPPED outcomes, one funnel per wizard session (tp.discover.metadata.id). Optional steps never hold a session up; drop-off and times are from the previous required step.',
    ...(r.legacy ? [`Legacy: ${r.legacy}.`] : []),
  ];
  return {
    json: { ...meta, ...r },
    tables: [
      funnelStepTable(`${r.title} — Discover funnel (${r.slug})`, labelled(r.steps), { notes }),
      ...(r.breakdowns?.length && meta.breakdown
        ? [funnelBreakdownMatrix(`${r.title} — by ${meta.breakdown}`, meta.breakdown, r.breakdowns.map((b) => ({ ...b, steps: labelled(b.steps) })), { optional: (i) => !!r.steps[i]?.optional })]
        : []),
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
          { key: 'rank', header: '#', align: 'right', drop: 2 },
          { key: 'slug', header: 'Resource' },
          { key: 'steps', header: 'Steps', align: 'right', dataOnly: true },
          { key: 'sessions', header: 'Sessions', align: 'right' },
          { key: 'completed', header: 'Completed', align: 'right', drop: 1 },
          { key: 'completionRate', header: 'Completion', align: 'right', text: (r) => formatPercent(r.completionRate) },
          { key: 'medianSecondsToComplete', header: 'Median time', shortHeader: 'Median', align: 'right', text: (r) => formatDuration(r.medianSecondsToComplete) },
          { key: 'worstStep', header: 'Biggest drop-off' },
          barColumn((r: { completionRate: number }) => r.completionRate, 1, 10),
        ],
        rows,
        notes: [describeRange(meta), 'Completed = added the resource (passed the last required step). Selection-only cards: discover-metrics demand.', 'Per-resource details: discover-metrics funnel --resource <slug>.'],
      },
      ...(meta.breakdown ? [breakdownByResource(reports, meta.breakdown)] : []),
    ],
  };
}

interface ResourceValueRow {
  slug: string;
  value: string;
  sessions: number;
  completed: number;
  completionRate: number;
}

/** `--resource all --breakdown X`: completion per resource and value of X. */
function breakdownByResource(reports: TrackFunnelReport[], property: string): TableSpec<ResourceValueRow> {
  const rows: ResourceValueRow[] = reports.flatMap((r) =>
    (r.breakdowns ?? []).map((b) => {
      const added = [...b.steps].reverse().find((s) => !s.optional);
      const sessions = b.steps[0]?.count ?? 0;
      const completed = added?.count ?? 0;
      return { slug: r.slug, value: b.value, sessions, completed, completionRate: sessions > 0 ? completed / sessions : 0 };
    }),
  );
  return {
    title: `Completion by resource and ${property}`,
    columns: [
      { key: 'slug', header: 'Resource', terminalText: (x) => (rows.find((y) => y.slug === x.slug) === x ? x.slug : '') },
      { key: 'value', header: property },
      { key: 'sessions', header: 'Sessions', align: 'right' },
      { key: 'completed', header: 'Completed', align: 'right', drop: 1 },
      { key: 'completionRate', header: 'Completion', align: 'right', text: (x) => formatPercent(x.completionRate) },
      barColumn((x: ResourceValueRow) => x.completionRate, 1, 10),
    ],
    rows,
    notes: [`${property} is read from the step where the resource is chosen; None: sessions without it.`],
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
  return `${worst.name} (−${formatPercent(1 - (worst.conversionFromPrevious ?? 0))})`;
}
