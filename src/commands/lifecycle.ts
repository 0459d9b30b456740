/**
 * `lifecycle`: new / returning / resurrecting / dormant Teleport Connect installations per period
 * (PostHog LifecycleQuery).
 */
import { loadConnectDefinitions } from '../definitions/connect.js';
import { buildLifecycleQuery, type LifecycleOptions as LifecycleQueryOptions } from '../definitions/connect-growth.js';
import { runLifecycleReport } from '../connect/growth.js';
import { renderLifecycle } from '../connect/growth-render.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface LifecycleOptions {
  lifecycle: LifecycleQueryOptions;
  query: QueryOptions;
}

export async function lifecycleCommand(o: LifecycleOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  if (o.query.printQuery) return { queries: [buildLifecycleQuery(defs, o.lifecycle)] };
  const { result: report, range } = await withEngineRange(o.query, c, o.lifecycle.dateRange, (e, dateRange) => runLifecycleReport(e, defs, { ...o.lifecycle, dateRange }, o.query.ctx));
  if (report.periods.every((p) => p.new + p.returning + p.resurrecting + p.dormant === 0)) c.out.warn('no Teleport Connect installation was active in the range; check --from/--to');
  return { ...renderLifecycle(report), range };
}
