/** Action behind `adoption`: options → queries through the engine → tables and a chart. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { checkRelativeOrder, dateRangeFromOptions } from '../cli/range-options.js';
import { emit, warn } from '../output/emit.js';
import { renderJson } from '../output/table.js';
import { skippedMessage } from '../downloads/report.js';
import type { PeriodInterval } from '../time/index.js';
import { adoption, downloadsQuery, installationsQuery, type AdoptionReport } from './index.js';
import { adoptionChart, adoptionTable, totalsTable } from './render.js';

interface Flags {
  interval: PeriodInterval;
  from: string;
  to?: string;
  logs?: string[];
  salt?: string;
  strict?: boolean;
}

export async function adoptionCommand(cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const q = queryOptionsOf(cmd);
  const o = cmd.opts<Flags>();
  const range = dateRangeFromOptions(o.from, o.to, '-90d');
  checkRelativeOrder(range, q.ctx.now);
  const dateRange = { date_from: range.date_from, date_to: range.date_to };
  if (q.printQuery) {
    const queries = [installationsQuery('dau', { interval: o.interval, dateRange }), installationsQuery('first_time_for_user', { interval: o.interval, dateRange })];
    if (!o.logs) queries.push(downloadsQuery({ interval: o.interval, dateRange }));
    process.stdout.write(renderJson(queries));
    return;
  }
  // Read the logs first: a bad log with --strict fails before any query runs.
  let logDownloads;
  if (o.logs) {
    const { analyzeDownloadLogs, resolveSalt } = await import('../downloads/index.js');
    const analysis = await analyzeDownloadLogs(o.logs, { salt: await resolveSalt(undefined, o.salt), strict: o.strict });
    const skipped = skippedMessage(analysis.stats);
    if (skipped) warn(g, skipped);
    if (analysis.downloads.length === 0) warn(g, `no Teleport Connect downloads in ${analysis.stats.files} log file(s) (${analysis.stats.requests} requests read)`);
    logDownloads = analysis.downloads;
  }
  const engine = await openEngine(cmd, q);
  let report: AdoptionReport;
  try {
    report = await adoption(engine, { interval: o.interval, dateRange, ctx: q.ctx, logDownloads });
  } finally {
    await engine.close();
  }
  const anyDownloads = report.rows.some((r) => r.downloads > 0 || r.updates > 0);
  const anyInstalls = report.rows.some((r) => r.activeInstallations > 0 || r.newInstallations > 0);
  if (!anyDownloads && !o.logs) {
    warn(g, `no Connect download events in this range on the ${q.engine} engine; load them with \`discover-metrics load-downloads LOG...\` or pass --logs DIR`);
  }
  if (!anyDownloads && !anyInstalls && g.format !== 'json') {
    process.stdout.write(`no Teleport Connect downloads or installations between ${report.resolvedDateRange?.date_from ?? range.date_from} and ${report.resolvedDateRange?.date_to ?? range.date_to ?? 'now'}\n`);
    return;
  }
  emit(g, { json: report, table: adoptionTable(report), more: [totalsTable(report)], extra: adoptionChart(report) });
}
