/** `funnel --resource X --interval day|week|month`: conversion per period as a table and a chart. */
import { buildTrackFunnelQuery, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { funnelTrend, type TrendRow } from '../discover/trend.js';
import { isIncompletePeriod, type PeriodInterval, type RangeContext } from '../time/index.js';
import type { CommandResult } from '../output/report.js';
import { bar, lineChart } from '../output/chart.js';
import { formatDuration, formatPercent, formatWindow } from '../output/format.js';
import { failUnder } from './thresholds.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface FunnelTrendOptions {
  track: Track;
  funnel: TrackFunnelOptions;
  interval: PeriodInterval;
  query: QueryOptions;
  /** --fail-under: a complete period's completion below it fails (exit 1) */
  failUnder?: number;
}

export async function funnelTrendCommand(o: FunnelTrendOptions, c: CommandContext): Promise<CommandResult> {
  const { track, funnel: opts, interval } = o;
  if (o.query.printQuery) {
    return { queries: [buildTrackFunnelQuery(track, opts)], note: `Sent once per ${interval} of the range, with that ${interval}'s dates as its dateRange.` };
  }
  const { result: trend, range } = await withEngineRange(o.query, c, opts.dateRange, (engine, dateRange) => funnelTrend(engine, track, { ...opts, dateRange }, interval, o.query.ctx));
  const sessions = trend.reduce((s, r) => s + r.sessions, 0);
  const completed = trend.reduce((s, r) => s + r.completed, 0);
  const judged = trend.filter((r) => !r.incomplete).map((r) => ({ name: r.period, rate: r.sessions > 0 ? r.rate : null, detail: `${r.completed} of ${r.sessions} sessions` }));
  return {
    range,
    failure: failUnder(`funnel ${track.slug}`, `completion per ${interval}`, judged, o.failUnder),
    json: {
      engine: o.query.engine,
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
    tables: [
      {
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
          `Window ${formatWindow(opts.window)} · ${opts.order} · ${opts.deployment} flow · engine ${o.query.engine}`,
          `Overall: ${completed.toLocaleString('en-US')} of ${sessions.toLocaleString('en-US')} sessions completed (${formatPercent(sessions > 0 ? completed / sessions : null)}).`,
          'Each period is its own funnel: sessions that started in it and completed within it. * the period is cut by the range or not over yet.',
        ],
      },
    ],
    // a line needs room to read: with a dozen periods or fewer the table's bars are the chart
    chart: () =>
      trend.length <= 12
        ? undefined
        : lineChart(
            trend.map((r) => r.period),
            [{ name: 'completion %', values: trend.map((r) => (r.sessions > 0 ? r.rate * 100 : Number.NaN)) }],
            { incompleteFrom: openFrom(trend, interval, o.query.ctx) },
          ),
  };
}

/** The first period not over at --now (drawn hollow), if any. */
function openFrom(trend: TrendRow[], interval: PeriodInterval, ctx: RangeContext): number | undefined {
  const i = trend.findIndex((r) => isIncompletePeriod(r.period, interval, ctx));
  return i < 0 ? undefined : i;
}
