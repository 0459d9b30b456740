/**
 * Tabular output in every format: a report's data is a list of rows plus column specs; the
 * renderer turns it into a cli-table3 table, CSV, Markdown or JSON. Logic never prints.
 */
import Table from 'cli-table3';
import { c } from './color.js';
import { formatNumber } from './format.js';

export interface Column<R> {
  key: string;
  header: string;
  align?: 'left' | 'right' | 'center';
  /** Text for terminal/markdown output; CSV and JSON use the raw value. */
  text?: (row: R) => string;
  /** Text for the terminal table only, when it differs from Markdown (a group's title shown once). */
  terminalText?: (row: R) => string;
  value?: (row: R) => unknown;
  /** Decoration for the terminal only (bar charts): left out of CSV and Markdown. */
  terminalOnly?: boolean;
  /** Data for CSV and Markdown only (too wide for a terminal table). */
  dataOnly?: boolean;
}

export interface TableSpec<R> {
  title?: string;
  columns: Column<R>[];
  rows: R[];
  /** Lines printed under the table (terminal and markdown only). */
  notes?: string[];
}

function cellValue<R>(col: Column<R>, row: R): unknown {
  if (col.value) return col.value(row);
  return (row as Record<string, unknown>)[col.key];
}

function cellText<R>(col: Column<R>, row: R, terminal = false): string {
  if (terminal && col.terminalText) return col.terminalText(row);
  if (col.text) return col.text(row);
  const v = cellValue(col, row);
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

export function renderTable<R>(spec: TableSpec<R>): string {
  spec = { ...spec, columns: spec.columns.filter((col) => !col.dataOnly) };
  const t = new Table({
    head: spec.columns.map((col) => c().bold(col.header)),
    colAligns: spec.columns.map((col) => col.align ?? 'left'),
    style: { head: [], border: [], 'padding-left': 1, 'padding-right': 1 },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const row of spec.rows) t.push(spec.columns.map((col) => cellText(col, row, true)));
  const parts: string[] = [];
  if (spec.title) parts.push(c().bold(spec.title));
  parts.push(t.toString());
  for (const n of spec.notes ?? []) parts.push(c().dim(n));
  return parts.join('\n') + '\n';
}

function dataColumns<R>(spec: TableSpec<R>): TableSpec<R> {
  return { ...spec, columns: spec.columns.filter((col) => !col.terminalOnly) };
}

export function csvEscape(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv<R>(spec: TableSpec<R>): string {
  spec = dataColumns(spec);
  const lines = [spec.columns.map((col) => csvEscape(col.key)).join(',')];
  for (const row of spec.rows) lines.push(spec.columns.map((col) => csvEscape(cellValue(col, row))).join(','));
  return lines.join('\n') + '\n';
}

export function renderMarkdown<R>(spec: TableSpec<R>): string {
  spec = dataColumns(spec);
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const out: string[] = [];
  if (spec.title) out.push(`### ${esc(spec.title)}`, '');
  out.push(`| ${spec.columns.map((col) => esc(col.header)).join(' | ')} |`);
  out.push(
    `| ${spec.columns.map((col) => (col.align === 'right' ? '---:' : col.align === 'center' ? ':---:' : '---')).join(' | ')} |`,
  );
  for (const row of spec.rows) out.push(`| ${spec.columns.map((col) => esc(cellText(col, row))).join(' | ')} |`);
  for (const n of spec.notes ?? []) out.push('', `_${esc(n)}_`);
  return out.join('\n') + '\n';
}

/** JSON with stable formatting; bigint becomes number. */
export function renderJson(data: unknown): string {
  return JSON.stringify(data, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2) + '\n';
}
