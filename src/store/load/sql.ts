/**
 * The load's SQL: each source read by DuckDB's own reader (read_json / read_csv / read_parquet),
 * normalized and validated row by row in the insert, the derived uuids and person ids, the
 * materialized columns an insert fills and the late keys filled after it.
 */
import { InputError } from '../../errors.js';
import { taxonomyPropertyKeys } from '../../events/taxonomy.js';
import { UUID_FIELD_SEPARATOR, UUID_NAME_PREFIX } from '../../events/uuid.js';
import type { StoreHandle as Store } from '../handle.js';
import { keysTextSql, quoteIdent, sqlString } from '../sql.js';
import type { Source } from '../sources.js';
import { vocabRules, type VocabRule } from '../vocab-rules.js';
import { sampleKeys } from './sample.js';

/** Person-property operators carried in event properties, materialized alongside the taxonomy keys. */
export const PERSON_OPS = ['$set', '$set_once', '$unset'] as const;

/** The error() text a row that fails the insert's checks raises. */
export const INVALID_ROW = 'dm:invalid-row';

export async function scalar(store: Store, sql: string): Promise<number> {
  const r = await store.conn.runAndReadAll(sql);
  const v = r.getRows()[0]?.[0];
  return v === null || v === undefined ? 0 : Number(v);
}

/** A DuckDB error's first line without its "Xxx Error: " prefix. */
export function duckMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg
    .split('\n')[0]!
    .replace(/^[A-Za-z ]+Error: /, '')
    .trim();
}

/** Columns every source is turned into, in this order. */
interface Raw {
  /** SQL yielding raw_uuid, event, distinct_id, raw_ts, props, person_id, pprops, rn. */
  select: string;
  /** props/pprops are JSON (true) or text holding JSON (false). */
  jsonTyped: boolean;
}

export async function rawSelect(store: Store, src: Source): Promise<Raw> {
  const path = sqlString(src.path);
  const comp = src.gzip ? 'gzip' : 'uncompressed';
  if (src.format === 'jsonl' || src.format === 'json') {
    const fmt = src.format === 'jsonl' ? 'newline_delimited' : 'array';
    return {
      jsonTyped: true,
      // event and distinct_id are read as JSON so that an object or `true` is not taken for a
      // name (as VARCHAR they would be its JSON text): the event a string, the distinct_id a
      // string or a number; anything else is NULL here and the row fails as missing it.
      // (ORs, not `left(..) NOT IN (5 items)`: DuckDB turns an IN list of 5 or more into a join,
      // which makes the whole insert run on one thread; see insertIsParallel)
      select: `SELECT uuid AS raw_uuid,
          (CASE WHEN starts_with(event, '"') THEN event->>'$' END) AS event,
          (CASE WHEN starts_with(distinct_id, '"') THEN distinct_id->>'$'
                WHEN NOT (${['{', '[', 't', 'f', 'n'].map((c) => `starts_with(distinct_id, '${c}')`).join(' OR ')}) THEN CAST(distinct_id AS VARCHAR) END) AS distinct_id,
          timestamp AS raw_ts, properties AS props, person_id, person_properties AS pprops, NULL::BIGINT AS rn
        FROM read_json(${path}, format='${fmt}', compression='${comp}', maximum_object_size=67108864,
          columns={uuid: 'VARCHAR', event: 'JSON', distinct_id: 'JSON', timestamp: 'VARCHAR', properties: 'JSON', person_id: 'VARCHAR', person_properties: 'JSON'})`,
    };
  }
  let cols: { name: string; type: string }[];
  let from: string;
  if (src.format === 'csv') {
    const header = src.header ?? [];
    const dup = header.find((h, i) => header.indexOf(h) !== i);
    if (dup) throw new InputError(`${src.display}:1`, `the header row names column '${dup}' twice`);
    cols = header.map((name) => ({ name, type: 'VARCHAR' }));
    const colSpec = header.map((h) => `${sqlString(h)}: 'VARCHAR'`).join(', ');
    from = `read_csv(${path}, header=true, auto_detect=false, delim=',', quote='"', escape='"', compression='${comp}',
      null_padding=false, strict_mode=true, columns={${colSpec}})`;
  } else {
    from = `read_parquet(${path}, file_row_number=true)`;
    try {
      const d = await store.conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`);
      cols = d.getRows().map((r) => ({ name: String(r[0]), type: String(r[1]) }));
    } catch (e) {
      throw new InputError(src.display, `not a readable Parquet file: ${duckMessage(e)}`);
    }
  }
  const has = (n: string) => cols.find((c) => c.name === n);
  for (const req of ['event', 'distinct_id', 'timestamp']) {
    if (!has(req)) {
      throw new InputError(
        src.format === 'csv' ? `${src.display}:1` : src.display,
        `no '${req}' column (found: ${cols.map((c) => c.name).join(', ') || 'none'})`,
        'Expected PostHog\'s event layout: uuid, event, distinct_id, timestamp, properties (JSON text), optional person_id, person_properties.',
      );
    }
  }
  const text = (n: string) => {
    const c = has(n);
    if (!c) return 'NULL::VARCHAR';
    if (/^(STRUCT|MAP)/i.test(c.type) || /\[\]$/.test(c.type)) return `to_json(${quoteIdent(n)})::VARCHAR`;
    return `NULLIF(CAST(${quoteIdent(n)} AS VARCHAR), '')`;
  };
  return {
    jsonTyped: false,
    select: `SELECT ${text('uuid')} AS raw_uuid, ${text('event')} AS event, ${text('distinct_id')} AS distinct_id, ${text('timestamp')} AS raw_ts,
      ${text('properties')} AS props, ${text('person_id')} AS person_id, ${text('person_properties')} AS pprops,
      ${src.format === 'parquet' ? 'file_row_number' : 'NULL::BIGINT'} AS rn FROM ${from}`,
  };
}

/**
 * SQL for a JSON object column given as JSON or as text holding JSON (a JSON string is unwrapped
 * once). Two levels: `pre` (computed first, once) and `value`/`bad` over those names.
 */
function objectSql(col: string, name: string, jsonTyped: boolean): { pre: string; value: string; bad: string } {
  if (jsonTyped) {
    // JSON values from read_json are minified and start with their first token, so one
    // character tells an object (nearly every row) from the rest; only the rest pay for the
    // type checks and the unwrapping of a string (CASE evaluates a branch for its rows only).
    const isObj = `starts_with(${col}, '{')`;
    const typeOf = `(CASE left(${col}, 1) WHEN '"' THEN 'VARCHAR' WHEN 'n' THEN 'NULL' WHEN '[' THEN 'ARRAY' ELSE COALESCE(json_type(${col}), 'SQLNULL') END)`;
    const inner = `TRY_CAST(${col}->>'$' AS JSON)`;
    const innerType = `COALESCE(json_type(${inner}), 'SQLNULL')`;
    return {
      pre: `${col} AS ${name}_j`,
      value: `(CASE WHEN ${isObj} THEN ${col} WHEN ${col} IS NULL THEN NULL
        WHEN starts_with(${col}, '"') AND ${innerType} = 'OBJECT' THEN ${inner} END)`,
      bad: `(CASE WHEN ${col} IS NULL OR ${isObj} THEN false
        WHEN ${typeOf} = 'VARCHAR' THEN ${innerType} NOT IN ('OBJECT', 'NULL')
        ELSE ${typeOf} <> 'NULL' END)`,
    };
  }
  const t = `${name}_t`;
  const u = `${name}_u`;
  const j = `TRY_CAST(${col} AS JSON)`;
  const typeOf = `COALESCE(json_type(${name}_j), 'SQLNULL')`;
  const ut = `(CASE WHEN ${t} = 'VARCHAR' THEN COALESCE(json_type(${u}), 'SQLNULL') ELSE ${t} END)`;
  const pre = `${j} AS ${name}_j, ${typeOf} AS ${t},
    (CASE WHEN ${t} = 'VARCHAR' THEN TRY_CAST(${name}_j->>'$' AS JSON) ELSE ${name}_j END) AS ${u}`;
  const value = `(CASE WHEN ${ut} = 'OBJECT' THEN ${u} END)`;
  const absent = `(${col} IS NULL OR ${t} = 'NULL' OR ${ut} = 'NULL')`;
  return { pre, value, bad: `(NOT ${absent} AND ${ut} <> 'OBJECT')` };
}

/** Derived event uuid, the SQL twin of deriveEventUuid (src/events/uuid.ts): same content in, same uuid out. */
export function derivedUuidSql(event: string, distinctId: string, ts: string, props: string): string {
  const h = `sha1(concat_ws(chr(${UUID_FIELD_SEPARATOR.charCodeAt(0)}), ${sqlString(UUID_NAME_PREFIX)}, ${event}, ${distinctId}, CAST(epoch_us(${ts}) AS VARCHAR), COALESCE(CAST(json(${props}) AS VARCHAR), '{}')))`;
  return uuidFromHexSql(h, '5');
}

/**
 * Person id for a distinct_id that has none (no person_id in the input, no mapping yet): the
 * distinct_id itself, so a new person costs nothing per row; PostHog exports bring real ids.
 */
export function derivedPersonSql(distinctId: string): string {
  return distinctId;
}

function uuidFromHexSql(hexExpr: string, version: string): string {
  // list_transform evaluates the hash once per row and names it h.
  return `CAST(list_transform([${hexExpr}], lambda h: concat(substr(h, 1, 8), '-', substr(h, 9, 4), '-${version}', substr(h, 14, 3), '-',
      substr('89ab', (CAST(('0x' || substr(h, 17, 1)) AS INTEGER) & 3) + 1, 1), substr(h, 18, 3), '-', substr(h, 21, 12)))[1] AS UUID)`;
}

export function derivePersonId(distinctId: string): string {
  return distinctId;
}


/** JSON pointer for a top-level key (cheaper per lookup in DuckDB than `$."key"`; same values). */
function jsonPointer(key: string): string {
  return '/' + key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Property keys a load fills columns for: the taxonomy, the person operators, and whatever the store materialized. */
function candidateKeys(store: Store): string[] {
  return [...new Set([...taxonomyPropertyKeys(), ...PERSON_OPS, ...store.materializedKeys()])];
}

/** One source's rows in `events` after its insert: rowid in (after, last]. */
export interface Batch {
  after: string;
  last: string;
  rows: number;
  /** Keys whose columns the insert filled. */
  written: string[];
  /** Rows with a value for a candidate key not written (counted by the insert). */
  lateRows: number;
}

/**
 * Temporary sequences used as counters by the inserts (nextval in a CASE branch runs for that
 * branch's rows only): rows that may carry keys the insert did not extract, rows that came with
 * their own person_id.
 */
export const LATE_SEQ = 'dm_late_rows';
export const PID_SEQ = 'dm_given_person_ids';

export async function counted(store: Store, seq: string): Promise<number> {
  return scalar(store, `SELECT last_value FROM duckdb_sequences() WHERE sequence_name = '${seq}' AND temporary`);
}

/**
 * Timestamps a load accepts: [TS_MIN, TS_END). Outside is a typo or a unit mistake (epoch
 * seconds read as milliseconds land in 1970), and one event centuries away would make every
 * `--from all` report span centuries of buckets.
 */
export const TS_MIN = '1990-01-01T00:00:00Z';
export const TS_END = '2100-01-01T00:00:00Z';

/** A UTC offset after a time that no zone has (beyond ±18:00, or minutes past 59). */
export const BAD_OFFSET_RE = '[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?\\s*[+-]((19|[2-9][0-9]):?[0-9]{0,2}|18:?(0[1-9]|[1-5][0-9])|[0-9]{2}:?[6-9][0-9])$';

/** SQL: the raw timestamp text carries an impossible UTC offset (cheap test first: most end with Z). */
function badOffsetSql(col: string): string {
  return `(NOT ends_with(${col}, 'Z') AND regexp_matches(${col}, ${sqlString(BAD_OFFSET_RE)}))`;
}

/** The normalized rows of a source (before validation) and how its properties are typed. */
export async function baseSql(store: Store, src: Source): Promise<{ base: string; jsonTyped: boolean }> {
  const raw = await rawSelect(store, src);
  const p = objectSql('props', 'p', raw.jsonTyped);
  const pp = objectSql('pprops', 'pp', raw.jsonTyped);
  const tsExpr = `COALESCE(TRY_CAST(raw_ts AS TIMESTAMPTZ),
      CASE WHEN regexp_full_match(raw_ts, '-?[0-9]{1,16}') THEN TRY_CAST(epoch_ms(TRY_CAST(raw_ts AS BIGINT)) AS TIMESTAMPTZ) END)`;
  const base = `SELECT raw_uuid, event, distinct_id, raw_ts, props, NULLIF(person_id, '') AS person_id, pprops, rn, gu,
          ${p.value} AS pj, ${p.bad} AS bad_props, ${pp.value} AS ppj, ${pp.bad} AS bad_pprops,
          (CASE WHEN isfinite(t) AND t >= TIMESTAMPTZ '${TS_MIN}' AND t < TIMESTAMPTZ '${TS_END}' AND NOT ${badOffsetSql('raw_ts')} THEN t END) AS ts,
          (raw_uuid IS NULL OR (gu IS NOT NULL AND length(raw_uuid) = 36)) AS uuid_ok
        FROM (SELECT *, ${tsExpr} AS t, TRY_CAST(raw_uuid AS UUID) AS gu, ${p.pre}, ${pp.pre}
              FROM (SELECT * REPLACE (NULLIF(raw_uuid, '') AS raw_uuid) FROM (${raw.select})))`;
  return { base, jsonTyped: raw.jsonTyped };
}

/**
 * Normalized rows of one source with per-row problem flags (used by the insert and by diagnosis),
 * with the values of `keys` as columns mk0.. (in that order) and, when `late` keys are given, a
 * boolean column `late_key`: the row carries one of them (top level, exact).
 *
 * The properties are parsed once per row, by one json_transform into a struct of every key the
 * statement needs (the extracted keys, the vocabulary's keys, the late candidates): it looks each
 * of the object's keys up in a hash table, where a list of JSON pointers (json_extract_string)
 * scans the object once per key; a key absent from most rows then costs next to nothing, so the
 * late candidates need no text pre-check. Values are json_extract_string's (strings unquoted,
 * anything else as JSON text), except that json_transform prints a JSON number in exponent form
 * its own way (1e-7 -> '1e-07', 1e16 -> '1e+16'): such short numeric strings are re-read by
 * json_extract_string (see transformedString).
 */
export function normalizedSql(base: string, keys: string[], late: string[] = [], vocabulary = true): string {
  const mcol = new Map(keys.map((k, i) => [k, `mk${i}`]));
  // Vocabulary: events are mapped to a rule group by one ENUM cast (a hash lookup), then each
  // group's checks run on integers and ENUM casts instead of scanning name lists.
  const rules = vocabulary ? vocabRules() : [];
  const groupOf = new Map<string, number>();
  const groups: number[][] = [];
  for (const name of new Set(rules.flatMap((r) => r.events))) {
    const ids = rules.flatMap((r, i) => (r.events.includes(name) ? [i] : []));
    let g = groups.findIndex((x) => x.join() === ids.join());
    if (g < 0) g = groups.push(ids) - 1;
    groupOf.set(name, g + 1);
  }
  const ruleKeys = rules.flatMap((r) => [r.key, ...(r.when ? [r.when.key] : [])]);
  const fields = propertyFields([...keys, ...ruleKeys, ...late]);
  const val = (k: string) => mcol.get(k) ?? fields.ref(k);
  const ruleSql = (r: VocabRule) => {
    const v = val(r.key);
    const empty = r.allowed === undefined ? (r.when ? `trim(${v}) = ''` : `${v} = ''`) : 'false';
    const missing = `(${v} IS NULL OR ${empty})`;
    // NOT IN (list) as a failed cast to an ENUM of the list: a hash lookup evaluated for this
    // group's rows only (an IN list becomes a join that probes every row of the load)
    const notAllowed = r.allowed ? `(${v} IS NOT NULL AND TRY_CAST(${v} AS ENUM(${[...new Set(r.allowed)].map(sqlString).join(', ')})) IS NULL)` : 'false';
    const cond = r.required ? `(${missing} OR ${notAllowed})` : notAllowed;
    const when = r.when ? `${val(r.when.key)} IS NOT DISTINCT FROM ${sqlString(r.when.equals)} AND ` : '';
    return `(${when}${cond})`;
  };
  const vocab = groups.length
    ? `(CASE vgrp ${groups.map((ids, g) => `WHEN ${g + 1} THEN (${ids.map((i) => ruleSql(rules[i]!)).join(' OR ')})`).join(' ')} ELSE false END)`
    : 'false';
  // (a join with a table of names would reorder the rows: see loadSources)
  const vgrp = groups.length
    ? `[${[...groupOf.values()].join(', ')}][enum_code(TRY_CAST(event AS ENUM(${[...groupOf.keys()].map(sqlString).join(', ')}))) + 1]`
    : 'NULL::INTEGER';
  const keyCols = keys.map((k, i) => `, ${transformedString(fields.ref(k), k)} AS mk${i}`).join('');
  const lateCol = late.length ? `, (${late.map((k) => `${fields.ref(k)} IS NOT NULL`).join(' OR ')}) AS late_key` : '';
  return `SELECT * EXCLUDE (${fields.names.join(', ')}),
      (CASE WHEN event IS NULL OR event = '' THEN 'event'
            WHEN distinct_id IS NULL OR distinct_id = '' THEN 'distinct_id'
            WHEN raw_ts IS NULL THEN 'timestamp'
            WHEN ts IS NULL THEN 'timestamp!'
            WHEN NOT uuid_ok THEN 'uuid'
            WHEN bad_props THEN 'properties'
            WHEN bad_pprops THEN 'person_properties'
            WHEN vgrp IS NOT NULL AND ${vocab} THEN 'vocabulary'
       END) AS problem
    FROM (
      SELECT *${keyCols}${lateCol}
      FROM (
        SELECT *, ${fields.select}, ${vgrp} AS vgrp,
          CASE WHEN raw_uuid IS NULL THEN ${derivedUuidSql('event', 'distinct_id', 'ts', 'pj')} ELSE gu END AS u
        FROM (${base})
      )
    )`;
}

/**
 * The json_transform structs (columns dm_pf0..) holding these property keys of `pj`, and the
 * SQL of each key's value (VARCHAR). DuckDB's struct field names are case-insensitive, so keys
 * differing only in case go to another struct (another parse of those rows: rare).
 */
function propertyFields(keys: string[]): { names: string[]; select: string; ref(key: string): string } {
  const structs: string[][] = [];
  const at = new Map<string, number>();
  for (const k of new Set(keys)) {
    let i = structs.findIndex((s) => !s.some((x) => x.toLowerCase() === k.toLowerCase()));
    if (i < 0) i = structs.push([]) - 1;
    structs[i]!.push(k);
    at.set(k, i);
  }
  if (structs.length === 0) structs.push([]);
  const names = structs.map((_, i) => `dm_pf${i}`);
  const select = structs
    .map((ks, i) =>
      ks.length
        ? `json_transform(pj, ${sqlString(JSON.stringify(Object.fromEntries(ks.map((k) => [k, 'VARCHAR']))))}) AS ${names[i]}`
        : `NULL::INTEGER AS ${names[i]}`,
    )
    .join(', ');
  return {
    names,
    select,
    ref: (key) => `struct_extract(${names[at.get(key)!]}, ${sqlString(key)})`,
  };
}

/**
 * A json_transform VARCHAR value as json_extract_string gives it: the two differ only for JSON
 * numbers printed in exponent form (json_transform: '1e-07', '1e+16'; json_extract_string keeps
 * yyjson's '1e-7', '10000000000000000.0'), which are short and start with a digit or '-'; those
 * few rows read the key again with json_extract_string.
 */
function transformedString(v: string, key: string): string {
  return `(CASE WHEN ${v} >= '-' AND ${v} < ':' AND strlen(${v}) <= 24 AND contains(${v}, 'e')
    THEN json_extract_string(pj, ${sqlString(jsonPointer(key))}) ELSE ${v} END)`;
}

/**
 * DuckDB estimates a file read at a few dozen rows, so it would build the hash join with the
 * person mappings on the file's side (every row of the load, with its properties) instead of on
 * the mappings: several CPU-seconds per million events. Keep the written order (build on the
 * mappings) for that statement.
 */
export async function withBuildSideKept<T>(store: Store, active: boolean, fn: () => Promise<T>): Promise<T> {
  if (!active) return fn();
  const prev = await disabledOptimizers(store);
  const list = [...new Set([...prev.split(',').map((x) => x.trim()).filter(Boolean), 'build_side_probe_side'])];
  await store.conn.run(`SET disabled_optimizers = ${sqlString(list.join(','))}`);
  try {
    return await fn();
  } finally {
    // (a failed statement aborts the transaction and this SET with it: loadSources restores it)
    await store.conn.run(`SET disabled_optimizers = ${sqlString(prev)}`).catch(() => undefined);
  }
}

export async function disabledOptimizers(store: Store): Promise<string> {
  return String((await store.conn.runAndReadAll(`SELECT current_setting('disabled_optimizers')`)).getRows()[0]?.[0] ?? '');
}

/**
 * The insert of one source. The candidate keys seen in its first rows get columns first (when
 * new) and are extracted by the insert; the rest are left to fillLateKeys.
 */
export async function insertSql(store: Store, src: Source, vocabulary = true): Promise<{ sql: string; written: string[]; joinsMapping: boolean }> {
  const { base } = await baseSql(store, src);
  const seen = await sampleKeys(store, base, src);
  const candidates = candidateKeys(store);
  const keys = candidates.filter((k) => seen.has(k));
  await store.materialize(keys);
  // Rows that carry a candidate key not extracted here are counted (the counter's THEN branch runs
  // for those rows only), so the search after the insert runs only when there is something to find.
  const late = candidates.filter((k) => !keys.includes(k));
  const sql = normalizedSql(base, keys, late, vocabulary);
  const uuidSql = `CASE WHEN s.problem IS NOT NULL THEN error('${INVALID_ROW}')${
    late.length ? ` WHEN s.late_key THEN (CASE WHEN nextval('${LATE_SEQ}') IS NULL THEN NULL ELSE s.u END)` : ''
  } ELSE s.u END`;
  // the materialized columns, each followed by its hash companion if it has one (hashedKeys)
  const matCols: string[] = [];
  const matVals: string[] = [];
  keys.forEach((k, i) => {
    matCols.push(quoteIdent(store.materializedColumn(k)!));
    matVals.push(`s.mk${i}`);
    const h = store.keyHashColumn(k);
    if (h) {
      matCols.push(quoteIdent(h));
      matVals.push(`hash(s.mk${i})`);
    }
  });
  // The person of a row: its person_id, else the stored mapping of its distinct_id, else derived.
  const mapped = await remappedIdsSql(store, 's.distinct_id');
  const derived = derivedPersonSql('s.distinct_id');
  const personSql = `CASE WHEN s.person_id IS NOT NULL THEN (CASE WHEN nextval('${PID_SEQ}') IS NULL THEN NULL ELSE s.person_id END)
    ELSE ${mapped ? `COALESCE(${mapped}, ${derived})` : derived} END`;
  return {
    written: keys,
    joinsMapping: mapped === JOINED,
    sql: `INSERT INTO events (uuid, event, distinct_id, person_id, timestamp, properties, person_properties${matCols.map((c) => ', ' + c).join('')})
    SELECT ${uuidSql}, s.event, s.distinct_id,
      ${personSql}, s.ts, COALESCE(s.pj, '{}'::JSON), s.ppj${matVals.map((v) => `, ${v}`).join('')}
    FROM (${sql}) s${mapped === JOINED ? ` LEFT JOIN (${remappedSql()}) pdi ON pdi.distinct_id = s.distinct_id` : ''}`,
  };
}

/** Session objects holding the stored distinct_id -> person mappings an insert looks up. */
export const REMAP_TYPE = 'dm_remapped_ids';
export const REMAP_VAR = 'dm_remapped_persons';

/** Mappings looked up by an ENUM cast at most; DuckDB's cost per row grows with their number. */
const REMAP_ENUM_MAX = 10_000;
/** remappedIdsSql's answer when the insert joins the mappings instead. */
const JOINED = 'pdi.person_id';

/** Stored distinct_id -> person mappings to another person than the derived one. */
function remappedSql(): string {
  return `SELECT distinct_id, min(person_id) AS person_id FROM person_distinct_ids
    WHERE person_id <> ${derivedPersonSql('distinct_id')} GROUP BY distinct_id`;
}

/**
 * SQL for the stored person of a distinct_id when it is not the derived one (NULL otherwise), or
 * undefined when the store has no such mapping (no person_id in any input so far). Not a join,
 * which would reorder the insert's rows: the mapped distinct_ids become a temporary ENUM type
 * (a cast is one hash lookup) whose code indexes a list of their persons in a session variable.
 * With more than REMAP_ENUM_MAX of them (stores of PostHog exports) that costs more per row than
 * a hash join, so the insert joins them (JOINED); its rows then follow the join's order, which
 * groups each chunk's rows by whether they matched.
 */
async function remappedIdsSql(store: Store, distinctId: string): Promise<string | undefined> {
  const conn = store.conn;
  const n = await scalar(store, `SELECT count(*) FROM (${remappedSql()})`);
  if (n === 0) return undefined;
  if (n > REMAP_ENUM_MAX) return JOINED;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_remap AS ${remappedSql()}`);
  await conn.run(`CREATE OR REPLACE TEMP TYPE ${REMAP_TYPE} AS ENUM (SELECT distinct_id FROM dm_remap ORDER BY distinct_id)`);
  await conn.run(`SET VARIABLE ${REMAP_VAR} = (SELECT list(person_id ORDER BY distinct_id) FROM dm_remap)`);
  await conn.run(`DROP TABLE dm_remap`);
  return `getvariable('${REMAP_VAR}')[enum_code(TRY_CAST(${distinctId} AS ${REMAP_TYPE})) + 1]`;
}

/**
 * After the inserts: candidate keys that a source's insert did not extract (not in its first
 * rows) may still occur further on; the insert counted the rows with a value for one
 * (`lateRows`). Then one scan of the batch finds the keys; keys found get their column (filled
 * for every stored event) or, when they have one already (made since, or in a store with every
 * column), are filled for the batch's rows that carry them.
 */
export async function fillLateKeys(store: Store, batches: Batch[]): Promise<void> {
  for (const b of batches) {
    if (b.lateRows === 0) continue; // (counted exactly: rows with a value for a candidate key not written)
    const late = candidateKeys(store).filter((k) => !b.written.includes(k));
    if (late.length === 0) continue;
    const range = `rowid > ${b.after} AND rowid <= ${b.last}`;
    const r = await store.conn.runAndReadAll(
      `SELECT DISTINCT k FROM (SELECT unnest(json_keys(properties)) AS k FROM events WHERE ${range} AND ${keysTextSql('properties', late)})
       WHERE k IN (${late.map(sqlString).join(', ')})`,
    );
    const found = new Set(r.getRows().map((x) => String(x[0])));
    if (found.size === 0) continue;
    const keys = late.filter((k) => found.has(k));
    const existing = keys.filter((k) => store.materializedColumn(k));
    await store.materialize(keys.filter((k) => !store.materializedColumn(k)));
    await store.fillMaterialized(existing, range);
  }
}

