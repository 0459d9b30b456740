/**
 * SQL text for the store's columns and literals. Pure string code with no DuckDB import, so the
 * funnel worker thread can load it without the native module.
 */

/** What propertySql needs of a store: the column a property key is materialized in, if any. */
export interface MaterializedColumns {
  materializedColumn(key: string): string | undefined;
}

/** JSON path for a top-level property key (keys may contain dots, e.g. tp.discover.metadata.id). */
export function jsonPath(key: string): string {
  return `$."${key.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * SQL boolean, true for every row whose JSON text (column `col`) may have one of these keys at
 * some level: a cheap text pre-check before an exact lookup (a value mentioning a key name is a
 * harmless false positive). DuckDB's JSON reader writes keys minified and unescaped, so the plain
 * quoted key is enough there (`normalizedJson`); JSON cast from text (CSV, Parquet, older rows)
 * keeps its escapes, so any text with a backslash is taken too.
 */
export function keysTextSql(col: string, keys: readonly string[], opts: { normalizedJson?: boolean } = {}): string {
  const forms = keys.map((k) => JSON.stringify(k).slice(1, -1));
  const re = `regexp_matches(${col}, ${sqlString(`"(?:${forms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})"`)})`;
  return opts.normalizedJson && !forms.some((f) => f.includes('\\')) ? re : `(${re} OR contains(${col}, '\\'))`;
}

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** SQL list literal of strings: ['a', 'b']. */
export function stringListSql(values: Iterable<string>): string {
  return `[${[...values].map(sqlString).join(', ')}]`;
}

/**
 * SQL boolean: the VARCHAR expression equals one of the values (NULL when it is NULL), like
 * `expr IN (...)`. DuckDB plans an IN list of several strings as a join that hashes every row;
 * list_contains() runs once per dictionary entry where the column's vectors are dictionaries
 * (the event name: ~0.15 CPU-s per 10M rows as IN, ~0.04 this way).
 */
export function stringInSql(expr: string, values: Iterable<string>): string {
  return `list_contains(${stringListSql(values)}, ${expr})`;
}

export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * SQL expression (VARCHAR, NULL when absent) for an event property, preferring a materialized
 * column. `alias` is the events table alias in the query.
 */
export function propertySql(store: MaterializedColumns, key: string, alias = 'e'): string {
  const col = store.materializedColumn(key);
  const a = alias ? `${alias}.` : '';
  if (col) return `${a}${quoteIdent(col)}`;
  return `json_extract_string(${a}properties, ${sqlString(jsonPath(key))})`;
}

/** SQL expression for a person property (persons table alias `p`). */
export function personPropertySql(key: string, alias = 'p'): string {
  return `json_extract_string(${alias}.properties, ${sqlString(jsonPath(key))})`;
}

/** `col` within inclusive microsecond bounds, on a TIMESTAMPTZ column (PostHog's ends are .999999). */
export function timestampRangeSql(range: { fromUs: bigint; toUs: bigint }, col: string): string {
  return `${col} >= make_timestamptz(${range.fromUs}::BIGINT) AND ${col} <= make_timestamptz(${range.toUs}::BIGINT)`;
}
