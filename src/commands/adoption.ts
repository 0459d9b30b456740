/** `adoption`: Connect downloads next to new and active installations per period and platform. */
import type { DateRange } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { skippedMessage } from '../downloads/report.js';
import type { PeriodInterval } from '../time/index.js';
import { adoption, downloadsQuery, installationsQuery, type AdoptionReport } from '../adoption/index.js';
import { adoptionChart, adoptionTable, totalsTable } from '../adoption/render.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

type LogDownloads = Awaited<ReturnType<typeof import('../downloads/index.js').analyzeDownloadLogs>>['downloads'];

export interface AdoptionOptions {
  interval: PeriodInterval;
  dateRange: DateRange;
  /** Count downloads from these CloudFront logs instead of the store. */
  logs?: string[];
  salt?: string;
  strict: boolean;
  query: QueryOptions;
}

export async function adoptionCommand(o: AdoptionOptions, c: CommandContext): Promise<CommandResult> {
  const dateRange = { date_from: o.dateRange.date_from, date_to: o.dateRange.date_to };
  if (o.query.printQuery) {
    const queries = [installationsQuery('dau', { interval: o.interval, dateRange }), installationsQuery('first_time_for_user', { interval: o.interval, dateRange })];
    if (!o.logs) queries.push(downloadsQuery({ interval: o.interval, dateRange }));
    return { queries };
  }
  // Read the logs first: a bad log with --strict fails before any query runs.
  let logDownloads: LogDownloads | undefined;
  if (o.logs) {
    const { analyzeDownloadLogs, resolveSalt } = await import('../downloads/index.js');
    const analysis = await analyzeDownloadLogs(o.logs, { salt: resolveSalt(o.salt), strict: o.strict });
    const skipped = skippedMessage(analysis.stats);
    if (skipped) c.out.warn(skipped);
    if (analysis.downloads.length === 0) c.out.warn(`no Teleport Connect downloads in ${analysis.stats.files} log file(s) (${analysis.stats.requests} requests read)`);
    logDownloads = analysis.downloads;
  }
  // with --logs the downloads come from the logs, whose days the store need not hold
  const { result: report, range } = await withEngineRange(
    o.query,
    c,
    dateRange,
    (engine, dr): Promise<AdoptionReport> => adoption(engine, { interval: o.interval, dateRange: dr, ctx: o.query.ctx, logDownloads }),
    { checkData: !o.logs },
  );
  const anyDownloads = report.rows.some((r) => r.downloads > 0 || r.updates > 0);
  const anyInstalls = report.rows.some((r) => r.activeInstallations > 0 || r.newInstallations > 0);
  if (!anyDownloads && !o.logs) {
    c.out.warn(`no Connect download events in this range on the ${o.query.engine} engine; load them with \`discover-metrics load-downloads LOG...\` or pass --logs DIR`);
  }
  return {
    range,
    json: report,
    tables: [adoptionTable(report), totalsTable(report)],
    chart: () => adoptionChart(report),
    empty:
      !anyDownloads && !anyInstalls
        ? `no Teleport Connect downloads or installations between ${report.resolvedDateRange?.date_from ?? dateRange.date_from} and ${report.resolvedDateRange?.date_to ?? dateRange.date_to ?? 'now'}`
        : undefined,
  };
}
