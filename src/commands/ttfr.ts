/** `time-to-first-resource`: signup (or first seen) to first resource per account, or wizard start to completion per session. */
import { buildTimeToFirstQuery, type TrackFunnelOptions } from '../definitions/discover.js';
import { timeToFirst, type HistogramBin, type ResourceTimeRow } from '../discover/ttfr.js';
import type { DateRange } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { bar } from '../output/chart.js';
import { formatDuration, formatPercent } from '../output/format.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface TtfrOptions {
  dateRange: DateRange;
  window: TrackFunnelOptions['window'];
  /** null: from the first event seen in the range. */
  signupEvent: string | null;
  wizard: boolean;
  bins?: number;
  query: QueryOptions;
}

export async function ttfrCommand(o: TtfrOptions, c: CommandContext): Promise<CommandResult> {
  const { dateRange, window, signupEvent, wizard, bins } = o;
  const base = { dateRange, window, signupEvent, wizard };
  if (o.query.printQuery) {
    return {
      queries: [buildTimeToFirstQuery({ ...base, vizType: 'steps' }), buildTimeToFirstQuery({ ...base, vizType: 'time_to_convert', binCount: bins })],
    };
  }
  const { result: r, range } = await withEngineRange(o.query, c, dateRange, (engine, dr) => timeToFirst(engine, { ...base, dateRange: dr, bins }, o.query.ctx));
  for (const w of r.warnings) c.out.warn(w);
  const maxCount = Math.max(0, ...r.histogram.map((b) => b.count));
  const unit = wizard ? 'sessions' : 'accounts';
  const summary = [
    `${wizard ? 'Wizard sessions started' : r.from.startsWith('signup') ? `Accounts that signed up ${r.from.slice(7)}` : 'Accounts (from first seen)'}: ${r.entered.toLocaleString('en-US')}; added a resource: ${r.converted.toLocaleString('en-US')} (${formatPercent(r.conversionRate)}) within ${window.funnelWindowInterval} ${window.funnelWindowIntervalUnit}(s).`,
    `median ${formatDuration(r.medianSeconds)} · p75 ≈ ${formatDuration(r.p75Seconds)} · p90 ≈ ${formatDuration(r.p90Seconds)} · average ${formatDuration(r.averageSeconds)}` +
      (r.percentileBinSeconds ? ` (p75/p90 within ${formatDuration(r.percentileBinSeconds)})` : ''),
  ];
  return {
    range,
    json: { engine: o.query.engine, dateRange, window, ...r },
    tables: [
      {
        title: wizard ? 'Time to add a resource (wizard start → completed), per session' : 'Time to first resource, per account',
        columns: [
          { key: 'fromSeconds', header: 'From', align: 'right', text: (b: HistogramBin) => formatDuration(b.fromSeconds) },
          { key: 'toSeconds', header: 'To', align: 'right', text: (b: HistogramBin) => formatDuration(b.toSeconds) },
          { key: 'count', header: unit[0]!.toUpperCase() + unit.slice(1), align: 'right' },
          { key: 'bar', header: '', terminalOnly: true, text: (b: HistogramBin) => bar(b.count, maxCount, 40) },
        ],
        rows: r.histogram,
        notes: summary,
      },
      ...(r.byResource?.length
        ? [
            {
              title: 'By resource (slowest median first)',
              columns: [
                { key: 'resource', header: 'Resource' },
                { key: 'completed', header: 'Completed', align: 'right' as const },
                { key: 'medianSeconds', header: 'Median', align: 'right' as const, text: (x: ResourceTimeRow) => formatDuration(x.medianSeconds) },
                { key: 'averageSeconds', header: 'Average', align: 'right' as const, text: (x: ResourceTimeRow) => formatDuration(x.averageSeconds) },
              ],
              rows: r.byResource,
            },
          ]
        : []),
    ],
  };
}
