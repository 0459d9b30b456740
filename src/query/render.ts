/**
 * Readable summaries of PostHog query responses (the table/csv/markdown formats of
 * `query run`); `--format json` prints the response itself.
 */
import type { PostHogQuery, QueryResponse } from '../engines/types.js';
import type { TableSpec } from '../output/table.js';
import { bar, barColumn } from '../output/chart.js';
import { formatDuration } from '../output/format.js';
import { funnelStepTable, stepViews, type PostHogStep } from '../output/funnel.js';

type Obj = Record<string, unknown>;

/** One step table per breakdown value (PostHog returns a list of step lists with a breakdown). */
function funnelStepsTables(results: Obj[][], title: string): TableSpec<any>[] {
  return results.map((steps) => {
    const value = steps[0]?.breakdown_value;
    const label = value === undefined ? '' : ` — ${Array.isArray(value) ? value.join(' / ') : String(value)}`;
    return funnelStepTable(`${title}${label}`, stepViews(steps as unknown as PostHogStep[]), { countHeader: 'Count' });
  });
}

/** Tables summarizing any query response; falls back to one JSON cell per result. */
export function summarize(query: PostHogQuery, res: QueryResponse): TableSpec<any>[] {
  const one = summarizeOne(query, res);
  return Array.isArray(one) ? one : [one];
}

function summarizeOne(query: PostHogQuery, res: QueryResponse): TableSpec<any> | TableSpec<any>[] {
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
          { key: 'from', header: 'From', align: 'right', text: (b: [number, number]) => formatDuration(b[0]), value: (b: [number, number]) => b[0] },
          { key: 'count', header: 'Count', align: 'right', value: (b: [number, number]) => b[1] },
          barColumn((b: [number, number]) => b[1], max, 30),
        ],
        rows: r.bins,
        notes: [`average: ${formatDuration(r.average_conversion_time)}`],
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
    return funnelStepsTables(grouped, `Funnel${span}`);
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
