/** Terminal charts: horizontal bars for funnels and shares, a line chart for time series. */
import { c } from './color.js';

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of `width` cells for value/max, with eighth-block resolution. */
export function bar(value: number, max: number, width: number): string {
  if (!(max > 0) || !(value > 0)) return '';
  const cells = Math.max(0, Math.min(width, (value / max) * width));
  const full = Math.floor(cells);
  const rest = Math.round((cells - full) * 8);
  return '█'.repeat(full) + (rest > 0 && full < width ? EIGHTHS[Math.min(rest, 7)] : '');
}

export interface Series {
  name: string;
  values: number[];
}

/**
 * A line chart for one or more series over shared x labels, sized to fit `width` columns
 * (default 80). Uses Braille-free block/line glyphs so it reads in any terminal font.
 */
export function lineChart(labels: string[], series: Series[], opts: { width?: number; height?: number; incompleteFrom?: number } = {}): string {
  const width = opts.width ?? 80;
  const height = opts.height ?? 10;
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  if (labels.length === 0 || all.length === 0) return '';
  const max = Math.max(...all, 0);
  const min = Math.min(...all, 0);
  // widest of the three y labels drawn (top, middle, bottom)
  const yLabelW = Math.max(formatAxis(max).length, formatAxis(min).length, formatAxis(max - (Math.floor((height - 1) / 2) * (max - min || 1)) / (height - 1)).length);
  const plotW = Math.max(10, width - yLabelW - 3);
  // Resample the x axis to at most plotW columns (average of the points falling in a column).
  const n = labels.length;
  const cols = Math.min(plotW, n);
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
    for (let col = 0; col < cols; col++) {
      const a = acc.get(col);
      if (!a) continue;
      const v = a.sum / a.k;
      const row = height - 1 - Math.round(((v - min) / range) * (height - 1));
      if (prevRow !== undefined && Math.abs(row - prevRow) > 1) {
        const [lo, hi] = row < prevRow ? [row, prevRow] : [prevRow, row];
        for (let r = lo + 1; r < hi; r++) if (grid[r]![col] === ' ') grid[r]![col] = colors[si % colors.length]!('│');
      }
      const glyph = series.length === 1 ? '•' : symbols[si % symbols.length]!;
      grid[row]![col] = col >= openCol ? c().dim(glyph === '•' ? '◦' : '·') : colors[si % colors.length]!(glyph);
      prevRow = row;
    }
  });
  const lines: string[] = [];
  for (let r = 0; r < height; r++) {
    const yv = max - (r * range) / (height - 1);
    const showLabel = r === 0 || r === height - 1 || r === Math.floor((height - 1) / 2);
    lines.push(`${(showLabel ? formatAxis(yv) : '').padStart(yLabelW)} ┤${grid[r]!.join('')}`);
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
    lines.push(
      series.map((s, si) => colors[si % colors.length]!(`${symbols[si % symbols.length]} ${s.name}`)).join('   '),
    );
  }
  return lines.join('\n') + '\n';
}

function formatAxis(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
