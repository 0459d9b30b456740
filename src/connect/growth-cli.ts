/**
 * Actions of the Connect growth commands (`lifecycle`, `retention`, `stickiness`): parse options
 * → run the report through the selected engine → render. Loaded lazily by src/commands/<name>.ts.
 */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf, type QueryOptions } from '../cli/query-options.js';
import { checkRelativeOrder, dateRangeFromOptions } from '../cli/range-options.js';
import type { DateRange } from '../query/schema.js';
import { UsageError, suggest } from '../errors.js';
import { loadConnectDefinitions, REPORT_INTERVALS, type ReportInterval } from '../definitions/connect.js';
import { buildLifecycleQuery, buildRetentionQuery, buildStickinessQuery, type RetentionKind } from '../definitions/connect-growth.js';
import { runLifecycleReport, runRetentionReport, runStickinessReport } from './growth.js';
import { renderLifecycle, renderRetention, renderShare, renderStickiness } from './growth-render.js';
import { loadShareDefinition, buildShareQueries } from '../definitions/connect-share.js';
import { runShareReport } from './share.js';
import { emit, warn } from '../output/emit.js';
import { renderJson } from '../output/table.js';
import type { Engine } from '../engines/types.js';

function interval(option: string, value: unknown, fallback: ReportInterval): ReportInterval {
  if (value === undefined || value === null) return fallback;
  const v = String(value);
  if ((REPORT_INTERVALS as readonly string[]).includes(v)) return v as ReportInterval;
  const s = suggest(v, REPORT_INTERVALS);
  throw new UsageError(`${option}: unknown value '${v}'${s ? ` (did you mean '${s}'?)` : ''}`, `Valid values: ${REPORT_INTERVALS.join(', ')}.`);
}

function range(o: Record<string, unknown>, q: QueryOptions, defaultFrom: string): DateRange {
  const r = dateRangeFromOptions(o.from as string | undefined, o.to as string | undefined, defaultFrom);
  checkRelativeOrder(r, q.ctx.now);
  return r;
}

async function withEngine<T>(command: Command, q: QueryOptions, f: (e: Engine) => Promise<T>): Promise<T> {
  const engine = await openEngine(command, q);
  try {
    return await f(engine);
  } finally {
    await engine.close();
  }
}

export async function lifecycleCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const opts = { dateRange: range(o, q, '-12w'), interval: interval('--interval', o.interval, 'week') };
  const defs = loadConnectDefinitions();
  if (q.printQuery) return void process.stdout.write(renderJson(buildLifecycleQuery(defs, opts)));
  const report = await withEngine(command, q, (e) => runLifecycleReport(e, defs, opts, q.ctx));
  if (report.periods.every((p) => p.new + p.returning + p.resurrecting + p.dormant === 0)) warn(g, 'no Teleport Connect installation was active in the range; check --from/--to');
  emit(g, renderLifecycle(report, g.format));
}

export function parseIntervals(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 120) throw new UsageError(`--intervals: expected a whole number from 1 to 120, got '${String(value)}'`);
  return n;
}

export async function retentionCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const dateRange = dateRangeFromOptions(o.from as string | undefined, o.to as string | undefined, '');
  if (!o.from) dateRange.date_from = null;
  else checkRelativeOrder(dateRange, q.ctx.now);
  const kind: RetentionKind = o.recurring ? 'recurring' : 'first_time';
  const opts = { dateRange, period: interval('--period', o.period, 'week'), intervals: parseIntervals(o.intervals ?? 8), kind };
  const defs = loadConnectDefinitions();
  if (q.printQuery) return void process.stdout.write(renderJson(buildRetentionQuery(defs, opts)));
  const report = await withEngine(command, q, (e) => runRetentionReport(e, defs, opts, q.ctx));
  if (report.cohorts.every((c) => c.size === 0)) warn(g, 'no cohort has any installation; check --from/--to and --period');
  emit(g, renderRetention(report, g.format));
}

export async function stickinessCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const opts = { dateRange: range(o, q, '-7d'), interval: interval('--interval', o.interval, 'day') };
  if (o.from === undefined && o.to === undefined) opts.dateRange.date_to = '-1d';
  const defs = loadConnectDefinitions();
  if (q.printQuery) return void process.stdout.write(renderJson(buildStickinessQuery(defs, opts)));
  const report = await withEngine(command, q, (e) => runStickinessReport(e, defs, opts, q.ctx));
  if (report.total === 0) warn(g, 'no Teleport Connect installation was active in the range; check --from/--to');
  emit(g, renderStickiness(report, g.format));
}

export async function shareCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const opts = { dateRange: range(o, q, '-12w'), interval: interval('--interval', o.interval, 'week') };
  const defs = loadConnectDefinitions();
  const share = loadShareDefinition();
  if (q.printQuery) return void process.stdout.write(renderJson(buildShareQueries(defs, share, opts)));
  const report = await withEngine(command, q, (e) => runShareReport(e, defs, share, opts, q.ctx));
  if (report.caveat) warn(g, report.caveat);
  emit(g, renderShare(report, g.format));
}
