/**
 * `retention`: cohorts of Teleport Connect installations and how many come back in each later
 * period (PostHog RetentionQuery), as a triangle table with the mean curve.
 */
import { loadConnectDefinitions } from '../definitions/connect.js';
import { buildRetentionQuery, type RetentionOptions as RetentionQueryOptions } from '../definitions/connect-growth.js';
import { runRetentionReport } from '../connect/growth.js';
import { renderRetention } from '../connect/growth-render.js';
import type { CommandResult } from '../output/report.js';
import { withEngine, type CommandContext, type QueryOptions } from './context.js';
import { resolveReportRange } from '../time/index.js';

export interface RetentionOptions {
  retention: RetentionQueryOptions;
  query: QueryOptions;
}

export async function retentionCommand(o: RetentionOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  if (o.query.printQuery) return { queries: [buildRetentionQuery(defs, o.retention)] };
  const report = await withEngine(o.query, c, (e) => runRetentionReport(e, defs, o.retention, o.query.ctx));
  if (report.cohorts.every((x) => x.size === 0)) c.out.warn('no cohort has any installation; check --from/--to and --period');
  // PostHog's retention counts back from date_to by totalIntervals periods: the range it covers
  // runs from the first cohort's first day to date_to
  const first = report.cohorts[0]?.period;
  const range = first ? resolveReportRange({ date_from: first, date_to: o.retention.dateRange?.date_to ?? null }, o.query.ctx, { where: '--to' }).range : undefined;
  return { ...renderRetention(report), ...(range ? { range } : {}) };
}
