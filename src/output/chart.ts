/** Terminal charts: horizontal bars for funnels and shares, a line chart for time series. */
import { c } from './color.js';
import type { Column } from './table.js';
import { displayWidth } from './width.js';
import { formatCompact } from './format.js';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of `width` cells for value/max, with eighth-block resolution. */
export function bar(value: number, max: number, width: number): string {
  if (!(max > 0) || !(value > 0)) return '';
  const cells = Math.max(0, Math.min(width, (value / max) * width));
  const full = Math.floor(cells);
  const rest = Math.round((cells - full) * 8);
  return '█'.repeat(full) + (rest > 0 && full < width ? EIGHTHS[Math.min(rest, 7)] : '');
}

/** A solid bar for `value` continued by a light one up to `outer` (median ▇ then p90 ░). */
export function twoToneBar(value: number, outer: number, max: number, width: number): string {
  const solid = bar(value, max, width);
  return solid + '░'.repeat(Math.max(0, Math.round((outer / (max || 1)) * width) - solid.length));
}

/** A terminal-only bar column: `value` of `max`, as wide as the table can spare (at most `width`). */
export function barColumn<R>(value: (row: R) => number, max: number, width: number, header = ''): Column<R> {
  const draw = (row: R, w: number) => bar(value(row), max, w);
  return { key: 'bar', header, terminalOnly: true, text: (row) => draw(row, width), bar: { width, draw } };
}

export interface Series {
  name: string;
  values: number[];
}

/**
 * A line chart for one or more series over shared x labels, sized to fit `width` columns
 * (the terminal's; at most 80). Uses Braille-free block/line glyphs so it reads in any terminal font.
 */
export function lineChart(labels: string[], series: Series[], opts: { width?: number; height?: number; incompleteFrom?: number } = {}): string {
  const width = Math.min(80, opts.width ?? 80);
  const height = opts.height ?? 10;
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  if (labels.length === 0 || all.length === 0) return '';
  const max = Math.max(...all, 0);
  const min = Math.min(...all, 0);
  // counts get whole-number axis labels
  const integer = all.every((v) => Number.isInteger(v));
  const yAxis = (v: number) => formatAxis(integer ? Math.round(v) : v);
  // widest of the three y labels drawn (top, middle, bottom)
  const yLabelW = Math.max(yAxis(max).length, yAxis(min).length, yAxis(max - (Math.floor((height - 1) / 2) * (max - min || 1)) / (height - 1)).length);
  const plotW = Math.max(10, width - yLabelW - 3);
  // Resample the x axis to at most plotW columns (average of the points falling in a column);
  // a few points are spread over the width (up to 8 columns apart) instead of packed at the left.
  const n = labels.length;
  const gap = n > 1 ? Math.max(1, Math.min(8, Math.floor((plotW - 1) / (n - 1)))) : 1;
  const cols = Math.min(plotW, n > 1 ? (n - 1) * gap + 1 : 1);
  const colOf = (i: number) => (n === 1 ? 0 : Math.round((i * (cols - 1)) / (n - 1)));
  const symbols = ['●', '○', '◆', '◇', '▲', '△', '■', '□'];
  const colors = [c().cyan, c().magenta, c().yellow, c().green, c().blue, c().red, c().white, c().gray];
  const grid: string[][] = Array.from({ length: height }, () => Array.from({ length: cols }, () => ' '));
  // PostHog draws the period that is not over yet dotted: here its points are hollow
  const openCol = opts.incompleteFrom !== undefined && opts.incompleteFrom < n ? colOf(opts.incompleteFrom) : Infinity;
  const range = max - min || 1;
  series.forEach((s, si) => {
    const acc = new Map<number, { sum: number; k: number }>();
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const col = colOf(i);
      const a = acc.get(col) ?? { sum: 0, k: 0 };
      a.sum += v;
      a.k += 1;
      acc.set(col, a);
    });
    let prevRow: number | undefined;
    let prevCol = -1;
    for (let col = 0; col < cols; col++) {
      const a = acc.get(col);
      if (!a) continue;
      const v = a.sum / a.k;
      const row = height - 1 - Math.round(((v - min) / range) * (height - 1));
      if (prevRow !== undefined && col - prevCol > 1) {
        // spread points: a dotted line between them ('·' marks an incomplete period's point)
        for (let x = prevCol + 1; x < col; x++) {
          const r = Math.round(prevRow + ((row - prevRow) * (x - prevCol)) / (col - prevCol));
          if (grid[r]![x] === ' ') grid[r]![x] = colors[si % colors.length]!('.');
        }
      } else if (prevRow !== undefined && Math.abs(row - prevRow) > 1) {
        const [lo, hi] = row < prevRow ? [row, prevRow] : [prevRow, row];
        for (let r = lo + 1; r < hi; r++) if (grid[r]![col] === ' ') grid[r]![col] = colors[si % colors.length]!('│');
      }
      const glyph = series.length === 1 ? '•' : symbols[si % symbols.length]!;
      grid[row]![col] = col >= openCol ? c().dim(glyph === '•' ? '◦' : '·') : colors[si % colors.length]!(glyph);
      prevRow = row;
      prevCol = col;
    }
  });
  const lines: string[] = [];
  for (let r = 0; r < height; r++) {
    const yv = max - (r * range) / (height - 1);
    const showLabel = r === 0 || r === height - 1 || r === Math.floor((height - 1) / 2);
    lines.push(`${(showLabel ? yAxis(yv) : '').padStart(yLabelW)} ┤${grid[r]!.join('')}`.trimEnd());
  }
  lines.push(`${' '.repeat(yLabelW)} └${'─'.repeat(cols)}`);
  // x labels: first, middle, last
  const first = labels[0]!;
  const last = labels[n - 1]!;
  const mid = labels[Math.floor((n - 1) / 2)]!;
  const axis = Array.from({ length: cols + 2 }, () => ' ');
  const place = (text: string, at: number) => {
    const start = Math.max(0, Math.min(cols + 2 - text.length, at));
    for (let i = 0; i < text.length; i++) axis[start + i] = text[i]!;
  };
  place(first, 1);
  if (n > 2 && cols > first.length + mid.length + last.length + 4) place(mid, Math.floor(cols / 2) - Math.floor(mid.length / 2) + 1);
  if (n > 1 && cols + 2 >= first.length + last.length + 3) place(last, cols + 2 - last.length);
  lines.push(' '.repeat(yLabelW) + axis.join('').trimEnd());
  if (openCol !== Infinity) lines.push(c().dim(`${' '.repeat(yLabelW)}  ${series.length === 1 ? '◦' : '·'} not over yet (incomplete period)`));
  if (series.length > 1) {
    // the legend, as many entries a line as the width takes
    let line = '';
    for (const [si, s] of series.entries()) {
      const entry = `${symbols[si % symbols.length]} ${s.name}`;
      if (line && displayWidth(line) + 3 + displayWidth(entry) > width) {
        lines.push(line);
        line = '';
      }
      line += (line ? '   ' : '') + colors[si % colors.length]!(entry);
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}

const formatAxis = formatCompact;
