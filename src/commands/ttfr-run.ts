import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { checkRelativeOrder, dateRangeFromOptions, parseWindow } from '../cli/range-options.js';
import { buildTimeToFirstQuery } from '../definitions/discover.js';
import { timeToFirst, type HistogramBin, type ResourceTimeRow } from '../discover/ttfr.js';
import { emit, printQueries, warn } from '../output/emit.js';
import { bar } from '../output/chart.js';
import { formatDuration, formatPercent } from '../output/duration.js';
import { UsageError } from '../errors.js';

export async function ttfrCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string | boolean | undefined>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const dateRange = dateRangeFromOptions(o.from as string | undefined, o.to as string | undefined, '-90d');
  checkRelativeOrder(dateRange, q.ctx.now);
  const window = parseWindow(o.window !== undefined ? String(o.window) : o.wizard ? '1d' : '90d');
  let bins: number | undefined;
  if (o.bins !== undefined) {
    bins = Number(o.bins);
    if (!Number.isInteger(bins) || bins < 1 || bins > 90) throw new UsageError(`--bins: '${o.bins}' is not an integer from 1 to 90`);
  }
  const wizard = !!o.wizard;
  const signupEvent = o.firstSeen ? null : ((o.signupEvent as string | undefined) ?? null);
  const base = { dateRange, window, signupEvent, wizard };
  if (q.printQuery) {
    printQueries([
      buildTimeToFirstQuery({ ...base, vizType: 'steps' }),
      buildTimeToFirstQuery({ ...base, vizType: 'time_to_convert', binCount: bins }),
    ]);
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const r = await timeToFirst(engine, { ...base, bins }, q.ctx);
    for (const w of r.warnings) warn(g, w);
    const maxCount = Math.max(0, ...r.histogram.map((b) => b.count));
    const unit = wizard ? 'sessions' : 'accounts';
    const summary = [
      `${wizard ? 'Wizard sessions started' : r.from.startsWith('signup') ? `Accounts that signed up ${r.from.slice(7)}` : 'Accounts (from first seen)'}: ${r.entered.toLocaleString('en-US')}; added a resource: ${r.converted.toLocaleString('en-US')} (${formatPercent(r.conversionRate)}) within ${window.funnelWindowInterval} ${window.funnelWindowIntervalUnit}(s).`,
      `median ${formatDuration(r.medianSeconds)} · p75 ≈ ${formatDuration(r.p75Seconds)} · p90 ≈ ${formatDuration(r.p90Seconds)} · average ${formatDuration(r.averageSeconds)}` +
        (r.percentileBinSeconds ? ` (p75/p90 within ${formatDuration(r.percentileBinSeconds)})` : ''),
    ];
    emit(g, {
      json: { engine: q.engine, dateRange, window, ...r },
      table: {
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
      more: r.byResource?.length
        ? [
            {
              title: 'By resource (slowest median first)',
              columns: [
                { key: 'resource', header: 'Resource' },
                { key: 'completed', header: 'Completed', align: 'right' },
                { key: 'medianSeconds', header: 'Median', align: 'right', text: (x: ResourceTimeRow) => formatDuration(x.medianSeconds) },
                { key: 'averageSeconds', header: 'Average', align: 'right', text: (x: ResourceTimeRow) => formatDuration(x.averageSeconds) },
              ],
              rows: r.byResource,
            },
          ]
        : [],
    });
  } finally {
    await engine.close();
  }
}
