/**
 * `stickiness`: on how many days (or weeks, months) of a range each Teleport Connect installation
 * was active (PostHog StickinessQuery).
 */
import { loadConnectDefinitions } from '../definitions/connect.js';
import { buildStickinessQuery, type StickinessOptions as StickinessQueryOptions } from '../definitions/connect-growth.js';
import { runStickinessReport } from '../connect/growth.js';
import { renderStickiness } from '../connect/growth-render.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface StickinessOptions {
  stickiness: StickinessQueryOptions;
  query: QueryOptions;
}

export async function stickinessCommand(o: StickinessOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  if (o.query.printQuery) return { queries: [buildStickinessQuery(defs, o.stickiness)] };
  const { result: report, range } = await withEngineRange(o.query, c, o.stickiness.dateRange, (e, dateRange) => runStickinessReport(e, defs, { ...o.stickiness, dateRange }, o.query.ctx));
  if (report.total === 0) c.out.warn('no Teleport Connect installation was active in the range; check --from/--to');
  return { ...renderStickiness(report), range };
}
