/**
 * Trends breakdowns (posthog/hogql_queries/insights/trends/breakdown.py): the SQL for a breakdown
 * value, and the ranking that keeps the top `breakdown_limit` values and folds the rest into
 * "$$_posthog_breakdown_other_$$" (trends_query_builder.py).
 */
import { UsageError } from '../../../errors.js';
import { personPropertySql, propertySql, sqlString, type Store } from '../../../store/store.js';
import type { BreakdownFilter } from '../../../query/schema.js';

export const BREAKDOWN_NULL = '$$_posthog_breakdown_null_$$';
export const BREAKDOWN_OTHER = '$$_posthog_breakdown_other_$$';
/** BREAKDOWN_VALUES_LIMIT (posthog/hogql/constants.py) */
export const DEFAULT_BREAKDOWN_LIMIT = 25;

export type BreakdownValue = string | string[];

export interface BreakdownPart {
  property: string;
  type: 'event' | 'person' | 'event_metadata' | 'hogql';
  normalizeUrl: boolean;
  where: string;
}

export interface BreakdownSpec {
  parts: BreakdownPart[];
  /** `breakdowns: [...]` (values are arrays) rather than `breakdown: "x"` (values are strings). */
  multiple: boolean;
  limit: number;
  hideOther: boolean;
}

const SUPPORTED = ['event', 'person', 'event_metadata', 'hogql'];

/** Event columns an `event_metadata` breakdown (or a plain HogQL field) may name. */
function metadataColumn(store: Pick<Store, 'materializedColumn'>, key: string): string | undefined {
  switch (key) {
    case 'distinct_id':
      return 'e.distinct_id';
    case 'event':
      return 'e.event';
    case 'person_id':
      return 'e.person_id';
    case 'uuid':
      return 'CAST(e.uuid AS VARCHAR)';
    case '$session_id':
    case '$window_id':
      return propertySql(store, key, 'e');
    default:
      return /^\$group_[0-4]$/.test(key) ? propertySql(store, key, 'e') : undefined;
  }
}

/** The breakdown spec of a query, or undefined when no breakdown is set. */
export function breakdownSpec(bf: BreakdownFilter | null | undefined, display: string): BreakdownSpec | undefined {
  if (!bf) return undefined;
  const limit = display === 'WorldMap' ? 250 : bf.breakdown_limit || DEFAULT_BREAKDOWN_LIMIT;
  const hideOther = !!bf.breakdown_hide_other_aggregation;
  if (bf.breakdowns && bf.breakdowns.length > 0) {
    const parts = bf.breakdowns.map((b, i): BreakdownPart => {
      const where = `query.breakdownFilter.breakdowns[${i}]`;
      if (b.histogram_bin_count !== null && b.histogram_bin_count !== undefined) {
        throw new UsageError(`${where}.histogram_bin_count: numeric histogram breakdowns are not supported by the local engine`, 'Run it with --engine posthog.');
      }
      return part(String(b.property), b.type ?? 'event', !!b.normalize_url, where);
    });
    return { parts, multiple: true, limit, hideOther };
  }
  if (bf.breakdown === null || bf.breakdown === undefined) return undefined;
  const where = 'query.breakdownFilter';
  if (bf.breakdown_histogram_bin_count !== null && bf.breakdown_histogram_bin_count !== undefined) {
    throw new UsageError(`${where}.breakdown_histogram_bin_count: numeric histogram breakdowns are not supported by the local engine`, 'Run it with --engine posthog.');
  }
  if (Array.isArray(bf.breakdown)) {
    throw new UsageError(
      `${where}.breakdown: a list breakdown (cohorts) is not supported by the local engine`,
      'Break down by an event or person property, or run it with --engine posthog.',
    );
  }
  return { parts: [part(String(bf.breakdown), bf.breakdown_type ?? 'event', !!bf.breakdown_normalize_url, where)], multiple: false, limit, hideOther };
}

function part(property: string, type: string, normalizeUrl: boolean, where: string): BreakdownPart {
  if (!SUPPORTED.includes(type)) {
    throw new UsageError(
      `${where}: breakdown type '${type}' is not supported by the local engine`,
      `Supported types: ${SUPPORTED.join(', ')} (run it with --engine posthog for others).`,
    );
  }
  if (property === '') throw new UsageError(`${where}: empty breakdown property`);
  return { property, type: type as BreakdownPart['type'], normalizeUrl, where };
}

/** True when a breakdown reads person properties (the scan must join persons). */
export function breakdownUsesPersons(spec: BreakdownSpec | undefined): boolean {
  return !!spec?.parts.some(isPersonPart);
}

/** Raw SQL (VARCHAR, NULL when absent) for one breakdown part; events alias e, persons alias p. */
function rawSql(store: Pick<Store, 'materializedColumn'>, p: BreakdownPart): string {
  switch (p.type) {
    case 'event':
      return propertySql(store, p.property, 'e');
    case 'person':
      return personPropertySql(p.property, 'p');
    case 'event_metadata': {
      const col = metadataColumn(store, p.property);
      if (!col) {
        throw new UsageError(
          `${p.where}: unknown event_metadata breakdown '${p.property}'`,
          'Valid: distinct_id, event, person_id, uuid, $session_id, $window_id, $group_0..$group_4.',
        );
      }
      return col;
    }
    case 'hogql': {
      const expr = p.property.trim();
      let m = /^properties\.(?:"([^"]+)"|`([^`]+)`|([\w$.-]+))$/.exec(expr);
      if (m) return propertySql(store, (m[1] ?? m[2] ?? m[3])!, 'e');
      m = /^person\.properties\.(?:"([^"]+)"|`([^`]+)`|([\w$.-]+))$/.exec(expr);
      if (m) return personPropertySql((m[1] ?? m[2] ?? m[3])!, 'p');
      const col = metadataColumn(store, expr);
      if (col) return col;
      throw new UsageError(
        `${p.where}: the local engine evaluates only simple HogQL breakdowns (properties.x, person.properties.x, event, distinct_id), not '${expr}'`,
        'Run it with --engine posthog.',
      );
    }
  }
}

/** True when the part is a property of the person (one value per person, not per event). */
export function isPersonPart(p: BreakdownPart): boolean {
  return p.type === 'person' || (p.type === 'hogql' && /^person\.properties\./.test(p.property.trim()));
}

/**
 * SQL for a breakdown value before the null label: toString(value) after URL normalization,
 * NULL when absent or empty. Person parts read persons alias `p`.
 */
export function breakdownRawSql(store: Pick<Store, 'materializedColumn'>, p: BreakdownPart): string {
  let v = rawSql(store, p);
  if (p.normalizeUrl) {
    v = `(CASE WHEN ${v} IS NULL THEN NULL WHEN rtrim(${v}, '/?#') = '' THEN '/' ELSE rtrim(${v}, '/?#') END)`;
  }
  return `nullif(${v}, '')`;
}

/** ifNull(nullIf(toString(value), ''), '$$_posthog_breakdown_null_$$') */
export function withNullLabel(raw: string): string {
  return `coalesce(${raw}, ${sqlString(BREAKDOWN_NULL)})`;
}

export function breakdownValueSql(store: Pick<Store, 'materializedColumn'>, p: BreakdownPart): string {
  return withNullLabel(breakdownRawSql(store, p));
}

/** 2 for "other", 1 for the null value, 0 otherwise (PostHog's breakdown ordering key). */
export function orderingOf(v: BreakdownValue): number {
  const vals = Array.isArray(v) ? v : [v];
  if (vals.includes(BREAKDOWN_OTHER)) return 2;
  if (vals.includes(BREAKDOWN_NULL)) return 1;
  return 0;
}

/** ClickHouse ordering of strings / arrays of strings (bytewise, arrays lexicographic). */
export function compareValues(a: BreakdownValue, b: BreakdownValue): number {
  const aa = Array.isArray(a) ? a : [a];
  const bb = Array.isArray(b) ? b : [b];
  for (let i = 0; i < Math.min(aa.length, bb.length); i++) {
    const c = compareBytes(aa[i]!, bb[i]!);
    if (c !== 0) return c;
  }
  return aa.length - bb.length;
}

function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

export function otherValue(spec: BreakdownSpec): BreakdownValue {
  return spec.multiple ? spec.parts.map(() => BREAKDOWN_OTHER) : BREAKDOWN_OTHER;
}

export function valueKey(v: BreakdownValue): string {
  return JSON.stringify(v);
}

/** Label of a breakdown value ("a::b" for multiple breakdowns, as PostHog's frontend mirrors). */
export function breakdownLabel(v: BreakdownValue): string {
  return Array.isArray(v) ? v.join('::') : v;
}
