/**
 * Inline SVG charts for the HTML digest: a line chart, horizontal bars and a sparkline. Plain
 * strings, no script and no external asset, so the page works offline, in mail and in print.
 * Hand-written: a charting library would bring a browser runtime into a CLI for three shapes.
 */
export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const n = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(1)) : 0);

export interface LineSeries {
  name: string;
  values: (number | null)[];
  dashed?: boolean;
  color: string;
}

/** A line chart over shared x labels; y from 0 to the largest value. */
export function svgLineChart(labels: string[], series: LineSeries[], o: { title: string; width?: number; height?: number; format?: (v: number) => string }): string {
  const W = o.width ?? 640;
  const H = o.height ?? 220;
  const pad = { l: 48, r: 12, t: 12, b: 40 };
  const fmt = o.format ?? ((v: number) => String(Math.round(v)));
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const max = Math.max(1e-9, ...all);
  const x = (i: number) => pad.l + (labels.length <= 1 ? 0 : (i * (W - pad.l - pad.r)) / (labels.length - 1));
  const y = (v: number) => pad.t + (1 - v / max) * (H - pad.t - pad.b);
  const grid = [0, 0.5, 1]
    .map((f) => `<line x1="${pad.l}" x2="${W - pad.r}" y1="${n(y(max * f))}" y2="${n(y(max * f))}" class="grid"/><text x="${pad.l - 6}" y="${n(y(max * f)) + 4}" text-anchor="end">${esc(fmt(max * f))}</text>`)
    .join('');
  const ticks = [0, Math.floor((labels.length - 1) / 2), labels.length - 1]
    .filter((v, i, a) => v >= 0 && a.indexOf(v) === i)
    .map((i) => `<text x="${n(x(i))}" y="${H - pad.b + 16}" text-anchor="${i === 0 ? 'start' : i === labels.length - 1 ? 'end' : 'middle'}">${esc(labels[i])}</text>`)
    .join('');
  const lines = series
    .map((s) => {
      let d = '';
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || !Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${n(x(i))},${n(y(v))}`;
        pen = true;
      });
      const dots = labels.length <= 16 ? s.values.map((v, i) => (v === null ? '' : `<circle cx="${n(x(i))}" cy="${n(y(v))}" r="2.5" fill="${s.color}"/>`)).join('') : '';
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>${dots}`;
    })
    .join('');
  const legend = series
    .map((s, i) => `<g transform="translate(${pad.l + i * 190},${H - 8})"><line x1="0" x2="18" y1="-4" y2="-4" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="24" y="0">${esc(s.name)}</text></g>`)
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(o.title)}"><title>${esc(o.title)}</title>${grid}${ticks}${lines}${legend}</svg>`;
}

export interface Bar {
  label: string;
  value: number;
  /** a second, lighter bar under the first (the previous period) */
  previous?: number | null;
  text?: string;
  tone?: 'good' | 'bad' | 'neutral';
}

/** Horizontal bars, one row per item, labelled on the left and valued on the right. */
export function svgBars(bars: Bar[], o: { title: string; width?: number; format?: (v: number) => string; max?: number }): string {
  const W = o.width ?? 640;
  const row = bars.some((b) => b.previous !== undefined) ? 30 : 22;
  const labelW = 210;
  const valueW = 190; // room for the value text after the longest bar
  const H = Math.max(row, bars.length * row) + 4;
  const fmt = o.format ?? ((v: number) => String(v));
  const max = o.max ?? Math.max(1e-9, ...bars.flatMap((b) => [b.value, b.previous ?? 0]));
  const span = W - labelW - valueW;
  const body = bars
    .map((b, i) => {
      const y0 = i * row + 2;
      const w = Math.max(b.value > 0 ? 1 : 0, (b.value / max) * span);
      const tone = b.tone === 'good' ? 'var(--good)' : b.tone === 'bad' ? 'var(--bad)' : 'var(--accent)';
      const prev =
        b.previous !== undefined && b.previous !== null
          ? `<rect x="${labelW}" y="${y0 + 17}" width="${n(Math.max(b.previous > 0 ? 1 : 0, (b.previous / max) * span))}" height="6" class="prev"/>`
          : '';
      return (
        `<text x="${labelW - 8}" y="${y0 + 13}" text-anchor="end">${esc(b.label.length > 30 ? `${b.label.slice(0, 29)}…` : b.label)}</text>` +
        `<rect x="${labelW}" y="${y0 + 2}" width="${n(w)}" height="14" fill="${tone}"/>${prev}` +
        `<text x="${n(labelW + w + 6)}" y="${y0 + 13}">${esc(b.text ?? fmt(b.value))}</text>`
      );
    })
    .join('');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(o.title)}"><title>${esc(o.title)}</title>${body}</svg>`;
}

/** A small line for a table cell (values 0..1 as rates; nulls leave gaps). */
export function svgSparkline(values: (number | null)[], o: { title: string; max?: number }): string {
  const W = 120;
  const H = 28;
  const nums = values.filter((v): v is number => v !== null);
  const max = o.max ?? Math.max(1e-9, ...nums);
  const x = (i: number) => 3 + (values.length <= 1 ? 0 : (i * (W - 6)) / (values.length - 1));
  const y = (v: number) => 3 + (1 - v / max) * (H - 6);
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) return void (pen = false);
    d += `${pen ? 'L' : 'M'}${n(x(i))},${n(y(v))}`;
    pen = true;
  });
  const dots = values.map((v, i) => (v === null ? '' : `<circle cx="${n(x(i))}" cy="${n(y(v))}" r="1.8"/>`)).join('');
  return `<svg class="chart spark" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}"><title>${esc(o.title)}</title><line x1="3" x2="${W - 3}" y1="${H - 3}" y2="${H - 3}" class="grid"/><path d="${d}" fill="none" stroke="var(--accent)" stroke-width="1.5"/>${dots}</svg>`;
}
