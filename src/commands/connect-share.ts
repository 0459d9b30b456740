/**
 * `connect-share`: per period, the share of a cluster's active users who used Teleport Connect
 * ((cluster, user) pairs with Connect events ÷ pairs active on the cluster side).
 */
import { loadConnectDefinitions } from '../definitions/connect.js';
import { buildShareQueries, loadShareDefinition, type ShareQueryOptions } from '../definitions/connect-share.js';
import { runShareReport } from '../connect/share.js';
import { renderShare } from '../connect/growth-render.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface ConnectShareOptions {
  share: ShareQueryOptions;
  query: QueryOptions;
}

export async function connectShareCommand(o: ConnectShareOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  const share = loadShareDefinition();
  if (o.query.printQuery) return { queries: buildShareQueries(defs, share, o.share) };
  const { result: report, range } = await withEngineRange(o.query, c, o.share.dateRange, (e, dateRange) => runShareReport(e, defs, share, { ...o.share, dateRange }, o.query.ctx));
  if (report.caveat) c.out.warn(report.caveat);
  return { ...renderShare(report), range };
}
