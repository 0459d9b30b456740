/**
 * Tabular output in every format: a report's data is a list of rows plus column specs; the
 * renderer turns it into a cli-table3 table, CSV, Markdown or JSON. Logic never prints.
 */
import Table from 'cli-table3';
import { c } from './color.js';
import { formatNumber, roundForData } from './format.js';
import { displayWidth, truncate, wrapText } from './width.js';

export interface Column<R> {
  key: string;
  header: string;
  /** A shorter header used when the table must narrow to fit the terminal. */
  shortHeader?: string;
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
  /** Fitting a narrow terminal: columns with a rank are left out, lowest rank first. */
  drop?: number;
  /**
   * Fitting a narrow terminal: the column may narrow to `minWidth` (default 12), its text wrapped
   * in the cell; default: left-aligned text columns may, numbers (right-aligned) never do.
   */
  wrap?: boolean;
  minWidth?: number;
  /** A terminal-only bar, drawn at the width the terminal leaves (at most `width`, at least 6). */
  bar?: { width: number; draw: (row: R, width: number) => string };
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

export interface FitOptions {
  /** Terminal columns to fit in; undefined: the full layout. */
  width?: number;
}

const MIN_BAR = 6;

/**
 * A terminal table that fits `width`: bars narrow (then go), low-value columns (`drop`) go,
 * long text columns (`wrap`) narrow and wrap in their cells, padding shrinks; a matrix still too
 * wide is printed in pages of columns, each led by the first column; failing that, each row
 * becomes a block of `Header  value` lines.
 */
export function renderTable<R>(spec: TableSpec<R>, o: FitOptions = {}): string {
  let columns = spec.columns.filter((col) => !col.dataOnly);
  const barWidth = new Map(columns.filter((col) => col.bar).map((col) => [col, col.bar!.width]));
  const wrapped = new Map<Column<R>, number>();
  const header = new Map(columns.map((col) => [col, col.header]));
  const cell = (col: Column<R>, row: R) => (col.bar ? col.bar.draw(row, barWidth.get(col)!) : cellText(col, row, true));
  const natural = new Map(columns.map((col) => [col, col.bar ? col.bar.width : Math.max(displayWidth(col.header), ...spec.rows.map((row) => maxLineWidth(cell(col, row))))]));
  const widthOf = (col: Column<R>) => (col.bar ? Math.max(displayWidth(header.get(col)!), barWidth.get(col)!) : (wrapped.get(col) ?? natural.get(col)!));
  // content + one space each side + one border per column, plus the closing border
  const total = () => columns.reduce((t, col) => t + widthOf(col) + 3, 1);
  const width = o.width;
  let stacked = false;
  let padding = 1;
  const pages: Column<R>[][] = [];
  if (width !== undefined && total() > width) {
    for (const col of columns) {
      if (col.shortHeader === undefined) continue;
      header.set(col, col.shortHeader);
      if (!col.bar) natural.set(col, Math.max(displayWidth(col.shortHeader), ...spec.rows.map((row) => maxLineWidth(cell(col, row)))));
    }
    for (const col of barWidth.keys()) barWidth.set(col, Math.max(Math.min(MIN_BAR, col.bar!.width), col.bar!.width - (total() - width)));
    const ranked = columns.filter((col) => col.drop !== undefined).sort((a, b) => a.drop! - b.drop!);
    for (const col of ranked) if (total() > width) columns = columns.filter((x) => x !== col);
    if (total() > width) columns = columns.filter((col) => !col.bar);
    // narrow the widest wrappable column one cell at a time, so the wrapped columns end up even
    const wraps = columns.filter((col) => !col.bar && (col.wrap ?? (col.align ?? 'left') === 'left'));
    const floor = (col: Column<R>) => Math.min(natural.get(col)!, Math.max(col.minWidth ?? 12, ...header.get(col)!.split(' ').map(displayWidth)));
    for (let excess = total() - width; excess > 0; excess--) {
      const widest = wraps.filter((col) => widthOf(col) > floor(col)).sort((a, b) => widthOf(b) - widthOf(a))[0];
      if (!widest) break;
      wrapped.set(widest, widthOf(widest) - 1);
    }
    // then one space of padding instead of two
    if (total() > width) padding = 0;
    const used = (cols: Column<R>[]) => cols.reduce((t, col) => t + widthOf(col) + 2, 1);
    if (used(columns) > width) {
      // a wide matrix: its columns in pages, each led by the first column; else a block per row
      const [key, ...rest] = columns;
      if (key && rest.every((col) => used([key, col]) <= width)) {
        for (const col of rest) {
          const page = pages[pages.length - 1];
          if (page && used([...page, col]) <= width) page.push(col);
          else pages.push([key, col]);
        }
      } else stacked = true;
    }
  }
  const grid = (cols: Column<R>[]) => {
    const t = new Table({
      // cli-table3 takes cell objects in the header too; its types say strings
      head: cols.map((col) => ({ content: c().bold(header.get(col)!), wordWrap: wrapped.has(col) })) as unknown as string[],
      colAligns: cols.map((col) => col.align ?? 'left'),
      ...(wrapped.size || padding === 0 ? { colWidths: cols.map((col) => widthOf(col) + 1 + padding) } : {}),
      style: { head: [], border: [], 'padding-left': padding, 'padding-right': 1 },
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    });
    for (const row of spec.rows) t.push(cols.map((col) => (wrapped.has(col) ? { content: cell(col, row), wordWrap: true } : cell(col, row))));
    return t.toString();
  };
  const parts: string[] = [];
  if (spec.title) parts.push(...wrapText(spec.title, width).map((l) => c().bold(l)));
  if (stacked) parts.push(stackedRows(columns, spec.rows, cell, (col) => header.get(col)!, width!));
  else if (pages.length) parts.push(...pages.map(grid));
  else parts.push(grid(columns));
  for (const n of spec.notes ?? []) parts.push(...wrapText(n, width, '  ').map((l) => c().dim(l)));
  return parts.join('\n') + '\n';
}

function maxLineWidth(s: string): number {
  return Math.max(0, ...s.split('\n').map(displayWidth));
}

/** The narrowest layout: the first column heads a block of `Header  value` lines per row. */
function stackedRows<R>(columns: Column<R>[], rows: R[], cell: (col: Column<R>, row: R) => string, header: (col: Column<R>) => string, width: number): string {
  const [head, ...rest] = columns.filter((col) => !col.bar);
  if (!head) return '';
  const labelW = Math.max(0, ...rest.map((col) => displayWidth(header(col))));
  const pad = ' '.repeat(labelW + 4);
  const blocks = rows.map((row) => {
    const lines = [c().bold(truncate(cell(head, row), width))];
    for (const col of rest) {
      const text = cell(col, row);
      if (text === '') continue;
      const [first = '', ...more] = wrapText(text, width - pad.length);
      lines.push(`  ${header(col).padEnd(labelW)}  ${first}`, ...more.map((l) => pad + l));
    }
    return lines.join('\n');
  });
  return blocks.join('\n');
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
  for (const row of spec.rows) lines.push(spec.columns.map((col) => csvEscape(roundForData(cellValue(col, row)))).join(','));
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
