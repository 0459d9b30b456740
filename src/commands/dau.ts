/** `dau`: active Teleport Connect installations over time (RFD 97 DAU/WAU/MAU). */
import { buildDauQuery, loadConnectDefinitions, type DauQueryOptions } from '../definitions/connect.js';
import { runDauReport } from '../connect/reports.js';
import { renderDau } from '../connect/render.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';
import { explainEmpty } from './connect-empty.js';

export interface DauOptions {
  dau: DauQueryOptions;
  query: QueryOptions;
}

export async function dauCommand(o: DauOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  if (o.query.printQuery) return { queries: [buildDauQuery(defs, o.dau)] };
  const { result: report, range } = await withEngineRange(o.query, c, o.dau.dateRange, (engine, dateRange) => runDauReport(engine, defs, { ...o.dau, dateRange }, o.query.ctx));
  if (report.series.every((s) => s.data.every((v) => v === 0))) explainEmpty(c, o.query.ctx, o.dau.dateRange);
  return { ...renderDau(report), range };
}
