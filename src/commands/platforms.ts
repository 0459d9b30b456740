/** `platforms`: Teleport Connect installations by OS, architecture and versions. */
import { findDimension, loadConnectDefinitions } from '../definitions/connect.js';
import { platformQueries, runPlatformsReport } from '../connect/reports.js';
import { renderPlatforms } from '../connect/render.js';
import type { DateRange } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';
import { explainEmpty } from './connect-empty.js';

export interface PlatformsOptions {
  dateRange: DateRange;
  /** Dimension keys (--dimension); all of them when absent. */
  dimensions?: string[];
  query: QueryOptions;
}

export async function platformsCommand(o: PlatformsOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  const dims = o.dimensions ? o.dimensions.map((k) => findDimension(defs, k, '--dimension')) : defs.dimensions;
  if (o.query.printQuery) return { queries: platformQueries(defs, o.dateRange, dims) };
  const { result: report, range } = await withEngineRange(o.query, c, o.dateRange, (engine, dateRange) => runPlatformsReport(engine, defs, dateRange, o.query.ctx, dims));
  if (report.activeInstallations === 0) explainEmpty(c, o.query.ctx, o.dateRange);
  return { ...renderPlatforms(report), range };
}
