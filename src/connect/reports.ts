/**
 * Teleport Connect usage reports (RFD 97): active installations over time, feature adoption and
 * platform shares. Each report compiles its definitions to TrendsQuery objects, runs them through
 * the Engine interface (local DuckDB or PostHog) and returns plain data; rendering is separate.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import type { DateRange, TrendsQuery } from '../query/schema.js';
import { isIncompletePeriod } from '../time/index.js';
import {
  buildActiveTotalQuery,
  buildDauQuery,
  buildFeatureBreakdownQuery,
  buildFeatureTotalsQuery,
  buildPlatformQuery,
  MATH_TO_POSTHOG,
  type ActiveMath,
  type ConnectDefinitions,
  type DauQueryOptions,
  type Dimension,
  type ReportInterval,
} from '../definitions/connect.js';

export const NULL_VALUE = '$$_posthog_breakdown_null_$$';
export const OTHER_VALUE = '$$_posthog_breakdown_other_$$';

/** Human text for a PostHog breakdown value. */
export function displayValue(v: unknown, labels?: Record<string, string>): string {
  if (Array.isArray(v)) return v.map((x) => displayValue(x, labels)).join(' / ');
  if (v === NULL_VALUE) return '(not set)';
  if (v === OTHER_VALUE) return '(other values)';
  const s = String(v);
  return labels?.[s] ?? s;
}

interface TrendsItem {
  label: string;
  data?: number[];
  days?: string[];
  labels?: string[];
  count?: number;
  aggregated_value?: number;
  breakdown_value?: unknown;
  compare_label?: 'current' | 'previous';
  action?: { order?: number } | null;
}

function itemsOf(res: { results: unknown }): TrendsItem[] {
  return Array.isArray(res.results) ? (res.results as TrendsItem[]) : [];
}

// ---------------------------------------------------------------------------------------------
// dau

export interface DauSeries {
  /** Display name: "Active installations", a breakdown value, plus "(previous period)" */
  name: string;
  breakdownValue?: unknown;
  compare?: 'current' | 'previous';
  days: string[];
  labels: string[];
  data: number[];
  /** sum of data (PostHog's `count`) */
  count: number;
}

export interface DauReport {
  title: string;
  description: string;
  engine: Engine['name'];
  timezone: string;
  dateRange: DateRange;
  interval: ReportInterval;
  math: ActiveMath;
  /** what PostHog computes: WAU at week/month and MAU at month intervals become unique per interval */
  effectiveMath: string;
  breakdown?: { key: string; title: string; property: string };
  query: TrendsQuery;
  series: DauSeries[];
  /** Index of the first bucket of the current range that is not over at --now (PostHog's incomplete period); null when all are. */
  incompleteFrom: number | null;
  hasMore: boolean;
  /** the PostHog response items, unchanged */
  results: unknown[];
}

export function effectiveMath(math: ActiveMath, interval: ReportInterval): string {
  if (math === 'wau' && interval !== 'day') return 'dau';
  if (math === 'mau' && interval === 'month') return 'dau';
  return MATH_TO_POSTHOG[math];
}

export async function runDauReport(engine: Engine, defs: ConnectDefinitions, o: DauQueryOptions, ctx: QueryContext): Promise<DauReport> {
  const query = buildDauQuery(defs, o);
  const res = await engine.run(query, ctx);
  const items = itemsOf(res);
  const series = items.map((it): DauSeries => {
    const base = o.breakdown ? displayValue(it.breakdown_value) : 'Active installations';
    return {
      name: it.compare_label === 'previous' ? `${base} (previous period)` : base,
      breakdownValue: o.breakdown ? it.breakdown_value : undefined,
      compare: it.compare_label,
      days: it.days ?? [],
      labels: it.labels ?? [],
      data: (it.data ?? []).map(Number),
      count: Number(it.count ?? 0),
    };
  });
  return {
    title: defs.activity.title,
    description: defs.activity.description,
    engine: engine.name,
    timezone: ctx.timezone,
    dateRange: o.dateRange,
    interval: o.interval,
    math: o.math,
    effectiveMath: effectiveMath(o.math, o.interval),
    breakdown: o.breakdown ? { key: o.breakdown.key, title: o.breakdown.title, property: o.breakdown.personProperty } : undefined,
    query,
    series,
    incompleteFrom: firstIncomplete(series.find((s) => s.compare !== 'previous')?.days ?? [], o.interval, ctx),
    hasMore: !!res.hasMore,
    results: items,
  };
}

function firstIncomplete(days: string[], interval: ReportInterval, ctx: QueryContext): number | null {
  const i = days.findIndex((d) => isIncompletePeriod(d, interval, ctx));
  return i < 0 ? null : i;
}

// ---------------------------------------------------------------------------------------------
// features

export interface ValueRow {
  value: unknown;
  label: string;
  installations: number;
  events: number;
  /** installations / active installations in the range (null when nobody was active) */
  share: number | null;
}

export interface FeatureReportItem {
  key: string;
  title: string;
  event: string;
  installations: number;
  events: number;
  share: number | null;
  breakdowns: { title: string; properties: string[]; values: ValueRow[]; hasMore: boolean }[];
}

export interface FeaturesReport {
  engine: Engine['name'];
  timezone: string;
  dateRange: DateRange;
  activeInstallations: number;
  features: FeatureReportItem[];
  queries: TrendsQuery[];
}

const share = (n: number, total: number) => (total > 0 ? n / total : null);

/** Per breakdown value: installations (series 0, dau) and events (series 1, total). */
function valueRows(items: TrendsItem[], total: number, labels?: Record<string, string>): ValueRow[] {
  const byValue = new Map<string, ValueRow>();
  for (const it of items) {
    const order = it.action?.order ?? 0;
    const k = JSON.stringify(it.breakdown_value);
    let row = byValue.get(k);
    if (!row) byValue.set(k, (row = { value: it.breakdown_value, label: displayValue(it.breakdown_value, labels), installations: 0, events: 0, share: null }));
    const v = Number(it.aggregated_value ?? 0);
    if (order === 0) row.installations = v;
    else row.events = v;
  }
  const rows = [...byValue.values()];
  for (const r of rows) r.share = share(r.installations, total);
  const rank = (v: unknown) => (JSON.stringify(v).includes(OTHER_VALUE) ? 2 : JSON.stringify(v).includes(NULL_VALUE) ? 1 : 0);
  return rows.sort((a, b) => rank(a.value) - rank(b.value) || b.installations - a.installations || b.events - a.events || a.label.localeCompare(b.label));
}

export function featureQueries(defs: ConnectDefinitions, dateRange: DateRange): TrendsQuery[] {
  const qs = [buildActiveTotalQuery(defs, dateRange), buildFeatureTotalsQuery(defs, dateRange)];
  for (const f of defs.features) for (const b of f.breakdowns) qs.push(buildFeatureBreakdownQuery(defs, f, b, dateRange));
  return qs;
}

export async function runFeaturesReport(engine: Engine, defs: ConnectDefinitions, dateRange: DateRange, ctx: QueryContext): Promise<FeaturesReport> {
  const queries = featureQueries(defs, dateRange);
  const responses = await engine.runMany(queries, ctx);
  const active = Number(itemsOf(responses[0]!)[0]?.aggregated_value ?? 0);
  const totals = itemsOf(responses[1]!);
  let next = 2;
  const features = defs.features.map((f, i): FeatureReportItem => {
    const installations = Number(totals[2 * i]?.aggregated_value ?? 0);
    const events = Number(totals[2 * i + 1]?.aggregated_value ?? 0);
    const breakdowns = f.breakdowns.map((b) => {
      const res = responses[next++]!;
      return { title: b.title, properties: b.properties, values: valueRows(itemsOf(res), active, b.valueLabels), hasMore: !!res.hasMore };
    });
    return { key: f.key, title: f.title, event: f.event, installations, events, share: share(installations, active), breakdowns };
  });
  return { engine: engine.name, timezone: ctx.timezone, dateRange, activeInstallations: active, features, queries };
}

// ---------------------------------------------------------------------------------------------
// platforms

export interface PlatformDimensionReport {
  key: string;
  title: string;
  property: string;
  note?: string;
  values: PlatformValue[];
  hasMore: boolean;
}

export type PlatformValue = Omit<ValueRow, 'events'>;

export interface PlatformsReport {
  engine: Engine['name'];
  timezone: string;
  dateRange: DateRange;
  activeInstallations: number;
  dimensions: PlatformDimensionReport[];
  queries: TrendsQuery[];
}

export function platformQueries(defs: ConnectDefinitions, dateRange: DateRange, dims: Dimension[] = defs.dimensions): TrendsQuery[] {
  return [buildActiveTotalQuery(defs, dateRange), ...dims.map((d) => buildPlatformQuery(defs, d, dateRange))];
}

export async function runPlatformsReport(
  engine: Engine,
  defs: ConnectDefinitions,
  dateRange: DateRange,
  ctx: QueryContext,
  dims: Dimension[] = defs.dimensions,
): Promise<PlatformsReport> {
  const queries = platformQueries(defs, dateRange, dims);
  const responses = await engine.runMany(queries, ctx);
  const active = Number(itemsOf(responses[0]!)[0]?.aggregated_value ?? 0);
  const dimensions = dims.map((d, i): PlatformDimensionReport => {
    const res = responses[i + 1]!;
    const values = itemsOf(res).map((it) => {
      const installations = Number(it.aggregated_value ?? 0);
      return { value: it.breakdown_value, label: displayValue(it.breakdown_value), installations, share: share(installations, active) };
    });
    return { key: d.key, title: d.title, property: d.personProperty, note: d.note, values, hasMore: !!res.hasMore };
  });
  return { engine: engine.name, timezone: ctx.timezone, dateRange, activeInstallations: active, dimensions, queries };
}

