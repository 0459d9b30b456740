/** The `funnel` action: parse → run → render. */
import type { Command } from 'commander';
import { globalsOf, type GlobalOptions } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { funnelOptionsFrom, tracksFor } from './discover-options.js';
import { loadTracks, trackSteps } from '../definitions/discover.js';
import { planTrackFunnels, rankReports, runTrackFunnels, type FunnelStepRow, type TrackFunnelReport } from '../discover/funnel.js';
import { emit, info, printQueries, warn } from '../output/emit.js';
import { type TableSpec } from '../output/table.js';
import { bar } from '../output/chart.js';
import { formatDuration, formatPercent } from '../output/duration.js';
import { formatWindow } from '../cli/range-options.js';

export async function funnelCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  if (o.resource === 'list') {
    listTracks(g);
    return;
  }
  const tracks = tracksFor(o.resource!);
  const opts = funnelOptionsFrom(o, q.ctx);
  if (q.printQuery) {
    const plan = planTrackFunnels(tracks, opts);
    printQueries([...plan.steps, ...plan.completion]);
    info(g, `${plan.steps.length} step funnel(s), then ${plan.completion.length} two-step funnel(s) (first → last step) whose median is the time to complete.`);
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const { reports } = await runTrackFunnels(engine, tracks, opts, q.ctx);
    for (const r of reports) for (const w of r.warnings) if (tracks.length === 1 || r.sessions > 0) warn(g, w);
    const meta = {
      engine: q.engine,
      dateRange: opts.dateRange,
      window: opts.window,
      order: opts.order,
      deployment: opts.deployment,
      aggregation: 'wizard session',
    };
    if (tracks.length === 1) renderOne(g, reports[0]!, meta);
    else renderAll(g, rankReports(reports), meta);
  } finally {
    await engine.close();
  }
}

function listTracks(g: GlobalOptions): void {
  const rows = loadTracks().map((t) => ({
    slug: t.slug,
    title: t.title,
    resource: t.resource,
    steps: trackSteps(t, 'cloud').length,
    selfHostedSteps: trackSteps(t, 'self-hosted').length,
  }));
  emit(g, {
    json: { resources: rows },
    table: {
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
  });
}

function stepTable(title: string, steps: FunnelStepRow[], notes: string[] = []): TableSpec<FunnelStepRow> {
  const max = steps[0]?.count ?? 0;
  const columns: TableSpec<FunnelStepRow>['columns'] = [
    { key: 'step', header: '#', align: 'right' },
    { key: 'name', header: 'Step' },
    { key: 'event', header: 'Event', dataOnly: true },
    { key: 'count', header: 'Sessions', align: 'right' },
    { key: 'conversionFromPrevious', header: 'From prev', align: 'right', text: (r) => (r.step === 1 ? '' : formatPercent(r.conversionFromPrevious)) },
    { key: 'conversionFromFirst', header: 'From first', align: 'right', text: (r) => formatPercent(r.conversionFromFirst) },
    { key: 'dropOff', header: 'Drop-off', align: 'right', text: (r) => (r.step === 1 ? '' : r.dropOff.toLocaleString('en-US')) },
    { key: 'medianSeconds', header: 'Median time', align: 'right', text: (r) => (r.step === 1 ? '' : formatDuration(r.medianSeconds)) },
    { key: 'averageSeconds', header: 'Avg time', align: 'right', text: (r) => (r.step === 1 ? '' : formatDuration(r.averageSeconds)) },
    { key: 'bar', header: '', text: (r) => bar(r.count, max, 24), terminalOnly: true },
  ];
  return { title, columns, rows: steps, notes };
}

function describeRange(meta: { dateRange: { date_from: string | null; date_to: string | null }; window: Parameters<typeof formatWindow>[0]; order: string; deployment: string; engine: string }): string {
  return `${meta.dateRange.date_from ?? ''} → ${meta.dateRange.date_to ?? 'today'} · window ${formatWindow(meta.window)} · ${meta.order} · ${meta.deployment} flow · engine ${meta.engine}`;
}

function renderOne(g: GlobalOptions, r: TrackFunnelReport, meta: Parameters<typeof describeRange>[0] & Record<string, unknown>): void {
  const notes = [
    `${describeRange(meta)}`,
    `Completed ${r.completed.toLocaleString('en-US')} of ${r.sessions.toLocaleString('en-US')} sessions (${formatPercent(r.completionRate)}); ` +
      `median time to complete ${formatDuration(r.medianSecondsToComplete)}, average ${formatDuration(r.averageSecondsToComplete)}.`,
    'Counted: SUCCESS or SKIPPED outcomes, one funnel per wizard session (tp.discover.metadata.id). Times are from the previous step.',
  ];
  const csvRows = r.steps;
  emit(g, {
    json: { ...meta, ...r },
    table: { ...stepTable(`${r.title} — Discover funnel (${r.slug})`, csvRows, notes) },
    more: (r.breakdowns ?? []).map((b) => stepTable(`${r.title} — ${b.value}`, b.steps)),
  });
}

function renderAll(g: GlobalOptions, reports: TrackFunnelReport[], meta: Parameters<typeof describeRange>[0] & Record<string, unknown>): void {
  const rows = reports.map((r, i) => ({
    rank: r.sessions > 0 ? i + 1 : null,
    slug: r.slug,
    title: r.title,
    steps: r.steps.length,
    sessions: r.sessions,
    completed: r.completed,
    completionRate: r.completionRate,
    medianSecondsToComplete: r.medianSecondsToComplete,
    averageSecondsToComplete: r.averageSecondsToComplete,
    worstStep: worstStep(r),
  }));
  emit(g, {
    json: { ...meta, resources: reports },
    table: {
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
      notes: [describeRange(meta), 'Per-resource details: discover-metrics funnel --resource <slug>.'],
    },
  });
}

function worstStep(r: TrackFunnelReport): string {
  let worst: FunnelStepRow | undefined;
  for (const s of r.steps.slice(1)) if (!worst || s.dropOff > worst.dropOff) worst = s;
  if (!worst || worst.dropOff === 0) return '';
  return `${worst.name} (−${formatPercent(1 - (worst.conversionFromPrevious ?? 0), 0)})`;
}
