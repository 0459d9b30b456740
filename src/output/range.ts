/**
 * The range every report states, added in one place: a footer line under the last table
 * (terminal and Markdown), `dateRange` with the resolved dates next to the input in JSON, and
 * the same dates as columns of every CSV row.
 */
import type { ReportRange } from '../time/index.js';
import type { TableSpec } from './table.js';

/** "2026-10-22 → 2026-11-20, UTC (-30d → today; today is not over)". */
export function rangeFooter(r: ReportRange): string {
  const asked = `${r.from} → ${r.to}`;
  const plain = asked === `${r.firstDay} → ${r.lastDay}`;
  const notes = [
    ...(plain ? [] : [r.startsAtData ? `${asked}, from the store's first event` : asked]),
    ...(r.incomplete ? [`${r.lastDay} is not over`] : []),
  ];
  return `Range: ${r.firstDay} → ${r.lastDay}, ${r.timezone}${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** What JSON carries: the resolved dates next to the input, never a null end. */
export function rangeJson(r: ReportRange): Record<string, unknown> {
  return {
    date_from: r.date_from,
    date_to: r.date_to,
    timezone: r.timezone,
    from: r.from,
    to: r.to,
    incomplete: r.incomplete,
    ...(r.startsAtData ? { startsAtData: r.startsAtData } : {}),
  };
}

/** The footer under the last table (terminal and Markdown). */
export function withRangeFooter(tables: TableSpec<any>[], r: ReportRange): TableSpec<any>[] {
  if (tables.length === 0) return tables;
  const last = tables[tables.length - 1]!;
  return [...tables.slice(0, -1), { ...last, notes: [...(last.notes ?? []), rangeFooter(r)] }];
}

/** The resolved range as the last columns of every CSV row (a column the table has already is kept). */
export function withRangeColumns(tables: TableSpec<any>[], r: ReportRange): TableSpec<any>[] {
  const extra = [
    { key: 'range_from', value: () => r.from },
    { key: 'range_to', value: () => r.to },
    { key: 'date_from', value: () => r.date_from },
    { key: 'date_to', value: () => r.date_to },
  ];
  return tables.map((t) => ({ ...t, columns: [...t.columns, ...extra.filter((x) => !t.columns.some((c) => c.key === x.key)).map((x) => ({ ...x, header: x.key }))] }));
}

/** JSON with `dateRange` resolved (an object result keeps its key order; others are wrapped). */
export function withRangeJson(json: unknown, r: ReportRange): unknown {
  if (json && typeof json === 'object' && !Array.isArray(json)) return { ...(json as object), dateRange: rangeJson(r) };
  return json;
}
