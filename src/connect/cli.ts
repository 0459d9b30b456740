/**
 * Actions of the Connect commands (`dau`, `features`, `platforms`): parse options → run the
 * report through the selected engine → render. Loaded lazily by src/commands/<name>.ts.
 */
import type { Command } from 'commander';
import { globalsOf, type GlobalOptions } from '../cli/globals.js';
import { openEngine, queryOptionsOf, type QueryOptions } from '../cli/query-options.js';
import { checkRelativeOrder, dateRangeFromOptions } from '../cli/range-options.js';
import type { DateRange } from '../query/schema.js';
import { UsageError, suggest } from '../errors.js';
import {
  ACTIVE_MATHS,
  REPORT_INTERVALS,
  findDimension,
  loadConnectDefinitions,
  buildDauQuery,
  type ActiveMath,
  type DauQueryOptions,
  type ReportInterval,
} from '../definitions/connect.js';
import { featureQueries, platformQueries, runDauReport, runFeaturesReport, runPlatformsReport } from './reports.js';
import { renderDau, renderFeatures, renderPlatforms } from './render.js';
import { emit, warn } from '../output/emit.js';
import { renderJson } from '../output/table.js';

export const DEFAULT_FROM = '-30d';

function choice<T extends string>(option: string, value: unknown, valid: readonly T[], fallback: T): T {
  if (value === undefined || value === null) return fallback;
  const v = String(value);
  if ((valid as readonly string[]).includes(v)) return v as T;
  const s = suggest(v, valid);
  throw new UsageError(`${option}: unknown value '${v}'${s ? ` (did you mean '${s}'?)` : ''}`, `Valid values: ${valid.join(', ')}.`);
}

function rangeOf(o: Record<string, unknown>, q: QueryOptions): DateRange {
  const dateRange = dateRangeFromOptions(o.from as string | undefined, o.to as string | undefined, DEFAULT_FROM);
  checkRelativeOrder(dateRange, q.ctx.now);
  return dateRange;
}

/** Parse the `dau` options into report options (exported for tests). */
export function dauOptionsFrom(o: Record<string, unknown>, q: QueryOptions): DauQueryOptions {
  const defs = loadConnectDefinitions();
  return {
    dateRange: rangeOf(o, q),
    interval: choice<ReportInterval>('--interval', o.interval, REPORT_INTERVALS, 'day'),
    math: choice<ActiveMath>('--math', o.math, ACTIVE_MATHS, 'dau'),
    breakdown: o.breakdown !== undefined ? findDimension(defs, String(o.breakdown)) : undefined,
    compare: !!o.compare || typeof o.compareTo === 'string',
    compareTo: typeof o.compareTo === 'string' ? o.compareTo : undefined,
  };
}

/**
 * Nothing active in the range. (An empty local store never gets here: the local engine refuses it
 * with a hint to load or seed events.) Say so on stderr so an all-zero table is not mistaken.
 */
function explainEmpty(q: QueryOptions, g: GlobalOptions, range: DateRange): void {
  warn(
    g,
    `no Teleport Connect installation sent events between ${range.date_from} and ${range.date_to ?? 'today'} (${q.ctx.timezone}); ` +
      'check --from/--to, or whether Connect events were loaded',
  );
}

export async function dauCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const opts = dauOptionsFrom(o, q);
  const defs = loadConnectDefinitions();
  if (q.printQuery) {
    process.stdout.write(renderJson(buildDauQuery(defs, opts)));
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const report = await runDauReport(engine, defs, opts, q.ctx);
    if (report.series.every((s) => s.data.every((v) => v === 0))) explainEmpty(q, g, opts.dateRange);
    emit(g, renderDau(report, g.format));
  } finally {
    await engine.close();
  }
}

export async function featuresCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const dateRange = rangeOf(o, q);
  const defs = loadConnectDefinitions();
  if (q.printQuery) {
    process.stdout.write(renderJson(featureQueries(defs, dateRange)));
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const report = await runFeaturesReport(engine, defs, dateRange, q.ctx);
    if (report.activeInstallations === 0) explainEmpty(q, g, dateRange);
    emit(g, renderFeatures(report, g.format));
  } finally {
    await engine.close();
  }
}

export async function platformsCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, unknown>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const dateRange = rangeOf(o, q);
  const defs = loadConnectDefinitions();
  const dims =
    o.dimension !== undefined
      ? String(o.dimension)
          .split(',')
          .map((k) => findDimension(defs, k.trim(), '--dimension'))
      : defs.dimensions;
  if (q.printQuery) {
    process.stdout.write(renderJson(platformQueries(defs, dateRange, dims)));
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const report = await runPlatformsReport(engine, defs, dateRange, q.ctx, dims);
    if (report.activeInstallations === 0) explainEmpty(q, g, dateRange);
    emit(g, renderPlatforms(report, g.format));
  } finally {
    await engine.close();
  }
}
