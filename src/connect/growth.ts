/**
 * Connect growth reports (RFD 97): lifecycle, retention and stickiness of installations. Each
 * compiles its definition to a PostHog insight query, runs it through the Engine (local DuckDB or
 * PostHog) and returns plain data for the renderer.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import type { DateRange } from '../query/schema.js';
import type { ConnectDefinitions, ReportInterval } from '../definitions/connect.js';
import {
  buildLifecycleQuery,
  buildRetentionQuery,
  buildStickinessQuery,
  type LifecycleOptions,
  type RetentionOptions,
  type StickinessOptions,
} from '../definitions/connect-growth.js';
import { isIncompletePeriod } from '../time/index.js';

interface Common {
  title: string;
  engine: string;
  timezone: string;
  dateRange: DateRange;
  query: unknown;
}

// ---------------------------------------------------------------------------------------------
// lifecycle

export interface LifecyclePeriod {
  period: string;
  label: string;
  new: number;
  returning: number;
  resurrecting: number;
  /** negative, as PostHog counts it */
  dormant: number;
  /** the period has not ended yet (it holds "now") */
  incomplete: boolean;
}

export interface LifecycleReport extends Common {
  interval: ReportInterval;
  periods: LifecyclePeriod[];
}

interface StatusItem {
  status?: string;
  data?: number[];
  days?: string[];
  labels?: string[];
}


export async function runLifecycleReport(engine: Engine, defs: ConnectDefinitions, o: LifecycleOptions, ctx: QueryContext): Promise<LifecycleReport> {
  const query = buildLifecycleQuery(defs, o);
  const res = await engine.run(query, ctx);
  const items = (Array.isArray(res.results) ? res.results : []) as StatusItem[];
  const by = (s: string) => items.find((i) => i.status === s);
  const base = by('new') ?? items[0];
  const periods = (base?.days ?? []).map((day, i) => ({
    period: day,
    label: base?.labels?.[i] ?? day,
    new: by('new')?.data?.[i] ?? 0,
    returning: by('returning')?.data?.[i] ?? 0,
    resurrecting: by('resurrecting')?.data?.[i] ?? 0,
    dormant: by('dormant')?.data?.[i] ?? 0,
    incomplete: isIncompletePeriod(day, o.interval, ctx),
  }));
  return { title: 'Teleport Connect installations: lifecycle', engine: engine.name, timezone: ctx.timezone, dateRange: o.dateRange, interval: o.interval, periods, query };
}

// ---------------------------------------------------------------------------------------------
// retention

export interface RetentionCohort {
  period: string;
  label: string;
  /** installations first seen (first_time) or active (recurring) in the period */
  size: number;
  /** installations active again k periods later, k = 0.. (only periods that have started) */
  values: number[];
  /** the cohort's own period has not ended yet (its size can still grow) */
  incomplete: boolean;
}

export interface RetentionReport extends Common {
  period: ReportInterval;
  intervals: number;
  kind: RetentionOptions['kind'];
  cohorts: RetentionCohort[];
  /** the newest period of the range (the triangle's diagonal) has not ended yet */
  openEnded: boolean;
  /** size-weighted mean share retained per offset (over cohorts that reached it) */
  mean: (number | null)[];
}

interface CohortItem {
  date?: string;
  label?: string;
  values?: { count?: number }[];
}

export async function runRetentionReport(engine: Engine, defs: ConnectDefinitions, o: RetentionOptions, ctx: QueryContext): Promise<RetentionReport> {
  const query = buildRetentionQuery(defs, o);
  const res = await engine.run(query, ctx);
  const items = (Array.isArray(res.results) ? res.results : []) as CohortItem[];
  const n = items.length;
  const cohorts = items.map((c, i) => {
    const period = String(c.date ?? '').slice(0, 10);
    // offsets whose period exists in the range: a triangle, newest cohort shortest
    const observed = Math.max(1, Math.min(c.values?.length ?? 0, n - i));
    const values = (c.values ?? []).slice(0, observed).map((v) => Number(v.count ?? 0));
    return { period, label: c.label ?? `${o.period} ${i}`, size: values[0] ?? 0, values, incomplete: isIncompletePeriod(period, o.period, ctx) };
  });
  const mean: (number | null)[] = [];
  for (let k = 0; k < o.intervals; k++) {
    let size = 0;
    let kept = 0;
    for (const c of cohorts) {
      if (c.values.length > k) {
        size += c.size;
        kept += c.values[k]!;
      }
    }
    mean.push(size > 0 ? kept / size : null);
  }
  return {
    title: `Teleport Connect installations: ${o.kind === 'first_time' ? 'retention of new installations' : 'recurring retention'}`,
    engine: engine.name,
    timezone: ctx.timezone,
    dateRange: o.dateRange,
    period: o.period,
    intervals: o.intervals,
    kind: o.kind,
    cohorts,
    openEnded: cohorts.length > 0 && isIncompletePeriod(lastPeriod(cohorts), o.period, ctx),
    mean,
    query,
  };
}

function lastPeriod(cohorts: RetentionCohort[]): string {
  return cohorts[cohorts.length - 1]!.period;
}

// ---------------------------------------------------------------------------------------------
// stickiness

export interface StickinessRow {
  /** number of intervals active in the range */
  intervals: number;
  label: string;
  installations: number;
  share: number | null;
}

export interface StickinessReport extends Common {
  interval: ReportInterval;
  total: number;
  rows: StickinessRow[];
}

export async function runStickinessReport(engine: Engine, defs: ConnectDefinitions, o: StickinessOptions, ctx: QueryContext): Promise<StickinessReport> {
  const query = buildStickinessQuery(defs, o);
  const res = await engine.run(query, ctx);
  const item = ((Array.isArray(res.results) ? res.results : [])[0] ?? {}) as { data?: number[]; days?: number[]; labels?: string[]; count?: number };
  const data = item.data ?? [];
  const total = item.count ?? data.reduce((a, b) => a + b, 0);
  const rows = (item.days ?? []).map((d, i) => ({
    intervals: d,
    label: item.labels?.[i] ?? String(d),
    installations: data[i] ?? 0,
    share: total > 0 ? (data[i] ?? 0) / total : null,
  }));
  return { title: 'Teleport Connect installations: stickiness', engine: engine.name, timezone: ctx.timezone, dateRange: o.dateRange, interval: o.interval, total, rows, query };
}
