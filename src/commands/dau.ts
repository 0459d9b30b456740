/** `dau`: active Teleport Connect installations over time (RFD 97 DAU/WAU/MAU). */
import { buildDauQuery, loadConnectDefinitions, type DauQueryOptions } from '../definitions/connect.js';
import { runDauReport, type DauReport } from '../connect/reports.js';
import { maxDrop, type DropRow } from './thresholds.js';
import { renderDau } from '../connect/render.js';
import type { CommandResult } from '../output/report.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';
import { explainEmpty } from './connect-empty.js';

export interface DauOptions {
  dau: DauQueryOptions;
  query: QueryOptions;
  /** --max-drop: the last complete period falling by more than this share fails (exit 1) */
  maxDrop?: number;
}

export async function dauCommand(o: DauOptions, c: CommandContext): Promise<CommandResult> {
  const defs = loadConnectDefinitions();
  if (o.query.printQuery) return { queries: [buildDauQuery(defs, o.dau)] };
  const { result: report, range } = await withEngineRange(o.query, c, o.dau.dateRange, (engine, dateRange) => runDauReport(engine, defs, { ...o.dau, dateRange }, o.query.ctx));
  if (report.series.every((s) => s.data.every((v) => v === 0))) explainEmpty(c, o.query.ctx, o.dau.dateRange);
  return { ...renderDau(report), range, failure: maxDrop('dau', dropRows(report), o.maxDrop) };
}

/** Per series: the last complete period against the one before it, or (compare) the previous range's. */
function dropRows(r: DauReport): DropRow[] {
  const current = r.series.filter((s) => s.compare !== 'previous');
  const previous = r.series.filter((s) => s.compare === 'previous');
  return current.flatMap((s): DropRow[] => {
    const last = (r.incompleteFrom ?? s.data.length) - 1;
    const prev = previous.find((p) => JSON.stringify(p.breakdownValue) === JSON.stringify(s.breakdownValue));
    if (last < 0) return [];
    if (prev) return [{ name: s.name, before: prev.data[last] ?? 0, after: s.data[last] ?? 0, beforeLabel: prev.labels[last] ?? '', afterLabel: s.labels[last] ?? '' }];
    if (last < 1) return [];
    return [{ name: s.name, before: s.data[last - 1] ?? 0, after: s.data[last] ?? 0, beforeLabel: s.labels[last - 1] ?? '', afterLabel: s.labels[last] ?? '' }];
  });
}
