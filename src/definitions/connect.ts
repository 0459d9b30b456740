/**
 * Teleport Connect report definitions (queries/connect/*.json) and their compilation to PostHog
 * TrendsQuery objects (RFD 97 "Connect usage metrics").
 *
 * Definitions name events and properties by keys into queries/taxonomy.json (dotted paths such as
 * "connect.events.clusterLogin"); this module resolves them, so no PostHog name is written here.
 *
 * "Any Connect event" as a TrendsQuery PostHog accepts and the local engine runs identically:
 * an EventsNode with event null (all events) plus event_metadata property filters — the distinct
 * id starts with the installation prefix, the event name starts with the prefix shared by every
 * Connect event, and the download event (website/CDN, not an installation) is excluded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { QUERIES_DIR, taxonomy, type Taxonomy } from '../events/taxonomy.js';
import { InputError, UsageError, didYouMean, suggest } from '../errors.js';
import type { DateRange, TrendsQuery } from '../query/schema.js';
import { firstIssue } from '../zod-issues.js';

const Ref = z.string().regex(/^[A-Za-z]+(\.[A-Za-z]+)+$/, 'expected a taxonomy key path like "connect.events.clusterLogin"');

const ActivityFileSchema = z
  .object({
    $comment: z.string().optional(),
    activity: z
      .object({
        title: z.string().min(1),
        description: z.string().min(1),
        installationIdPrefix: Ref,
        anyEventOf: Ref,
        excludeEvents: z.array(Ref).default([]),
      })
      .strict(),
    dimensions: z
      .array(
        z
          .object({
            key: z.string().regex(/^[a-z][a-z0-9_]*$/),
            title: z.string().min(1),
            personProperty: Ref,
            note: z.string().optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

const FeatureBreakdownSchema = z
  .object({
    title: z.string().min(1),
    properties: z.array(Ref).min(1).max(3),
    valueLabels: z.record(z.string(), z.string()).optional(),
    where: z.array(z.object({ property: Ref, value: z.string() }).strict()).optional(),
  })
  .strict();

const FeaturesFileSchema = z
  .object({
    $comment: z.string().optional(),
    features: z
      .array(
        z
          .object({
            key: z.string().regex(/^[a-z][a-z0-9-]*$/),
            title: z.string().min(1),
            event: Ref,
            breakdowns: z.array(FeatureBreakdownSchema).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();

export interface Activity {
  title: string;
  description: string;
  /** distinct ids of installations start with this */
  installationIdPrefix: string;
  /** every Connect event name starts with this */
  eventPrefix: string;
  excludeEvents: string[];
}

export interface Dimension {
  key: string;
  title: string;
  personProperty: string;
  note?: string;
}

export interface FeatureBreakdown {
  title: string;
  properties: string[];
  valueLabels?: Record<string, string>;
  where?: { property: string; value: string }[];
}

export interface Feature {
  key: string;
  title: string;
  event: string;
  breakdowns: FeatureBreakdown[];
}

export interface ConnectDefinitions {
  activity: Activity;
  dimensions: Dimension[];
  features: Feature[];
}

// ---------------------------------------------------------------------------------------------
// loading

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, `cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(file, `not valid JSON: ${(e as Error).message}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, file: string): T {
  const r = schema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    throw new InputError(file, firstIssue(r.error));
  }
  return r.data;
}

/** Resolve "a.b.c" in the taxonomy; `want` says whether a string or a map of strings is expected. */
function resolve(t: Taxonomy, ref: string, want: 'string' | 'map', where: string): string | Record<string, string> {
  let cur: unknown = t;
  const parts = ref.split('.');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!cur || typeof cur !== 'object' || !(p in (cur as object))) {
      const keys = cur && typeof cur === 'object' ? Object.keys(cur as object) : [];
      const s = suggest(p, keys);
      throw new InputError(
        where,
        `'${ref}' is not a key path in queries/taxonomy.json (no '${p}' under '${parts.slice(0, i).join('.') || '(root)'}')${s ? `; did you mean '${[...parts.slice(0, i), s].join('.')}'?` : ''}`,
      );
    }
    cur = (cur as Record<string, unknown>)[p];
  }
  if (want === 'string' && typeof cur !== 'string') throw new InputError(where, `'${ref}' names a group in queries/taxonomy.json, not a single name`);
  if (want === 'map' && (typeof cur !== 'object' || cur === null)) throw new InputError(where, `'${ref}' names a single value in queries/taxonomy.json, not a group of events`);
  return cur as string | Record<string, string>;
}

function commonPrefix(values: string[]): string {
  if (values.length === 0) return '';
  let p = values[0]!;
  for (const v of values) while (!v.startsWith(p)) p = p.slice(0, -1);
  return p;
}

let cached: ConnectDefinitions | undefined;

/** Load and resolve queries/connect/activity.json and features.json. */
export function loadConnectDefinitions(dir = join(QUERIES_DIR, 'connect'), t: Taxonomy = taxonomy()): ConnectDefinitions {
  const isDefault = dir === join(QUERIES_DIR, 'connect');
  if (isDefault && cached) return cached;
  const activityFile = join(dir, 'activity.json');
  const featuresFile = join(dir, 'features.json');
  const a = parseWith(ActivityFileSchema, readJson(activityFile), activityFile);
  const f = parseWith(FeaturesFileSchema, readJson(featuresFile), featuresFile);
  const str = (ref: string, where: string) => resolve(t, ref, 'string', where) as string;

  const connectEvents = Object.values(resolve(t, a.activity.anyEventOf, 'map', `${activityFile}: activity.anyEventOf`) as Record<string, string>);
  const eventPrefix = commonPrefix(connectEvents);
  if (eventPrefix === '') throw new InputError(activityFile, `activity.anyEventOf: the events under '${a.activity.anyEventOf}' share no name prefix`);
  const activity: Activity = {
    title: a.activity.title,
    description: a.activity.description,
    installationIdPrefix: str(a.activity.installationIdPrefix, `${activityFile}: activity.installationIdPrefix`),
    eventPrefix,
    excludeEvents: a.activity.excludeEvents.map((r, i) => str(r, `${activityFile}: activity.excludeEvents[${i}]`)),
  };
  const seen = new Set<string>();
  const dimensions = a.dimensions.map((d, i) => {
    if (seen.has(d.key)) throw new InputError(activityFile, `dimensions[${i}].key: duplicate key '${d.key}'`);
    seen.add(d.key);
    return { key: d.key, title: d.title, note: d.note, personProperty: str(d.personProperty, `${activityFile}: dimensions[${i}].personProperty`) };
  });
  const fseen = new Set<string>();
  const features = f.features.map((x, i): Feature => {
    const where = `${featuresFile}: features[${i}]`;
    if (fseen.has(x.key)) throw new InputError(featuresFile, `features[${i}].key: duplicate key '${x.key}'`);
    fseen.add(x.key);
    return {
      key: x.key,
      title: x.title,
      event: str(x.event, `${where}.event`),
      breakdowns: (x.breakdowns ?? []).map((b, j) => ({
        title: b.title,
        properties: b.properties.map((p, k) => str(p, `${where}.breakdowns[${j}].properties[${k}]`)),
        valueLabels: b.valueLabels,
        where: b.where?.map((w, k) => ({ property: str(w.property, `${where}.breakdowns[${j}].where[${k}].property`), value: w.value })),
      })),
    };
  });
  const defs = { activity, dimensions, features };
  if (isDefault) cached = defs;
  return defs;
}

export function findDimension(defs: ConnectDefinitions, key: string, option = '--breakdown'): Dimension {
  const d = defs.dimensions.find((x) => x.key === key);
  if (d) return d;
  const keys = defs.dimensions.map((x) => x.key);
  const s = didYouMean(key, keys);
  throw new UsageError(`${option}: unknown breakdown '${key}'${s ? ` (did you mean ${s}?)` : ''}`, `Valid breakdowns: ${keys.join(', ')}.`);
}

// ---------------------------------------------------------------------------------------------
// compilation to TrendsQuery

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Property filters selecting events sent by Connect installations. */
export function activityProperties(a: Activity): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [
    { type: 'event_metadata', key: 'distinct_id', operator: 'regex', value: `^${escapeRegex(a.installationIdPrefix)}` },
    { type: 'event_metadata', key: 'event', operator: 'regex', value: `^${escapeRegex(a.eventPrefix)}` },
  ];
  if (a.excludeEvents.length) out.push({ type: 'event_metadata', key: 'event', operator: 'is_not', value: a.excludeEvents });
  return out;
}

export type ActiveMath = 'dau' | 'wau' | 'mau';
export const ACTIVE_MATHS: readonly ActiveMath[] = ['dau', 'wau', 'mau'];
export const MATH_TO_POSTHOG: Record<ActiveMath, string> = { dau: 'dau', wau: 'weekly_active', mau: 'monthly_active' };
export type ReportInterval = 'day' | 'week' | 'month';
export const REPORT_INTERVALS: readonly ReportInterval[] = ['day', 'week', 'month'];

export interface DauQueryOptions {
  dateRange: DateRange;
  interval: ReportInterval;
  math: ActiveMath;
  breakdown?: Dimension;
  compare?: boolean;
  compareTo?: string;
}

function activitySeries(math: string, customName: string): Record<string, unknown> {
  return { kind: 'EventsNode', event: null, name: 'All events', custom_name: customName, math };
}

/** Active installations over time (the `dau` report). */
export function buildDauQuery(defs: ConnectDefinitions, o: DauQueryOptions): TrendsQuery {
  const q: Record<string, unknown> = {
    kind: 'TrendsQuery',
    series: [activitySeries(MATH_TO_POSTHOG[o.math], 'Active installations')],
    interval: o.interval,
    dateRange: { date_from: o.dateRange.date_from, date_to: o.dateRange.date_to },
    properties: activityProperties(defs.activity),
    filterTestAccounts: false,
    trendsFilter: { display: 'ActionsLineGraph' },
  };
  if (o.breakdown) q.breakdownFilter = { breakdown: o.breakdown.personProperty, breakdown_type: 'person' };
  if (o.compare || o.compareTo) q.compareFilter = o.compareTo ? { compare: true, compare_to: o.compareTo } : { compare: true };
  return q as TrendsQuery;
}

function tableQuery(defs: ConnectDefinitions, dateRange: DateRange, series: Record<string, unknown>[], extra: Record<string, unknown> = {}): TrendsQuery {
  return {
    kind: 'TrendsQuery',
    series,
    dateRange: { date_from: dateRange.date_from, date_to: dateRange.date_to },
    properties: activityProperties(defs.activity),
    filterTestAccounts: false,
    trendsFilter: { display: 'ActionsTable' },
    ...extra,
  } as TrendsQuery;
}

/** Distinct active installations over the whole range (one number). */
export function buildActiveTotalQuery(defs: ConnectDefinitions, dateRange: DateRange): TrendsQuery {
  return tableQuery(defs, dateRange, [activitySeries('dau', 'Active installations')]);
}

/** Distinct active installations per value of one platform dimension. */
export function buildPlatformQuery(defs: ConnectDefinitions, dim: Dimension, dateRange: DateRange): TrendsQuery {
  return tableQuery(defs, dateRange, [activitySeries('dau', 'Active installations')], {
    breakdownFilter: { breakdown: dim.personProperty, breakdown_type: 'person', breakdown_limit: 50 },
  });
}

function featureSeries(f: Feature, math: 'dau' | 'total', where?: FeatureBreakdown['where']): Record<string, unknown> {
  const s: Record<string, unknown> = { kind: 'EventsNode', event: f.event, name: f.event, custom_name: f.title, math };
  if (where?.length) s.properties = where.map((w) => ({ type: 'event', key: w.property, operator: 'exact', value: [w.value] }));
  return s;
}

/** Every feature's installations (dau over the range) and events (total): two series per feature. */
export function buildFeatureTotalsQuery(defs: ConnectDefinitions, dateRange: DateRange): TrendsQuery {
  return tableQuery(
    defs,
    dateRange,
    defs.features.flatMap((f) => [featureSeries(f, 'dau'), featureSeries(f, 'total')]),
  );
}

/** One feature split by one breakdown (installations and events per value). */
export function buildFeatureBreakdownQuery(defs: ConnectDefinitions, f: Feature, b: FeatureBreakdown, dateRange: DateRange): TrendsQuery {
  const breakdownFilter =
    b.properties.length === 1
      ? { breakdown: b.properties[0], breakdown_type: 'event', breakdown_limit: 50 }
      : { breakdowns: b.properties.map((p) => ({ property: p, type: 'event' })), breakdown_limit: 50 };
  return tableQuery(defs, dateRange, [featureSeries(f, 'dau', b.where), featureSeries(f, 'total', b.where)], { breakdownFilter });
}
