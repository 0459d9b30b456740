/** `features`: Teleport Connect feature adoption per feature event. */
import { loadConnectDefinitions } from '../definitions/connect.js';
import { featureQueries, runFeaturesReport } from '../connect/reports.js';
import { renderFeatures } from '../connect/render.js';
import type { DateRange } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';
import { explainEmpty } from './connect-empty.js';

export interface FeaturesOptions {
  dateRange: DateRange;
  query: QueryOptions;
}

export async function featuresCommand(o: FeaturesOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  if (o.query.printQuery) return { queries: featureQueries(defs, o.dateRange) };
  const { result: report, range } = await withEngineRange(o.query, c, o.dateRange, (engine, dateRange) => runFeaturesReport(engine, defs, dateRange, o.query.ctx));
  if (report.activeInstallations === 0) explainEmpty(c, o.query.ctx, o.dateRange);
  return { ...renderFeatures(report), range };
}
