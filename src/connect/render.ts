/**
 * Rendering of the Connect reports: tables for terminals and Markdown, long-form CSV for
 * spreadsheets, JSON with the PostHog series, and a terminal line chart for the DAU trend.
 */
import type { Report } from '../output/report.js';
import type { TableSpec } from '../output/table.js';
import { bar, lineChart } from '../output/chart.js';
import { formatNumber, formatPercent } from '../output/format.js';
import type { DauReport, DauSeries, FeaturesReport, PlatformsReport } from './reports.js';

const MATH_TEXT: Record<string, string> = {
  dau: 'unique installations per',
  weekly_active: 'installations active in the 7 days ending each',
  monthly_active: 'installations active in the 30 days ending each',
};

function rangeText(r: { dateRange: { date_from: string | null; date_to: string | null }; timezone: string; engine: string }): string {
  return `engine ${r.engine}`;
}

function mathTitle(r: DauReport): string {
  const m = r.math.toUpperCase();
  return r.effectiveMath === 'dau' && r.math !== 'dau' ? `${m} → unique per ${r.interval}` : m;
}

interface BucketRow {
  date: string;
  label: string;
  incomplete: boolean;
  values: number[];
  previousDate?: string;
  previous?: number;
}

interface LongRow {
  series: string;
  breakdown_value: unknown;
  compare: string | undefined;
  date: string;
  label: string;
  value: number;
  incomplete: boolean;
}

interface SummaryRow {
  name: string;
  breakdownValue: unknown;
  total: number;
  average: number;
  peak: number;
  latest: number;
}

/** The dau report: a per-bucket or per-series table, a trend chart, and long-form CSV. */
export function renderDau(r: DauReport): Report {
  const current = r.series.filter((s) => s.compare !== 'previous');
  const previous = r.series.filter((s) => s.compare === 'previous');
  const title = `${r.title} — ${mathTitle(r)} by ${r.interval}${r.breakdown ? `, by ${r.breakdown.title}` : ''}`;
  const notes = [
    rangeText(r),
    `Counted: ${MATH_TEXT[r.effectiveMath] ?? r.effectiveMath} ${r.interval}; an installation is active when it sends any Connect event.`,
  ];
  if (r.effectiveMath !== MATH_TO_KEY[r.math]) notes.push(`PostHog computes ${r.math.toUpperCase()} at a ${r.interval} interval as unique installations per ${r.interval}.`);
  if (r.hasMore) notes.push(`More ${r.breakdown?.title ?? 'breakdown'} values exist than shown; the rest are summed in "(other values)".`);
  const json = {
    report: 'dau',
    title: r.title,
    description: r.description,
    engine: r.engine,
    timezone: r.timezone,
    dateRange: r.dateRange,
    interval: r.interval,
    math: r.math,
    effectiveMath: r.effectiveMath,
    breakdown: r.breakdown ?? null,
    hasMore: r.hasMore,
    query: r.query,
    periods: (current[0]?.days ?? []).map((date, i) => ({ date, label: current[0]!.labels[i] ?? date, incomplete: isIncomplete(r, i) })),
    results: r.results,
  };
  if (r.incompleteFrom !== null) notes.push(`* not over yet at --now: its count can still grow (left out of Change and Latest).`);

  // CSV: one row per series per bucket, whatever the terminal shows
  const longRows: LongRow[] = r.series.flatMap((s) =>
    s.days.map((d, i) => ({ series: s.name, breakdown_value: s.breakdownValue ?? null, compare: s.compare, date: d, label: s.labels[i] ?? d, value: s.data[i] ?? 0, incomplete: s.compare !== 'previous' && isIncomplete(r, i) })),
  );
  const csv: TableSpec<LongRow> = {
    columns: [
      { key: 'series', header: 'Series' },
      { key: 'breakdown_value', header: 'Breakdown value' },
      { key: 'compare', header: 'Period' },
      { key: 'date', header: 'Date' },
      { key: 'label', header: 'Label' },
      { key: 'value', header: 'Installations' },
      { key: 'incomplete', header: 'Incomplete' },
    ],
    rows: longRows,
  };

  const chartSeries = [...current.slice(0, 6), ...(current.length === 1 ? previous.slice(0, 1) : [])];
  const extra = current.length && current[0]!.days.length > 1 ? () => chart(current[0]!.labels, chartSeries, r.incompleteFrom) : undefined;

  const perBucket = current.length <= 4 && (previous.length === 0 || current.length === 1);
  if (perBucket) {
    const base = current[0];
    const rows: BucketRow[] = (base?.days ?? []).map((d, i) => ({
      date: d,
      label: base!.labels[i] ?? d,
      incomplete: isIncomplete(r, i),
      values: current.map((s) => s.data[i] ?? 0),
      previousDate: previous[0]?.days[i],
      previous: previous[0]?.data[i],
    }));
    const max = Math.max(0, ...current.flatMap((s) => s.data));
    const columns: TableSpec<BucketRow>['columns'] = [
      { key: 'label', header: r.interval === 'day' ? 'Day' : r.interval === 'week' ? 'Week' : 'Month', text: (row) => `${row.label}${row.incomplete ? ' *' : ''}` },
      { key: 'date', header: 'Date', dataOnly: true },
      ...current.map((s, j) => ({ key: `v${j}`, header: s.name, align: 'right' as const, value: (row: BucketRow) => row.values[j] })),
    ];
    if (previous.length) {
      columns.push(
        { key: 'previousDate', header: 'Previous period' },
        { key: 'previous', header: 'Installations', align: 'right' },
        {
          key: 'change',
          header: 'Change',
          align: 'right',
          value: (row) => (row.previous && !row.incomplete ? (row.values[0]! - row.previous) / row.previous : null),
          text: (row) => (row.previous && !row.incomplete ? signedPercent((row.values[0]! - row.previous) / row.previous) : '–'),
        },
      );
    }
    if (current.length === 1) columns.push({ key: 'bar', header: '', text: (row) => bar(row.values[0]!, max, 20), terminalOnly: true });
    return { json, tables: [{ title, columns, rows, notes }], csv: [csv], chart: extra };
  }

  const rows: SummaryRow[] = r.series.map((s) => summary(s, s.compare === 'previous' ? null : r.incompleteFrom));
  const maxAvg = Math.max(0, ...rows.map((x) => x.average));
  const table: TableSpec<SummaryRow> = {
    title,
    columns: [
      { key: 'name', header: r.breakdown?.title ?? 'Series' },
      { key: 'breakdownValue', header: 'Breakdown value', dataOnly: true },
      { key: 'average', header: `Avg per ${r.interval}`, align: 'right', text: (x) => formatNumber(Math.round(x.average * 10) / 10) },
      { key: 'peak', header: 'Peak', align: 'right' },
      { key: 'latest', header: r.incompleteFrom !== null ? 'Latest complete' : 'Latest', align: 'right' },
      { key: 'bar', header: '', text: (x) => bar(x.average, maxAvg, 20), terminalOnly: true },
    ],
    rows,
    notes: [...notes, `Per-${r.interval} values: --format csv (one row per ${r.interval} per series) or --format json.`],
  };
  return { json, tables: [table], csv: [csv], chart: extra };
}

/**
 * The trend as an 80-column line chart. Short series (a few weeks or months) are widened by
 * repeating each point, so every interval gets a readable horizontal run instead of one column.
 */
function chart(labels: string[], series: DauSeries[], incompleteFrom: number | null): string {
  const n = labels.length;
  const k = n < 30 ? Math.max(1, Math.floor(60 / n)) : 1;
  const widen = <T>(xs: T[]): T[] => xs.flatMap((x) => Array.from({ length: k }, () => x));
  return lineChart(
    widen(labels),
    series.map((s) => ({ name: s.name, values: widen(s.data) })),
    { width: 80, height: 10, incompleteFrom: incompleteFrom === null ? undefined : incompleteFrom * k },
  );
}

const MATH_TO_KEY: Record<string, string> = { dau: 'dau', wau: 'weekly_active', mau: 'monthly_active' };

/** `Latest` is the last complete bucket (PostHog leaves the running period out of comparisons). */
function summary(s: DauSeries, incompleteFrom: number | null): SummaryRow {
  const n = s.data.length || 1;
  const complete = incompleteFrom === null ? s.data : s.data.slice(0, incompleteFrom);
  return {
    name: s.name,
    breakdownValue: s.breakdownValue ?? null,
    total: s.count,
    average: s.data.reduce((a, b) => a + b, 0) / n,
    peak: Math.max(0, ...s.data),
    latest: complete[complete.length - 1] ?? 0,
  };
}

function isIncomplete(r: DauReport, i: number): boolean {
  return r.incompleteFrom !== null && i >= r.incompleteFrom;
}

function signedPercent(x: number): string {
  const s = formatPercent(x);
  return x > 0 ? `+${s}` : s;
}

interface FeatureRow {
  feature_key: string;
  feature: string;
  event: string;
  split: string;
  value: unknown;
  label: string;
  installations: number;
  events: number;
  share: number | null;
  level: number;
  /** first value row of its split (the split title is shown once) */
  firstOfSplit: boolean;
}

export function renderFeatures(r: FeaturesReport): Report {
  const rows: FeatureRow[] = [];
  for (const f of r.features) {
    rows.push({ feature_key: f.key, feature: f.title, event: f.event, split: '', value: null, label: '', installations: f.installations, events: f.events, share: f.share, level: 0, firstOfSplit: false });
    for (const b of f.breakdowns) {
      b.values.forEach((v, i) => {
        rows.push({ feature_key: f.key, feature: f.title, event: f.event, split: b.title, value: v.value, label: v.label, installations: v.installations, events: v.events, share: v.share, level: 1, firstOfSplit: i === 0 });
      });
    }
  }
  // people see the values that occurred; CSV keeps every row
  const shown = rows.filter((x) => x.level === 0 || x.installations > 0 || x.events > 0);
  const table: TableSpec<FeatureRow> = {
    title: `Teleport Connect feature usage — ${formatNumber(r.activeInstallations)} active installations`,
    columns: [
      { key: 'feature_key', header: 'Key', dataOnly: true },
      { key: 'feature', header: 'Feature', text: (x) => (x.level === 0 ? x.feature : '') },
      { key: 'event', header: 'Event', dataOnly: true },
      {
        key: 'split',
        header: 'Split by',
        text: (x) => (x.level === 0 ? '' : x.split),
        terminalText: (x) => (x.level === 0 || !x.firstOfSplit ? '' : x.split),
      },
      { key: 'value', header: 'Value', dataOnly: true },
      { key: 'label', header: 'Value' },
      { key: 'installations', header: 'Installations', align: 'right' },
      { key: 'events', header: 'Events', align: 'right' },
      { key: 'share', header: 'Share of active', align: 'right', text: (x) => formatPercent(x.share) },
      { key: 'bar', header: '', text: (x) => bar(x.share ?? 0, 1, 16), terminalOnly: true },
    ],
    rows: shown,
    notes: [
      rangeText(r),
      'Installations: distinct Connect installations that sent the event; share: of the installations active in the range.',
    ],
  };
  return { json: { report: 'features', ...r }, tables: [table], csv: [{ ...table, rows }] };
}

interface PlatformRow {
  dimension_key: string;
  dimension: string;
  property: string;
  value: unknown;
  label: string;
  installations: number;
  share: number | null;
  first: boolean;
}

export function renderPlatforms(r: PlatformsReport): Report {
  const rows: PlatformRow[] = r.dimensions.flatMap((d) =>
    d.values.map((v, i) => ({
      dimension_key: d.key,
      dimension: d.title,
      property: d.property,
      value: v.value,
      label: v.label,
      installations: v.installations,
      share: v.share,
      first: i === 0,
    })),
  );
  const table: TableSpec<PlatformRow> = {
    title: `Teleport Connect platforms — ${formatNumber(r.activeInstallations)} active installations`,
    columns: [
      { key: 'dimension_key', header: 'Key', dataOnly: true },
      { key: 'dimension', header: 'Dimension', terminalText: (x) => (x.first ? x.dimension : '') },
      { key: 'property', header: 'Person property', dataOnly: true },
      { key: 'value', header: 'Value', dataOnly: true },
      { key: 'label', header: 'Value' },
      { key: 'installations', header: 'Installations', align: 'right' },
      { key: 'share', header: 'Share', align: 'right', text: (x) => formatPercent(x.share) },
      { key: 'bar', header: '', text: (x) => bar(x.share ?? 0, 1, 20), terminalOnly: true },
    ],
    rows,
    notes: [
      rangeText(r),
      'Person properties of the installations active in the range (os and arch are set once on login, OS and app version on every login).',
      ...(r.dimensions.some((d) => d.hasMore) ? ['Rarer values are summed in "(other values)".'] : []),
    ],
  };
  return { json: { report: 'platforms', ...r }, tables: [table] };
}
