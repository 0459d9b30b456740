/**
 * Readable summaries of PostHog query responses (the table/csv/markdown formats of
 * `query run`); `--format json` prints the response itself.
 */
import type { PostHogQuery, QueryResponse } from '../engines/types.js';
import type { TableSpec } from '../output/table.js';
import { bar, barColumn } from '../output/chart.js';
import { breakdownText, formatDuration } from '../output/format.js';
import { funnelBreakdownMatrix, funnelStepTable, stepViews, type PostHogStep } from '../output/funnel.js';

type Obj = Record<string, unknown>;

/** The property (or properties) a query breaks down by, as a column header. */
function breakdownName(query: PostHogQuery): string {
  const f = (query.breakdownFilter ?? {}) as { breakdown?: unknown; breakdowns?: { property?: unknown }[] };
  if (Array.isArray(f.breakdowns) && f.breakdowns.length) return f.breakdowns.map((b) => String(b.property ?? '')).join(' / ');
  if (Array.isArray(f.breakdown)) return f.breakdown.map(String).join(' / ');
  return f.breakdown !== undefined && f.breakdown !== null ? String(f.breakdown) : 'Breakdown';
}

/**
 * A funnel's steps: one step table, or with a breakdown (PostHog returns a list of step lists)
 * the overall step table and one matrix of the values.
 */
function funnelStepsTables(query: PostHogQuery, results: Obj[][], title: string): TableSpec<any>[] {
  const views = results
    .map((steps) => ({ value: breakdownText(steps[0]?.breakdown_value), steps: stepViews(steps as unknown as PostHogStep[]) }))
    .sort((a, b) => Number(a.value === 'Other') - Number(b.value === 'Other'));
  if (views.length === 1 && results[0]?.[0]?.breakdown_value === undefined) return [funnelStepTable(title, views[0]!.steps, { countHeader: 'Count' })];
  // the whole funnel is the sum of its breakdown values' step counts (times are per value only)
  const total = results[0]!.map((s, i) => ({ ...(s as unknown as PostHogStep), count: results.reduce((n, l) => n + ((l[i]?.count as number | undefined) ?? 0), 0), median_conversion_time: null, average_conversion_time: null }));
  const optional = (i: number) => !!((query.series as Obj[] | undefined)?.[i]?.optionalInFunnel);
  return [
    funnelStepTable(title, stepViews(total), { countHeader: 'Count', notes: ['Times are per breakdown value: --format json.'] }),
    funnelBreakdownMatrix(`${title} by ${breakdownName(query)}`, breakdownName(query), views, { optional, countHeader: 'Count' }),
  ];
}

interface TrendRow {
  series: string;
  breakdown: string;
  compare: string;
  period: string;
  date: string;
  value: number | null;
}

/** A TrendsQuery's series as a time series: a row per period and series (a total per series when it has no periods). */
function trendsTable(query: PostHogQuery, results: Obj[], span: string): TableSpec<TrendRow> {
  const name = (s: Obj) => {
    const action = (s.action ?? {}) as Obj;
    // PostHog's `label` carries the breakdown value too ("event - value"): the series is its custom name, else its event
    return String(action.custom_name ?? action.name ?? s.label ?? '');
  };
  const rows: TrendRow[] = results.flatMap((s) => {
    const base = { series: name(s), breakdown: s.breakdown_value === undefined ? '' : breakdownText(s.breakdown_value), compare: String(s.compare_label ?? '') };
    const days = Array.isArray(s.days) ? (s.days as string[]) : [];
    const labels = Array.isArray(s.labels) ? (s.labels as string[]) : days;
    const data = Array.isArray(s.data) ? (s.data as number[]) : [];
    if (days.length === 0 || s.aggregated_value !== undefined) {
      return [{ ...base, period: 'total', date: '', value: (s.aggregated_value as number | undefined) ?? (s.count as number | undefined) ?? null }];
    }
    return days.map((d, i) => ({ ...base, period: labels[i] ?? d, date: d, value: data[i] ?? null }));
  });
  const has = (k: keyof TrendRow) => rows.some((r) => r[k] !== '');
  const columns: TableSpec<TrendRow>['columns'] = [
    { key: 'period', header: 'Period' },
    { key: 'date', header: 'Date', dataOnly: true },
    { key: 'series', header: 'Series' },
    ...(has('breakdown') ? [{ key: 'breakdown', header: breakdownName(query) }] : []),
    ...(has('compare') ? [{ key: 'compare', header: 'Compare' }] : []),
    { key: 'value', header: 'Value', align: 'right' },
  ];
  return { title: `Trends${span}`, columns, rows };
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
    return funnelStepsTables(query, grouped, `Funnel${span}`);
  }
  if (kind === 'TrendsQuery' && Array.isArray(results)) return trendsTable(query, results as Obj[], span);
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
