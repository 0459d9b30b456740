/**
 * PostHog property filters compiled to DuckDB SQL, shared by the local funnel and trends engines.
 *
 * Semantics follow HogQL's property_to_expr + its null-safe comparison printing:
 *   - positive operators (exact, icontains, regex, gt, ...) are false for a missing property;
 *   - negative operators (is_not, not_icontains, not_regex) are TRUE for a missing property
 *     (HogQL prints them as ifNull(<cmp>, 1));
 *   - `exact`/`is_not` with a list match any / none of the values;
 *   - property values are compared as PostHog stringifies them (1 -> '1', true -> 'true').
 * A filter list means AND; a group {type: AND|OR, values: [...]} nests.
 */
import { UsageError } from '../../errors.js';
import { PROPERTY_OPERATORS } from '../../query/schema.js';
import type { Store } from '../../store/store.js';
import { personPropertySql, propertySql, sqlString, stringInSql } from '../../store/sql.js';

export interface FilterEnv {
  store: Pick<Store, 'materializedColumn'>;
  /** alias of the events table in the query */
  eventAlias: string;
  /** alias of the persons table (joined on events.person_id) */
  personAlias: string;
  /** JSON path prefix for error messages, e.g. "query.properties" */
  where?: string;
}

/** Every operator of the query schema except the aggregate-only min/max and the semver / multi-contains ones. */
export const SUPPORTED_OPERATORS: readonly string[] = PROPERTY_OPERATORS.filter((op) => op !== 'min' && op !== 'max' && !op.startsWith('semver_') && !op.endsWith('icontains_multi'));

export const SUPPORTED_FILTER_TYPES = ['event', 'person', 'event_metadata'] as const;

/** Columns of the events table that `event_metadata` filters may name. */
const EVENT_METADATA_COLUMNS: Record<string, string> = {
  distinct_id: 'distinct_id',
  event: 'event',
  person_id: 'person_id',
  uuid: 'CAST(%a.uuid AS VARCHAR)',
  timestamp: 'CAST(%a.timestamp AS VARCHAR)',
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isGroup(v: unknown): v is { type: string; values: unknown[] } {
  return isObj(v) && Array.isArray(v.values) && (v.type === 'AND' || v.type === 'OR');
}

/** True when the filters reference person properties (the caller must join persons). */
export function usesPersonProperties(filters: unknown): boolean {
  if (filters === null || filters === undefined) return false;
  if (Array.isArray(filters)) return filters.some(usesPersonProperties);
  if (isGroup(filters)) return filters.values.some(usesPersonProperties);
  return isObj(filters) && filters.type === 'person';
}

/** SQL boolean for a PostHog property filter list or group; 'TRUE' when empty. */
export function propertyFiltersSql(filters: unknown, env: FilterEnv): string {
  return compile(filters, env, env.where ?? 'properties');
}

function compile(f: unknown, env: FilterEnv, where: string): string {
  if (f === null || f === undefined) return 'TRUE';
  if (Array.isArray(f)) {
    const parts = f.map((x, i) => compile(x, env, `${where}[${i}]`)).filter((s) => s !== 'TRUE');
    return parts.length === 0 ? 'TRUE' : parts.map((p) => `(${p})`).join(' AND ');
  }
  if (isObj(f) && Array.isArray(f.values) && 'type' in f && !('key' in f)) {
    if (f.type !== 'AND' && f.type !== 'OR') {
      throw new UsageError(`${where}.type: unknown property group type '${String(f.type)}'`, 'Valid group types: AND, OR.');
    }
    const parts = (f.values as unknown[]).map((x, i) => compile(x, env, `${where}.values[${i}]`));
    if (parts.length === 0) return 'TRUE';
    const nonTrivial = parts.filter((p) => p !== 'TRUE');
    if (f.type === 'AND') return nonTrivial.length === 0 ? 'TRUE' : nonTrivial.map((p) => `(${p})`).join(' AND ');
    // OR with an empty member is TRUE
    if (nonTrivial.length < parts.length) return 'TRUE';
    return nonTrivial.map((p) => `(${p})`).join(' OR ');
  }
  if (!isObj(f)) throw new UsageError(`${where}: expected a property filter object or group`);
  return compileFilter(f, env, where);
}

/**
 * The parts of an `exact`/`in` filter with at least one value: the property expression and the
 * strings it must equal. Its SQL (compileFilter) is exactly "expr is one of values" and false
 * for a missing property, so a caller may evaluate it as a lookup of the expression's value.
 * undefined for every other filter (groups, other operators, empty value lists).
 */
export function exactFilterParts(f: unknown, env: FilterEnv, where: string): { sql: string; expr: string; values: string[] } | undefined {
  if (!isObj(f) || isGroup(f) || !('key' in f)) return undefined;
  const operator = (f.operator as string | undefined | null) ?? 'exact';
  if (operator !== 'exact' && operator !== 'in') return undefined;
  const values = (Array.isArray(f.value) ? f.value : [f.value]).map(valueString);
  if (values.length === 0) return undefined;
  return { sql: compileFilter(f, env, where), expr: propertyExpr(f, env, where), values: [...new Set(values)] };
}

/**
 * x IN (values). Event and person properties are strings (stringInSql, the cheaper form);
 * metadata columns (uuid, timestamp, ...) keep IN, which casts the values to the column's type.
 */
function inList(f: Obj, x: string, values: unknown[]): string {
  const strings = values.map(valueString);
  const type = (f.type as string | undefined) ?? 'event';
  return type === 'event' || type === 'person' ? stringInSql(x, strings) : `${x} IN (${strings.map(sqlString).join(', ')})`;
}

function valueString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return JSON.stringify(v);
}

function propertyExpr(f: Obj, env: FilterEnv, where: string): string {
  const type = (f.type as string | undefined) ?? 'event';
  const key = f.key;
  if (typeof key !== 'string' || key === '') throw new UsageError(`${where}.key: expected a property key (string)`);
  switch (type) {
    case 'event':
      return propertySql(env.store, key, env.eventAlias);
    case 'person':
      return personPropertySql(key, env.personAlias);
    case 'event_metadata': {
      const col = EVENT_METADATA_COLUMNS[key];
      if (!col) {
        throw new UsageError(
          `${where}.key: unknown event_metadata key '${key}'`,
          `Valid keys: ${Object.keys(EVENT_METADATA_COLUMNS).join(', ')}.`,
        );
      }
      return col.includes('%a') ? col.replace('%a', env.eventAlias) : `${env.eventAlias}.${col}`;
    }
    default:
      throw new UsageError(
        `${where}.type: property filter type '${type}' is not supported by the local engine`,
        `Supported types: ${SUPPORTED_FILTER_TYPES.join(', ')} (run it with --engine posthog for others).`,
      );
  }
}

function numberLiteral(v: unknown, where: string): string {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${where}.value: expected a number, got ${JSON.stringify(v)}`);
  return `${n}::DOUBLE`;
}

function dateLiteral(v: unknown, where: string): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v.includes('T') || v.length <= 10 ? v : v.replace(' ', 'T')))) {
    throw new UsageError(`${where}.value: expected a date, got ${JSON.stringify(v)}`);
  }
  return `TRY_CAST(${sqlString(v)} AS TIMESTAMPTZ)`;
}

/**
 * For an anchored regex that is only a literal (`^connect\.`), the literal: the match is then a
 * plain prefix test, which DuckDB runs far faster than the regex engine (same result).
 */
export function literalPrefix(pattern: string): string | undefined {
  const m = /^\^((?:[^\\.^$|?*+()[\]{}]|\\[.^$|?*+()[\]{}\\/-])*)$/.exec(pattern);
  if (!m) return undefined;
  return m[1]!.replace(/\\(.)/g, '$1');
}

function compileFilter(f: Obj, env: FilterEnv, where: string): string {
  const operator = (f.operator as string | undefined | null) ?? 'exact';
  if (!(SUPPORTED_OPERATORS as readonly string[]).includes(operator)) {
    throw new UsageError(
      `${where}.operator: unknown operator '${operator}'`,
      `Supported operators: ${SUPPORTED_OPERATORS.join(', ')}.`,
    );
  }
  const x = propertyExpr(f, env, where);
  const value = f.value;
  const values = Array.isArray(value) ? value : [value];
  switch (operator) {
    case 'exact':
    case 'in': {
      if (values.length === 0) return 'FALSE';
      if (values.length === 1) return `coalesce(${x} = ${sqlString(valueString(values[0]))}, FALSE)`;
      return `coalesce(${inList(f, x, values)}, FALSE)`;
    }
    case 'is_not':
    case 'not_in': {
      if (values.length === 0) return 'TRUE';
      if (values.length === 1) return `coalesce(${x} <> ${sqlString(valueString(values[0]))}, TRUE)`;
      return `coalesce(NOT ${inList(f, x, values)}, TRUE)`;
    }
    case 'icontains':
      return `coalesce(contains(lower(${x}), ${sqlString(valueString(value).toLowerCase())}), FALSE)`;
    case 'not_icontains':
      return `coalesce(NOT contains(lower(${x}), ${sqlString(valueString(value).toLowerCase())}), TRUE)`;
    case 'regex': {
      const prefix = literalPrefix(valueString(value));
      if (prefix !== undefined) return `coalesce(starts_with(${x}, ${sqlString(prefix)}), FALSE)`;
      return `coalesce(regexp_matches(${x}, ${sqlString(valueString(value))}), FALSE)`;
    }
    case 'not_regex': {
      const prefix = literalPrefix(valueString(value));
      if (prefix !== undefined) return `coalesce(NOT starts_with(${x}, ${sqlString(prefix)}), TRUE)`;
      return `coalesce(NOT regexp_matches(${x}, ${sqlString(valueString(value))}), TRUE)`;
    }
    case 'gt':
      return `coalesce(TRY_CAST(${x} AS DOUBLE) > ${numberLiteral(value, where)}, FALSE)`;
    case 'gte':
      return `coalesce(TRY_CAST(${x} AS DOUBLE) >= ${numberLiteral(value, where)}, FALSE)`;
    case 'lt':
      return `coalesce(TRY_CAST(${x} AS DOUBLE) < ${numberLiteral(value, where)}, FALSE)`;
    case 'lte':
      return `coalesce(TRY_CAST(${x} AS DOUBLE) <= ${numberLiteral(value, where)}, FALSE)`;
    case 'between':
    case 'not_between': {
      if (!Array.isArray(value) || value.length !== 2) throw new UsageError(`${where}.value: expected [min, max]`);
      const cmp = `TRY_CAST(${x} AS DOUBLE) BETWEEN ${numberLiteral(value[0], where)} AND ${numberLiteral(value[1], where)}`;
      return operator === 'between' ? `coalesce(${cmp}, FALSE)` : `coalesce(NOT (${cmp}), TRUE)`;
    }
    case 'is_set':
      return `(${x} IS NOT NULL)`;
    case 'is_not_set':
      return `(${x} IS NULL)`;
    case 'is_date_exact':
      return `coalesce(TRY_CAST(${x} AS TIMESTAMPTZ) = ${dateLiteral(value, where)}, FALSE)`;
    case 'is_date_before':
      return `coalesce(TRY_CAST(${x} AS TIMESTAMPTZ) < ${dateLiteral(value, where)}, FALSE)`;
    case 'is_date_after':
      return `coalesce(TRY_CAST(${x} AS TIMESTAMPTZ) > ${dateLiteral(value, where)}, FALSE)`;
    default:
      throw new UsageError(`${where}.operator: unknown operator '${operator}'`);
  }
}
