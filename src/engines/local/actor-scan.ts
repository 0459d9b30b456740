/**
 * Shared scan for the actor-level insights (lifecycle, retention, stickiness): the distinct
 * (person, interval bucket) pairs of the events a series matches, with PostHog's property filters.
 * Buckets are team-local wall-clock microseconds ("naive local", as in src/time), computed
 * in SQL on integers with the zone's offsets over the scanned span (./trends/local-time-sql.ts).
 */
import type { Store } from '../../store/store.js';
import { sqlString } from '../../store/sql.js';
import { QueryValidationError } from '../../errors.js';
import { propertyFiltersSql, usesPersonProperties } from './filters.js';
import { bucketUsSql, localUsSql, offsetSegments } from './trends/local-time-sql.js';
import { toInstant, toNaive, type Interval as TrendsInterval } from '../../time/index.js';

export interface ScanFilter {
  /** event name; null/undefined = every event */
  event?: string | null;
  /** property filters with the JSON path their errors name */
  properties: { filters: unknown; where: string }[];
}

export interface BucketScan {
  /** lower bound (naive local µs) and whether it is inclusive */
  from: number;
  /** upper bound (naive local µs) */
  to: number;
  toInclusive: boolean;
  interval: TrendsInterval;
}

function fail(where: string, message: string): never {
  throw new QueryValidationError(`${where}: ${message}`, 'Run it with --engine posthog, or adjust the query.');
}

/** Reject series the local store cannot answer (actions, group aggregation, sampling). */
export function checkEventsSeries(series: readonly { kind: string; math?: string | null }[], where: string): void {
  if (series.length === 0) fail(where, 'the query needs at least one series');
  series.forEach((s, i) => {
    if (s.kind !== 'EventsNode') fail(`${where}[${i}].kind`, `${s.kind} series are not supported by the local engine (no actions in the store)`);
    if (s.math === 'hogql' || s.math === 'unique_group') fail(`${where}[${i}].math`, `math '${s.math}' is not supported by the local engine`);
  });
}

export function checkCommon(q: { aggregation_group_type_index?: number | null; samplingFactor?: number | null }): void {
  if (q.aggregation_group_type_index !== null && q.aggregation_group_type_index !== undefined) {
    fail('query.aggregation_group_type_index', 'group aggregation is not supported by the local engine');
  }
  if (q.samplingFactor !== null && q.samplingFactor !== undefined && q.samplingFactor !== 1) {
    fail('query.samplingFactor', 'sampling is not supported by the local engine (it always reads every event)');
  }
}

/** FROM and WHERE conditions (without time bounds) for a filter; joins persons when a filter needs them. */
export function filterSql(store: Store, f: ScanFilter, extra: string[] = []): { from: string; conds: string[] } {
  const needPersons = f.properties.some((p) => usesPersonProperties(p.filters));
  const env = { store, eventAlias: 'e', personAlias: 'p' };
  const conds = [...extra];
  if (typeof f.event === 'string') conds.push(`e.event = ${sqlString(f.event)}`);
  for (const p of f.properties) {
    const sql = propertyFiltersSql(p.filters, { ...env, where: p.where });
    if (sql !== 'TRUE') conds.push(`(${sql})`);
  }
  return { from: needPersons ? 'events e LEFT JOIN persons p ON p.id = e.person_id' : 'events e', conds };
}

/** SQL bound on e.timestamp for a naive-local time. */
export function tsSql(naive: number, tz: string): string {
  return `make_timestamptz(${toInstant(naive, tz)}::BIGINT)`;
}

/** SQL expression of the local bucket start (naive µs) of e.timestamp over a span. */
export function bucketSql(fromNaive: number, toNaive_: number, tz: string, interval: TrendsInterval, weekStart: 0 | 1): string {
  const segs = offsetSegments(toInstant(fromNaive, tz), toInstant(toNaive_, tz), tz);
  return bucketUsSql(localUsSql('e.timestamp', segs), interval, weekStart);
}

/** Distinct (actor, bucket) pairs of the events matching a filter inside a scan window. */
export async function actorBuckets(store: Store, tz: string, weekStart: 0 | 1, f: ScanFilter, scan: BucketScan, extra: string[] = []): Promise<Map<string, number[]>> {
  return (await actorActivity(store, tz, weekStart, f, scan, extra, false)).buckets;
}

export interface ActorActivity {
  /** actor -> sorted distinct bucket starts (naive local µs) */
  buckets: Map<string, number[]>;
  /** actor -> person created_at (UTC µs), when asked for */
  createdUs: Map<string, number>;
}

/** actorBuckets, plus each person's created_at when `withCreatedAt`. */
export async function actorActivity(
  store: Store,
  tz: string,
  weekStart: 0 | 1,
  f: ScanFilter,
  scan: BucketScan,
  extra: string[],
  withCreatedAt: boolean,
): Promise<ActorActivity> {
  const { from, conds } = filterSql(store, f, extra);
  const bounds = [`e.timestamp >= ${tsSql(scan.from, tz)}`, `e.timestamp ${scan.toInclusive ? '<=' : '<'} ${tsSql(scan.to, tz)}`];
  const bucket = bucketSql(scan.from, scan.to, tz, scan.interval, weekStart);
  const pairs = `SELECT e.person_id AS actor, ${bucket} AS b FROM ${from} WHERE ${[...bounds, ...conds].join(' AND ')} GROUP BY actor, b`;
  const sql = withCreatedAt
    ? `SELECT ab.actor, ab.b, epoch_us(pc.created_at) FROM (${pairs}) ab LEFT JOIN persons pc ON pc.id = ab.actor`
    : pairs;
  const r = await store.conn.runAndReadAll(sql);
  const buckets = new Map<string, number[]>();
  const createdUs = new Map<string, number>();
  for (const row of r.getRows()) {
    const k = String(row[0]);
    let list = buckets.get(k);
    if (!list) buckets.set(k, (list = []));
    list.push(Number(row[1]));
    if (withCreatedAt && row[2] !== null && row[2] !== undefined) createdUs.set(k, Number(row[2]));
  }
  for (const list of buckets.values()) list.sort((a, b) => a - b);
  return { buckets, createdUs };
}

/** Earliest event (naive local) matching an event name, for date_from "all". */
export async function earliestNaive(store: Store, tz: string, event?: string | null): Promise<number | undefined> {
  const where = typeof event === 'string' ? ` WHERE event = ${sqlString(event)}` : '';
  const r = await store.conn.runAndReadAll(`SELECT epoch_us(min(timestamp)) FROM events${where}`);
  const v = r.getRows()[0]?.[0];
  return v === null || v === undefined ? undefined : toNaive(Number(v), tz);
}
