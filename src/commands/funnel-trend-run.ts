/** `funnel --resource X --interval day|week|month`: conversion per period as a table and a chart. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { buildTrackFunnelQuery, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { funnelTrend, type TrendRow } from '../discover/trend.js';
import type { PeriodInterval } from '../downloads/periods.js';
import { emit, info, printQueries } from '../output/emit.js';
import { bar, lineChart } from '../output/chart.js';
import { formatDuration, formatPercent } from '../output/duration.js';
import { formatWindow } from '../cli/range-options.js';

export async function funnelTrendCommand(command: Command, track: Track, opts: TrackFunnelOptions, interval: PeriodInterval): Promise<void> {
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  if (q.printQuery) {
    printQueries([buildTrackFunnelQuery(track, opts)]);
    info(g, `Sent once per ${interval} of the range, with that ${interval}'s dates as its dateRange.`);
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const trend = await funnelTrend(engine, track, opts, interval, q.ctx);
    const sessions = trend.reduce((s, r) => s + r.sessions, 0);
    const completed = trend.reduce((s, r) => s + r.completed, 0);
    // a line needs room to read: with a dozen periods or fewer the table's bars are the chart
    const chart = trend.length <= 12 ? undefined : lineChart(
      trend.map((r) => r.period),
      [{ name: 'completion %', values: trend.map((r) => (r.sessions > 0 ? r.rate * 100 : Number.NaN)) }],
    );
    emit(g, {
      json: {
        engine: q.engine,
        slug: track.slug,
        title: track.title,
        interval,
        dateRange: opts.dateRange,
        window: opts.window,
        order: opts.order,
        deployment: opts.deployment,
        aggregation: 'wizard session',
        sessions,
        completed,
        trend,
      },
      table: {
        title: `${track.title} — completion per ${interval} (${track.slug})`,
        columns: [
          { key: 'period', header: interval === 'day' ? 'Day' : `${interval[0]!.toUpperCase()}${interval.slice(1)} of`, text: (r: TrendRow) => `${r.period}${r.incomplete ? ' *' : ''}` },
          { key: 'from', header: 'From', dataOnly: true },
          { key: 'to', header: 'To', dataOnly: true },
          { key: 'sessions', header: 'Sessions', align: 'right' },
          { key: 'completed', header: 'Completed', align: 'right' },
          { key: 'rate', header: 'Completion', align: 'right', text: (r: TrendRow) => (r.sessions > 0 ? formatPercent(r.rate) : '–') },
          { key: 'medianSeconds', header: 'Median time', align: 'right', text: (r: TrendRow) => formatDuration(r.medianSeconds) },
          { key: 'incomplete', header: 'Incomplete', dataOnly: true },
          { key: 'bar', header: '', text: (r: TrendRow) => bar(r.rate, 1, 20), terminalOnly: true },
        ],
        rows: trend,
        notes: [
          `${opts.dateRange.date_from ?? ''} → ${opts.dateRange.date_to ?? 'today'} · window ${formatWindow(opts.window)} · ${opts.order} · ${opts.deployment} flow · engine ${q.engine}`,
          `Overall: ${completed.toLocaleString('en-US')} of ${sessions.toLocaleString('en-US')} sessions completed (${formatPercent(sessions > 0 ? completed / sessions : null)}).`,
          'Each period is its own funnel: sessions that started in it and completed within it. * the period is cut by the range or not over yet.',
        ],
      },
      extra: chart,
    });
  } finally {
    await engine.close();
  }
}
