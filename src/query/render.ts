/**
 * Readable summaries of PostHog query responses (the table/csv/markdown formats of
 * `query run`); `--format json` prints the response itself.
 */
import type { PostHogQuery, QueryResponse } from '../engines/types.js';
import type { TableSpec } from '../output/table.js';
import { bar } from '../output/chart.js';

type Obj = Record<string, unknown>;

export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '';
  if (s < 60) return `${Math.round(s * 10) / 10}s`;
  if (s < 3600) return `${Math.round((s / 60) * 10) / 10}m`;
  if (s < 86400) return `${Math.round((s / 3600) * 10) / 10}h`;
  return `${Math.round((s / 86400) * 10) / 10}d`;
}

function pct(a: number, b: number): number | null {
  return b > 0 ? Math.round((a / b) * 1000) / 10 : null;
}

interface StepRow {
  breakdown: string;
  step: number;
  name: string;
  count: number;
  ofFirst: number | null;
  ofPrevious: number | null;
  average: number | null;
  median: number | null;
}

function funnelStepsTable(results: Obj[][], title: string): TableSpec<StepRow> {
  const rows: StepRow[] = [];
  for (const steps of results) {
    const first = (steps[0]?.count as number) ?? 0;
    steps.forEach((s, i) => {
      const count = s.count as number;
      rows.push({
        breakdown: s.breakdown_value === undefined ? '' : JSON.stringify(s.breakdown_value),
        step: i + 1,
        name: String(s.custom_name ?? s.name ?? ''),
        count,
        ofFirst: pct(count, first),
        ofPrevious: i === 0 ? null : pct(count, (steps[i - 1]!.count as number) ?? 0),
        average: (s.average_conversion_time as number | null) ?? null,
        median: (s.median_conversion_time as number | null) ?? null,
      });
    });
  }
  const hasBreakdown = rows.some((r) => r.breakdown !== '');
  return {
    title,
    columns: [
      ...(hasBreakdown ? [{ key: 'breakdown', header: 'Breakdown' }] : []),
      { key: 'step', header: '#', align: 'right' as const },
      { key: 'name', header: 'Step' },
      { key: 'count', header: 'Count', align: 'right' as const },
      { key: 'ofFirst', header: '% of first', align: 'right' as const, text: (r: StepRow) => (r.ofFirst === null ? '' : `${r.ofFirst}%`) },
      { key: 'ofPrevious', header: '% of previous', align: 'right' as const, text: (r: StepRow) => (r.ofPrevious === null ? '' : `${r.ofPrevious}%`) },
      { key: 'average', header: 'Avg time', align: 'right' as const, text: (r: StepRow) => formatSeconds(r.average) },
      { key: 'median', header: 'Median time', align: 'right' as const, text: (r: StepRow) => formatSeconds(r.median) },
    ],
    rows,
  };
}

/** A table summarizing any query response; falls back to one JSON cell per result. */
export function summarize(query: PostHogQuery, res: QueryResponse): TableSpec<any> {
  const results = res.results;
  const kind = query.kind;
  const range = res.resolved_date_range as { date_from?: string; date_to?: string } | undefined;
  const span = range?.date_from ? ` (${range.date_from} – ${range.date_to})` : '';
  if (kind === 'FunnelsQuery') {
    const viz = ((query.funnelsFilter as Obj | undefined)?.funnelVizType as string | undefined) ?? 'steps';
    if (Array.isArray(results) && results.length === 0) {
      return { title: `Funnel${span}`, columns: [{ key: 'note', header: 'Result' }], rows: [{ note: 'nobody entered the funnel' }] };
    }
    if (viz === 'time_to_convert') {
      const r = results as { bins: [number, number][]; average_conversion_time: number | null };
      const max = Math.max(1, ...r.bins.map((b) => b[1]));
      return {
        title: `Time to convert${span}`,
        columns: [
          { key: 'from', header: 'From', align: 'right', text: (b: [number, number]) => formatSeconds(b[0]), value: (b: [number, number]) => b[0] },
          { key: 'count', header: 'Count', align: 'right', value: (b: [number, number]) => b[1] },
          { key: 'bar', header: '', terminalOnly: true, text: (b: [number, number]) => bar(b[1], max, 30) },
        ],
        rows: r.bins,
        notes: [`average: ${formatSeconds(r.average_conversion_time)}`],
      };
    }
    if (viz === 'trends') {
      const series = results as { days: string[]; data: number[] }[];
      const rows = series.flatMap((s) => s.days.map((d, i) => ({ period: d, rate: s.data[i] })));
      return {
        title: `Funnel conversion by period${span}`,
        columns: [
          { key: 'period', header: 'Period' },
          { key: 'rate', header: 'Conversion %', align: 'right' },
        ],
        rows,
      };
    }
    const arr = results as Obj[] | Obj[][];
    const grouped = Array.isArray(arr[0]) ? (arr as Obj[][]) : [arr as Obj[]];
    return funnelStepsTable(grouped, `Funnel${span}`);
  }
  if (kind === 'TrendsQuery' && Array.isArray(results)) {
    const rows = (results as Obj[]).map((s) => ({
      label: String(s.label ?? s.action ?? ''),
      breakdown: s.breakdown_value === undefined ? '' : typeof s.breakdown_value === 'string' ? s.breakdown_value : JSON.stringify(s.breakdown_value),
      total: (s.aggregated_value as number | undefined) ?? (s.count as number | undefined) ?? null,
      first: Array.isArray(s.days) ? (s.days as string[])[0] ?? '' : '',
      last: Array.isArray(s.days) ? (s.days as string[])[(s.days as string[]).length - 1] ?? '' : '',
      compare: (s.compare_label as string | undefined) ?? '',
    }));
    return {
      title: `Trends${span}`,
      columns: [
        { key: 'label', header: 'Series' },
        { key: 'breakdown', header: 'Breakdown' },
        { key: 'compare', header: 'Period' },
        { key: 'total', header: 'Total', align: 'right' },
        { key: 'first', header: 'From' },
        { key: 'last', header: 'To' },
      ],
      rows,
    };
  }
  if ((kind === 'ActorsQuery' || kind === 'FunnelsActorsQuery') && Array.isArray(results)) {
    const cols = (res.columns as string[] | undefined) ?? ['actor'];
    const rows = (results as unknown[][]).map((r) => {
      const o: Obj = {};
      cols.forEach((c, i) => {
        const v = r[i];
        if (v && typeof v === 'object' && 'id' in (v as Obj)) {
          o.id = (v as Obj).id;
          o.distinct_ids = ((v as Obj).distinct_ids as string[] | undefined)?.join(', ') ?? '';
        } else o[c] = v;
      });
      return o;
    });
    const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return { title: `${rows.length} actor(s)`, columns: keys.map((k) => ({ key: k, header: k })), rows };
  }
  const list = Array.isArray(results) ? results : [results];
  return { title: kind, columns: [{ key: 'r', header: 'Result', value: (r: unknown) => JSON.stringify(r) }], rows: list };
}
