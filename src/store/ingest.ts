/**
 * Loading events into the store — all or nothing, idempotent on uuid, persons as PostHog keeps them.
 *
 * Fast path (SQL, one transaction): each file is read by DuckDB's own reader (read_json /
 * read_csv / read_parquet, gzip inflated by DuckDB) and inserted straight into `events` with
 * every row validated in the same statement; a bad row makes the statement fail (DuckDB's
 * error()), the transaction rolls back and a slower diagnosis pass reads the file in JS to name
 * the first bad row's place (file:line, file[index], file: row N) and field.
 *
 * Materialized property columns are added as keys occur: the keys in a source's first rows, in
 * lines sampled across a big JSONL file, and those the vocabulary gives the events seen get
 * their columns before its insert and are extracted by it; the insert counts the rows with a
 * value for another candidate key, and only when there are some does a scan of the batch add and
 * fill those columns (fillLateKeys). A candidate key without a column thus has a value in no
 * stored event, and queries read it from the JSON.
 *
 * Rows are stored in input order (preserve_insertion_order, and no join in the insert), so a
 * load's row order does not depend on thread timing.
 *
 * After the inserts (same transaction):
 *   - uuid dedup: rows whose uuid is already stored, or repeated within the load, are removed
 *     (PostHog dedups on uuid), so loading a file twice is harmless;
 *   - persons: distinct_id -> person via person_distinct_ids; an event's person_id (PostHog
 *     exports) sets the mapping (the latest event wins, re-pointing older events: several
 *     distinct_ids become one person); otherwise a new person per distinct_id with a derived id;
 *   - person properties are recomputed for touched persons from their events in timestamp order:
 *     an event's person_properties (export snapshot) replaces them, then `$set_once` (only keys
 *     not present), `$set` (overwrite), `$unset` (remove) from its properties.
 *
 * Events without a uuid get a deterministic UUID (version 5 layout, SHA-1 of event, distinct_id,
 * timestamp in microseconds and the minified properties JSON), so re-loading stays idempotent.
 */
import { closeSync, createReadStream, createWriteStream, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { DmError, InputError, UsageError } from '../errors.js';
import { taxonomyPropertyKeys } from '../events/taxonomy.js';
import { checkTeleportEvent, isTeleportEvent } from '../events/vocabulary.js';
import type { Store } from './store.js';
import { keysTextSql, quoteIdent, sqlString, stringInSql } from './sql.js';
import { openSources, readRecords, type Source } from './sources.js';
import { brokenRule, extractString, vocabRules, type VocabRule } from './vocab-rules.js';
import { debug, debugEnabled } from '../debug.js';

export interface RawEvent {
  uuid?: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  person_id?: string;
  person_properties?: Record<string, unknown>;
}

export interface LoadSummary {
  /** Rows read from the inputs. */
  read: number;
  /** Rows stored (new uuids). */
  inserted: number;
  /** Rows whose uuid was already stored or repeated within this load (skipped). */
  duplicates: number;
  /** Persons created by this load. */
  persons: number;
  /** Inputs as named in messages. */
  files: string[];
  /** Stored rows that came without a uuid and got a derived one. */
  derivedUuids: number;
  /** Distinct ids re-pointed to another person (person_id in the input differed from the store's). */
  remappedDistinctIds: number;
}

export interface LoadOptions {
  /** Also run the strict vocabulary check (prehog envelope required) on every Teleport event. */
  strictVocabulary?: boolean;
  /** stdin to use for `-` (tests). */
  stdin?: Readable;
}

/** Person-property operators carried in event properties, materialized alongside the taxonomy keys. */
export const PERSON_OPS = ['$set', '$set_once', '$unset'] as const;

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INVALID_ROW = 'dm:invalid-row';

/** DISCOVER_METRICS_DEBUG=load prints the duration of each load step on stderr. */
let stepStart = 0;
let stepCpu = process.cpuUsage();
function step(name: string): void {
  if (!debugEnabled('load')) return;
  const now = performance.now();
  const cpu = process.cpuUsage(stepCpu);
  if (stepStart) {
    debug('load', `${name} ${((now - stepStart) / 1000).toFixed(2)}s (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)}s)`);
  }
  stepStart = now;
  stepCpu = process.cpuUsage();
}

// -------------------------------------------------------------------------------------------------
// Public API

/** Load files (`-` = stdin) in one transaction. Throws InputError (exit 2) naming the place. */
export async function loadFiles(store: Store, paths: string[], opts: LoadOptions = {}): Promise<LoadSummary> {
  if (store.readOnly) throw new UsageError(`the event store ${store.path} is open read-only`);
  const opened = await openSources(paths, opts.stdin);
  try {
    return await loadSources(store, opened.sources, opts);
  } finally {
    opened.cleanup();
  }
}

/**
 * Load in-memory events (sandbox capture, seed, tests) through the same SQL path. All or
 * nothing; errors name `${where}[index]`.
 */
export async function loadEvents(
  store: Store,
  events: Iterable<RawEvent> | AsyncIterable<RawEvent>,
  opts: LoadOptions & { where?: string } = {},
): Promise<LoadSummary> {
  if (store.readOnly) throw new UsageError(`the event store ${store.path} is open read-only`);
  const where = opts.where ?? 'events';
  const dir = mkdtempSync(join(tmpdir(), 'dm-load-'));
  try {
    const file = join(dir, 'events.jsonl');
    const out = createWriteStream(file);
    let buf = '';
    let i = 0;
    for await (const e of events as AsyncIterable<RawEvent>) {
      if (e === null || typeof e !== 'object' || Array.isArray(e)) {
        out.destroy();
        throw new InputError(`${where}[${i}]`, 'expected an event object');
      }
      buf += JSON.stringify(e) + '\n';
      i++;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await once(out, 'drain');
        buf = '';
      }
    }
    out.end(buf);
    await once(out, 'finish');
    const src: Source = { display: where, path: file, format: 'jsonl', gzip: false, lineWhere: (line) => `${where}[${line - 1}]` };
    const summary = await loadSources(store, [src], opts);
    return { ...summary, files: [where] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// -------------------------------------------------------------------------------------------------
// The load

async function loadSources(store: Store, sources: Source[], opts: LoadOptions): Promise<LoadSummary> {
  const conn = store.conn;
  const pio = await conn.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`);
  const previousPio = String(pio.getRows()[0]?.[0]) === 'true';
  const previousDisabled = await disabledOptimizers(store);
  // Rows are stored in input order, so a load's store does not depend on thread timing (funnels
  // break ties in time by scan order). DuckDB still inserts on every thread; a join in the insert
  // would reorder its rows (even with this setting), so the insert has none.
  await conn.run(`SET preserve_insertion_order = true`);
  // Each insert thread writes its row groups out one at a time instead of buffering 5 (~0.6 GB
  // on the bench): fresh memory costs a page fault per 4 KiB, ~0.5-1 CPU-s per 2M events.
  const previousBuffer = String(
    (await conn.runAndReadAll(`SELECT current_setting('write_buffer_row_group_count')`)).getRows()[0]?.[0] ?? '5',
  );
  await conn.run(`SET write_buffer_row_group_count = 1`);
  try {
    let failed: { source: Source; error: unknown } | undefined;
    let summary: LoadSummary | undefined;
    try {
      summary = await store.transaction(async () => {
        step('start');
        const before = Number((await conn.runAndReadAll(`SELECT COALESCE(max(rowid), -1) FROM events`)).getRows()[0]![0]);
        let read = 0;
        const batches: Batch[] = [];
        await conn.run(`CREATE OR REPLACE TEMP SEQUENCE ${LATE_SEQ}; CREATE OR REPLACE TEMP SEQUENCE ${PID_SEQ}`);
        for (const source of sources) {
          try {
            const ins = await insertSql(store, source);
            debug('sql', () => `load: ${ins.sql}`);
            step('prepare');
            const after = batches.at(-1)?.last ?? String(before);
            const lateBefore = await counted(store, LATE_SEQ);
            const r = await withBuildSideKept(store, ins.joinsMapping, () => conn.run(ins.sql));
            const lateRows = (await counted(store, LATE_SEQ)) - lateBefore;
            // (rows appended in a transaction have rowids far above the stored ones until it
            // commits, beyond a double's integers: kept as text)
            const last = String((await conn.runAndReadAll(`SELECT COALESCE(max(rowid), ${after}) FROM events WHERE rowid > ${after}`)).getRows()[0]![0]);
            batches.push({ after, last, rows: r.rowsChanged, written: ins.written, lateRows });
            read += r.rowsChanged;
            step(`insert ${source.display}`);
          } catch (e) {
            failed = { source, error: e };
            throw e;
          }
        }
        await conn.run(`DROP TYPE IF EXISTS ${REMAP_TYPE}; RESET VARIABLE ${REMAP_VAR}`);
        // New rows are appended after every stored row, so `rowid > before` is this load's batch.
        const appended = await scalar(store, `SELECT count(*) FROM events WHERE rowid > ${before}`);
        if (appended !== read) throw new Error(`load: expected ${read} appended rows after rowid ${before}, found ${appended}`);
        await fillLateKeys(store, batches);
        const givenPersonIds = await counted(store, PID_SEQ);
        await conn.run(`DROP SEQUENCE ${LATE_SEQ}; DROP SEQUENCE ${PID_SEQ}`);
        step('late keys');
        if (opts.strictVocabulary) await strictCheck(store, before);
        return await finishLoad(store, before, read, sources, givenPersonIds > 0);
      });
      step('commit');
    } catch (e) {
      if (e instanceof StrictVocabularyError) throw await locateStrict(sources, e);
      if (!failed || e instanceof DmError) throw e;
      throw await diagnose(store, failed.source, failed.error);
    }
    return summary;
  } finally {
    await conn.run(`SET preserve_insertion_order = ${previousPio}`);
    await conn.run(`SET write_buffer_row_group_count = ${Number(previousBuffer) || 5}`);
    await conn.run(`SET disabled_optimizers = ${sqlString(previousDisabled)}`);
    await conn.run(`DROP TYPE IF EXISTS ${REMAP_TYPE}; RESET VARIABLE ${REMAP_VAR}`).catch(() => undefined);
  }
}

/** Columns every source is turned into, in this order. */
interface Raw {
  /** SQL yielding raw_uuid, event, distinct_id, raw_ts, props, person_id, pprops, rn. */
  select: string;
  /** props/pprops are JSON (true) or text holding JSON (false). */
  jsonTyped: boolean;
}

async function rawSelect(store: Store, src: Source): Promise<Raw> {
  const path = sqlString(src.path);
  const comp = src.gzip ? 'gzip' : 'uncompressed';
  if (src.format === 'jsonl' || src.format === 'json') {
    const fmt = src.format === 'jsonl' ? 'newline_delimited' : 'array';
    return {
      jsonTyped: true,
      select: `SELECT uuid AS raw_uuid, event, distinct_id, timestamp AS raw_ts, properties AS props, person_id, person_properties AS pprops, NULL::BIGINT AS rn
        FROM read_json(${path}, format='${fmt}', compression='${comp}', maximum_object_size=67108864,
          columns={uuid: 'VARCHAR', event: 'VARCHAR', distinct_id: 'VARCHAR', timestamp: 'VARCHAR', properties: 'JSON', person_id: 'VARCHAR', person_properties: 'JSON'})`,
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

/** Derived event uuid: UUID v5 layout over SHA-1 of the event's content (see deriveEventUuid). */
function derivedUuidSql(event: string, distinctId: string, ts: string, props: string): string {
  const h = `sha1(concat_ws(chr(31), 'discover-metrics/event', ${event}, ${distinctId}, CAST(epoch_us(${ts}) AS VARCHAR), COALESCE(CAST(json(${props}) AS VARCHAR), '{}')))`;
  return uuidFromHexSql(h, '5');
}

/**
 * Person id for a distinct_id that has none (no person_id in the input, no mapping yet): the
 * distinct_id itself, so a new person costs nothing per row; PostHog exports bring real ids.
 */
function derivedPersonSql(distinctId: string): string {
  return distinctId;
}

function uuidFromHexSql(hexExpr: string, version: string): string {
  // list_transform evaluates the hash once per row and names it h.
  return `CAST(list_transform([${hexExpr}], lambda h: concat(substr(h, 1, 8), '-', substr(h, 9, 4), '-${version}', substr(h, 14, 3), '-',
      substr('89ab', (CAST(('0x' || substr(h, 17, 1)) AS INTEGER) & 3) + 1, 1), substr(h, 18, 3), '-', substr(h, 21, 12)))[1] AS UUID)`;
}

/**
 * The JS twin of the SQL derivation (same bytes in, same uuid out): the properties text is
 * DuckDB's minified JSON of the stored properties, '{}' when the event had none.
 */
export function deriveEventUuid(event: string, distinctId: string, timestampUs: bigint | number, minifiedPropertiesJson: string): string {
  const name = ['discover-metrics/event', event, distinctId, String(timestampUs), minifiedPropertiesJson].join('\x1f');
  return uuidFromHex(createHash('sha1').update(name, 'utf8').digest('hex'), '5');
}

export function derivePersonId(distinctId: string): string {
  return distinctId;
}

function uuidFromHex(h: string, version: string): string {
  const variant = '89ab'[parseInt(h[16]!, 16) & 3];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${version}${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
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
interface Batch {
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
const LATE_SEQ = 'dm_late_rows';
const PID_SEQ = 'dm_given_person_ids';

async function counted(store: Store, seq: string): Promise<number> {
  return scalar(store, `SELECT last_value FROM duckdb_sequences() WHERE sequence_name = '${seq}' AND temporary`);
}

/** The normalized rows of a source (before validation) and how its properties are typed. */
async function baseSql(store: Store, src: Source): Promise<{ base: string; jsonTyped: boolean }> {
  const raw = await rawSelect(store, src);
  const p = objectSql('props', 'p', raw.jsonTyped);
  const pp = objectSql('pprops', 'pp', raw.jsonTyped);
  const tsExpr = `COALESCE(TRY_CAST(raw_ts AS TIMESTAMPTZ),
      CASE WHEN regexp_full_match(raw_ts, '-?[0-9]{1,16}') THEN TRY_CAST(epoch_ms(TRY_CAST(raw_ts AS BIGINT)) AS TIMESTAMPTZ) END)`;
  const base = `SELECT raw_uuid, event, distinct_id, raw_ts, props, NULLIF(person_id, '') AS person_id, pprops, rn, gu,
          ${p.value} AS pj, ${p.bad} AS bad_props, ${pp.value} AS ppj, ${pp.bad} AS bad_pprops,
          (CASE WHEN isfinite(t) THEN t END) AS ts,
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
function normalizedSql(base: string, keys: string[], late: string[] = []): string {
  const mcol = new Map(keys.map((k, i) => [k, `mk${i}`]));
  // Vocabulary: events are mapped to a rule group by one ENUM cast (a hash lookup), then each
  // group's checks run on integers and ENUM casts instead of scanning name lists.
  const rules = vocabRules();
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

/** Rows whose keys decide the columns an insert extracts. */
const SAMPLE_ROWS = 4096;

/**
 * Keys a source's rows are expected to carry: those of its first rows, of lines sampled across
 * an uncompressed JSONL file, and every key the vocabulary gives the event names seen there
 * (a Connect setup event may carry a failed step even if the sampled ones did not). Keys found
 * only after the insert are filled by an UPDATE of the new rows, which makes DuckDB rewrite
 * them at commit (10M events: 0.7 s -> 33 s), so a wide net here is worth its milliseconds.
 */
async function sampleKeys(store: Store, base: string, src: Source): Promise<Set<string>> {
  const seen = new Set<string>();
  const names = new Set<string>();
  // one read of the first rows: their keys and their event names (JSONL in JS: DuckDB's reader
  // parses whole buffers on every thread before the LIMIT stops it, ~0.13 s)
  if (!(await headSample(src, seen, names))) {
    const r = await store.conn.runAndReadAll(
      `SELECT list_distinct(flatten(list(json_keys(pj)) FILTER (WHERE pj IS NOT NULL))), list(DISTINCT event) FILTER (WHERE event IS NOT NULL)
       FROM (SELECT pj, event FROM (${base}) LIMIT ${SAMPLE_ROWS})`,
    );
    const [keys, events] = (r.getRowsJson()[0] ?? [null, null]) as [string[] | null, string[] | null];
    for (const k of keys ?? []) seen.add(k);
    for (const e of events ?? []) names.add(e);
  }
  spreadSample(src, seen, names);
  for (const rule of vocabRules()) {
    if (!rule.events.some((e) => names.has(e))) continue;
    seen.add(rule.key);
    if (rule.when) seen.add(rule.when.key);
  }
  return seen;
}

/** Text read at most for the first rows of a JSONL source (their lines are usually ~2 MB). */
const HEAD_SAMPLE_CHARS = 16 << 20;

/**
 * The property keys and event names of a JSONL source's first SAMPLE_ROWS lines (gunzipped as
 * they are read). False when this is not JSONL or a line of them does not parse in JS (DuckDB
 * then samples them: it reads some JSON that JSON.parse does not, such as NaN).
 */
async function headSample(src: Source, keys: Set<string>, events: Set<string>): Promise<boolean> {
  if (src.format !== 'jsonl') return false;
  const lines: string[] = [];
  let rest = '';
  let whole = true;
  const input = createReadStream(src.path, { highWaterMark: 1 << 20 });
  const stream = src.gzip ? input.pipe(createGunzip()) : input;
  stream.setEncoding('utf8');
  let read = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      read += chunk.length;
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const l of parts) if (lines.length < SAMPLE_ROWS) lines.push(l);
      if (lines.length >= SAMPLE_ROWS || read >= HEAD_SAMPLE_CHARS) {
        whole = false;
        break;
      }
    }
  } catch {
    return false; // unreadable, or not gzip after all: the insert reports it
  } finally {
    input.destroy();
    if (stream !== input) stream.destroy();
  }
  if (whole) lines.push(rest);
  if (lines.length > 0) lines[0] = lines[0]!.replace(/^\uFEFF/, '');
  for (const line of lines) {
    if (line.trim() === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return false;
    }
    collectRecord(rec, keys, events);
  }
  return true;
}

/** Adds a parsed JSONL record's event name and property keys (properties given as a JSON string are unwrapped, as the insert does). */
function collectRecord(rec: unknown, keys: Set<string>, events: Set<string>): void {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return;
  const { event, properties } = rec as { event?: unknown; properties?: unknown };
  if (typeof event === 'string') events.add(event);
  let props = properties;
  if (typeof props === 'string') {
    try {
      props = JSON.parse(props);
    } catch {
      return;
    }
  }
  if (props && typeof props === 'object' && !Array.isArray(props)) for (const k of Object.keys(props)) keys.add(k);
}

/** Lines read from this many places spread over a big uncompressed JSONL file (64 KiB each). */
const SPREAD_WINDOWS = 64;
const SPREAD_WINDOW_BYTES = 1 << 16;

/** Adds the property keys and event names of complete lines in windows spread over the file. */
function spreadSample(src: Source, keys: Set<string>, events: Set<string>): void {
  if (src.format !== 'jsonl' || src.gzip) return;
  let fd: number | undefined;
  try {
    fd = openSync(src.path, 'r');
    const size = fstatSync(fd).size;
    if (size <= SPREAD_WINDOWS * SPREAD_WINDOW_BYTES) return; // the first rows are a fair share of it
    const buf = Buffer.alloc(SPREAD_WINDOW_BYTES);
    for (let w = 1; w < SPREAD_WINDOWS; w++) {
      const at = Math.floor((size / SPREAD_WINDOWS) * w);
      const n = readSync(fd, buf, 0, buf.length, at);
      const text = buf.toString('utf8', 0, n);
      const lines = text.slice(text.indexOf('\n') + 1, text.lastIndexOf('\n')).split('\n');
      for (const line of lines) {
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          continue; // the insert reports bad lines with their place
        }
        collectRecord(rec, keys, events);
      }
    }
  } catch {
    /* unreadable here: the insert reports it */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * DuckDB estimates a file read at a few dozen rows, so it would build the hash join with the
 * person mappings on the file's side (every row of the load, with its properties) instead of on
 * the mappings: several CPU-seconds per million events. Keep the written order (build on the
 * mappings) for that statement.
 */
async function withBuildSideKept<T>(store: Store, active: boolean, fn: () => Promise<T>): Promise<T> {
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

async function disabledOptimizers(store: Store): Promise<string> {
  return String((await store.conn.runAndReadAll(`SELECT current_setting('disabled_optimizers')`)).getRows()[0]?.[0] ?? '');
}

/**
 * The insert of one source. The candidate keys seen in its first rows get columns first (when
 * new) and are extracted by the insert; the rest are left to fillLateKeys.
 */
async function insertSql(store: Store, src: Source): Promise<{ sql: string; written: string[]; joinsMapping: boolean }> {
  const { base } = await baseSql(store, src);
  const seen = await sampleKeys(store, base, src);
  const candidates = candidateKeys(store);
  const keys = candidates.filter((k) => seen.has(k));
  await store.materialize(keys);
  // Rows that carry a candidate key not extracted here are counted (the counter's THEN branch runs
  // for those rows only), so the search after the insert runs only when there is something to find.
  const late = candidates.filter((k) => !keys.includes(k));
  const sql = normalizedSql(base, keys, late);
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
const REMAP_TYPE = 'dm_remapped_ids';
const REMAP_VAR = 'dm_remapped_persons';

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
async function fillLateKeys(store: Store, batches: Batch[]): Promise<void> {
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

// -------------------------------------------------------------------------------------------------
// After the inserts: dedup, persons

async function scalar(store: Store, sql: string): Promise<number> {
  const r = await store.conn.runAndReadAll(sql);
  const v = r.getRows()[0]?.[0];
  return v === null || v === undefined ? 0 : Number(v);
}

async function finishLoad(store: Store, before: number, read: number, sources: Source[], givenPersonIds: boolean): Promise<LoadSummary> {
  const conn = store.conn;
  const batch = `rowid > ${before}`;
  // 1. uuid dedup (keep the stored row, else the earliest in this load)
  const withinDup = read > 0 ? await scalar(store, `SELECT count(*) - count(DISTINCT uuid) FROM events WHERE ${batch}`) : 0;
  const existingDup =
    read > 0 && before >= 0
      ? await scalar(store, `SELECT count(*) FROM events WHERE ${batch} AND uuid IN (SELECT uuid FROM events WHERE rowid <= ${before})`)
      : 0;
  let duplicates = 0;
  if (withinDup > 0 || existingDup > 0) {
    const r = await conn.run(`DELETE FROM events WHERE rowid IN (
      SELECT rid FROM (
        SELECT rowid AS rid, rowid > ${before} AS fresh,
          row_number() OVER (PARTITION BY uuid ORDER BY rowid > ${before}, timestamp, rowid) AS rn
        FROM events WHERE uuid IN (SELECT uuid FROM events WHERE ${batch})
      ) WHERE rn > 1 AND fresh)`);
    duplicates = r.rowsChanged;
  }
  step('dedup');
  const inserted = read - duplicates;
  let persons = 0;
  let remapped = 0;
  let derivedUuids = 0;
  if (inserted > 0) {
    ({ persons, remapped } = await resolvePersons(store, before, givenPersonIds));
    step('persons');
    derivedUuids = await scalar(
      store,
      `SELECT count(*) FROM events WHERE ${batch} AND uuid_extract_version(uuid) = 5
        AND uuid = ${derivedUuidSql('event', 'distinct_id', 'timestamp', 'properties')}`,
    );
  }
  step('derived uuids');
  return {
    read,
    inserted,
    duplicates,
    persons,
    files: sources.map((s) => s.display),
    derivedUuids,
    remappedDistinctIds: remapped,
  };
}

async function resolvePersons(store: Store, before: number, givenPersonIds: boolean): Promise<{ persons: number; remapped: number }> {
  const conn = store.conn;
  const batch = `rowid > ${before}`;
  // Per distinct_id in this load: the person ids its rows got (input person_id, else mapping, else
  // derived). Without any person_id in the input, every row got the mapping of its distinct_id
  // (unchanged since the inserts) or the derived id, i.e. the fallback: no need to compare them.
  const fallback = `COALESCE(p.person_id, ${derivedPersonSql('b.distinct_id')})`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_map AS
    SELECT b.distinct_id, p.person_id AS old_pid, b.tmin,
      ${givenPersonIds ? 'CASE WHEN b.pmin = b.pmax THEN b.pmin END' : fallback} AS target,
      ${fallback} AS fallback
    FROM (SELECT distinct_id, ${givenPersonIds ? 'min(person_id) AS pmin, max(person_id) AS pmax, ' : ''}min(timestamp) AS tmin
          FROM events WHERE ${batch} GROUP BY distinct_id) b
    LEFT JOIN person_distinct_ids p ON p.distinct_id = b.distinct_id`);
  const mixed = await scalar(store, `SELECT count(*) FROM dm_map WHERE target IS NULL`);
  if (mixed > 0) {
    // Rows of one distinct_id carry different person ids: the latest given one wins.
    await conn.run(`UPDATE dm_map SET target = x.t FROM (
        SELECT e.distinct_id, arg_max(e.person_id, e.timestamp) AS t
        FROM events e JOIN dm_map d ON d.distinct_id = e.distinct_id
        WHERE e.${batch} AND d.target IS NULL AND e.person_id <> d.fallback GROUP BY e.distinct_id) x
      WHERE dm_map.distinct_id = x.distinct_id`);
    await conn.run(`UPDATE dm_map SET target = fallback WHERE target IS NULL`);
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_chg AS SELECT * FROM dm_map WHERE old_pid IS DISTINCT FROM target`);
  const remapped = await scalar(store, `SELECT count(*) FROM dm_chg WHERE old_pid IS NOT NULL`);
  if (remapped > 0 || mixed > 0) {
    await conn.run(`UPDATE events SET person_id = c.target FROM (
        SELECT distinct_id, target FROM dm_map WHERE (old_pid IS NOT NULL AND old_pid <> target) OR distinct_id IN (
          SELECT distinct_id FROM dm_map WHERE fallback <> target AND old_pid IS NULL)) c
      WHERE events.distinct_id = c.distinct_id AND events.person_id <> c.target`);
  }
  await conn.run(`DELETE FROM person_distinct_ids WHERE distinct_id IN (SELECT distinct_id FROM dm_chg WHERE old_pid IS NOT NULL)`);
  await conn.run(`INSERT INTO person_distinct_ids SELECT distinct_id, target FROM dm_chg`);

  // Persons: create, extend created_at, merge away persons left without distinct ids.
  const created = await conn.run(`INSERT INTO persons (id, properties, created_at)
    SELECT target, '{}'::JSON, min(tmin) FROM dm_map WHERE target NOT IN (SELECT id FROM persons) GROUP BY target`);
  await conn.run(`UPDATE persons SET created_at = x.t FROM (
      SELECT m.target, least(min(m.tmin), min(o.created_at)) AS t FROM dm_map m
      LEFT JOIN dm_chg c ON c.distinct_id = m.distinct_id LEFT JOIN persons o ON o.id = c.old_pid GROUP BY m.target) x
    WHERE persons.id = x.target AND (persons.created_at IS NULL OR x.t < persons.created_at)`);
  await conn.run(`DELETE FROM persons WHERE id IN (SELECT old_pid FROM dm_chg WHERE old_pid IS NOT NULL)
    AND id NOT IN (SELECT person_id FROM person_distinct_ids)`);

  step('person mapping');
  await recomputePersonProperties(store, before);
  await conn.run(`DROP TABLE IF EXISTS dm_map; DROP TABLE IF EXISTS dm_chg`);
  return { persons: created.rowsChanged, remapped };
}

/** Persons whose properties this load can change, recomputed from all their events in timestamp order. */
async function recomputePersonProperties(store: Store, before: number): Promise<void> {
  const conn = store.conn;
  // An operator without a column occurs in no stored event (a load adds the column of every
  // candidate key its events carry, fillLateKeys included): NULL is its value everywhere.
  const col = (k: string) => {
    const c = store.materializedColumn(k);
    return c ? quoteIdent(c) : undefined;
  };
  const ops = PERSON_OPS.map(col);
  const [set, setOnce, unset] = ops.map((c) => c ?? 'NULL::VARCHAR') as [string, string, string];
  const carries = `(${[...ops.filter((c) => c !== undefined).map((c) => `${c} IS NOT NULL`), 'person_properties IS NOT NULL'].join(' OR ')})`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_aff AS
    SELECT DISTINCT person_id FROM (
      SELECT person_id FROM events WHERE rowid > ${before} AND ${carries}
      UNION ALL SELECT target FROM dm_chg WHERE old_pid IS NOT NULL)`);
  const n = await scalar(store, `SELECT count(*) FROM dm_aff`);
  if (n === 0) return;
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_snap AS
    SELECT e.person_id, max(e.timestamp) FILTER (WHERE e.person_properties IS NOT NULL) AS snap
    FROM events e JOIN dm_aff a ON a.person_id = e.person_id WHERE ${carries} GROUP BY e.person_id`);
  const reader = await conn.runAndReadAll(`SELECT e.person_id, ${set}, ${setOnce}, ${unset}, CAST(e.person_properties AS VARCHAR)
    FROM events e JOIN dm_snap s ON s.person_id = e.person_id
    WHERE ${carries} AND (s.snap IS NULL OR e.timestamp >= s.snap)
    ORDER BY e.person_id, e.timestamp, (e.person_properties IS NULL), e.uuid`);
  const results = new Map<string, Record<string, unknown>>();
  for (const [pid, s, so, un, snap] of reader.getRows()) {
    const id = String(pid);
    let state = results.get(id) ?? {};
    if (snap !== null && snap !== undefined) state = { ...(parseObject(String(snap)) ?? {}) };
    applyPersonOps(state, parseAny(s), parseAny(so), parseAny(un));
    results.set(id, state);
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE dm_pp (id VARCHAR, properties VARCHAR)`);
  const entries = [...results.entries()];
  for (let i = 0; i < entries.length; i += 5000) {
    const chunk = entries.slice(i, i + 5000).map(([id, p]) => ({ id, p: JSON.stringify(p) }));
    await conn.run(`INSERT INTO dm_pp SELECT x.id, x.p FROM (SELECT unnest(from_json(CAST($1 AS JSON), '[{"id": "VARCHAR", "p": "VARCHAR"}]'), recursive := true)) x`, [
      JSON.stringify(chunk),
    ]);
  }
  await conn.run(`UPDATE persons SET properties = CAST(x.properties AS JSON) FROM dm_pp x WHERE persons.id = x.id`);
  await conn.run(`DROP TABLE IF EXISTS dm_pp; DROP TABLE IF EXISTS dm_snap; DROP TABLE IF EXISTS dm_aff`);
}

function parseAny(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  try {
    return JSON.parse(String(v));
  } catch {
    return String(v);
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  const v = parseAny(text);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** PostHog's person property update for one event: $set_once (absent keys only), $set, $unset. */
export function applyPersonOps(state: Record<string, unknown>, set: unknown, setOnce: unknown, unset: unknown): Record<string, unknown> {
  if (setOnce && typeof setOnce === 'object' && !Array.isArray(setOnce)) {
    for (const [k, v] of Object.entries(setOnce)) if (!(k in state)) state[k] = v;
  }
  if (set && typeof set === 'object' && !Array.isArray(set)) {
    for (const [k, v] of Object.entries(set)) state[k] = v;
  }
  if (Array.isArray(unset)) {
    for (const k of unset) if (typeof k === 'string') delete state[k];
  } else if (unset && typeof unset === 'object') {
    for (const k of Object.keys(unset)) delete state[k];
  } else if (typeof unset === 'string') {
    delete state[unset];
  }
  return state;
}

// -------------------------------------------------------------------------------------------------
// Strict vocabulary (opt-in): every Teleport event through checkTeleportEvent(strict)

class StrictVocabularyError extends InputError {
  constructor(where: string, message: string) {
    super(where, message, 'Strict vocabulary check (--strict-vocabulary): prehog sends the cluster envelope and anonymized names with every event.');
  }
}

/** After a strict failure (transaction rolled back): the first failing record's place in the files. */
async function locateStrict(sources: Source[], fallback: StrictVocabularyError): Promise<Error> {
  for (const src of sources) {
    if (src.format === 'parquet') continue;
    for await (const rec of readRecords(src)) {
      if (rec.error || !rec.value || typeof rec.value !== 'object') continue;
      const r = rec.value as Record<string, unknown>;
      const event = extractString(r.event);
      if (!event) continue;
      const props = objectValue(r.properties, src.format === 'csv' ? 'text' : 'json') || {};
      const issue = checkTeleportEvent(event, props, { strict: true });
      if (issue) return new StrictVocabularyError(rec.where, `${issue.path}: ${issue.message}`);
    }
  }
  return fallback;
}

async function strictCheck(store: Store, before: number): Promise<void> {
  const t = vocabRules();
  const names = [...new Set(t.flatMap((r) => r.events))];
  const all = (await store.conn.runAndReadAll(`SELECT DISTINCT event FROM events WHERE rowid > ${before}`))
    .getRows()
    .map((r) => String(r[0]))
    .filter((e) => isTeleportEvent(e) || names.includes(e));
  if (all.length === 0) return;
  const result = await store.conn.stream(
    `SELECT uuid::VARCHAR, event, CAST(properties AS VARCHAR) FROM events WHERE rowid > ${before} AND ${stringInSql('event', all)}`,
  );
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const [uuid, event, props] of chunk.getRows()) {
      const issue = checkTeleportEvent(String(event), parseObject(String(props ?? '{}')) ?? {}, { strict: true });
      if (issue) throw new StrictVocabularyError(`event ${String(uuid)} (${String(event)})`, `${issue.path}: ${issue.message}`);
    }
  }
}

// -------------------------------------------------------------------------------------------------
// Diagnosis: the fast path failed; find the first bad row and say where and why

function duckMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg
    .split('\n')[0]!
    .replace(/^[A-Za-z ]+Error: /, '')
    .trim();
}

async function diagnose(store: Store, src: Source, error: unknown): Promise<Error> {
  const msg = error instanceof Error ? error.message : String(error);
  const invalidRow = msg.includes(INVALID_ROW);
  if (src.format === 'parquet') {
    if (!invalidRow) return new InputError(src.display, `not a readable Parquet file: ${duckMessage(error)}`);
    return diagnoseSql(store, src);
  }
  // Structure first (JSON syntax, CSV quoting/column counts), then field checks.
  let badTs: Set<string> | undefined;
  if (invalidRow) badTs = await badTimestamps(store, src);
  try {
    for await (const rec of readRecords(src)) {
      if (rec.error) return new InputError(rec.where, rec.error);
      // A reader error (no row failed the checks) is structural: only parse problems count then.
      const problem = badTs ? checkRecord(rec.value, src.format === 'csv' ? 'text' : 'json', badTs) : undefined;
      if (problem) return new InputError(rec.where, problem);
    }
  } catch (e) {
    if (e instanceof DmError) return e;
    return new InputError(src.display, `cannot read: ${(e as Error).message}`);
  }
  if (invalidRow) return diagnoseSql(store, src);
  const line = /Line: (\d+)/.exec(msg)?.[1];
  return new InputError(line ? `${src.display}:${line}` : src.display, duckMessage(error));
}

async function badTimestamps(store: Store, src: Source): Promise<Set<string>> {
  try {
    const sql = normalizedSql((await baseSql(store, src)).base, []);
    const r = await store.conn.runAndReadAll(`SELECT DISTINCT raw_ts FROM (${sql}) WHERE problem = 'timestamp!' LIMIT 100000`);
    return new Set(r.getRows().map((x) => String(x[0])));
  } catch {
    return new Set();
  }
}

/** Last resort and Parquet: the first bad row by SQL, with a row number where the reader gives one. */
async function diagnoseSql(store: Store, src: Source): Promise<Error> {
  const sql = normalizedSql((await baseSql(store, src)).base, []);
  const r = await store.conn.runAndReadAll(
    `SELECT rn, raw_uuid, event, distinct_id, raw_ts, CAST(props AS VARCHAR), person_id, CAST(pprops AS VARCHAR), problem
     FROM (${sql}) WHERE problem IS NOT NULL ORDER BY rn NULLS LAST LIMIT 1`,
  );
  const row = r.getRows()[0];
  if (!row) return new InputError(src.display, 'a row failed validation but could not be located again');
  const [rn, uuid, event, distinctId, ts, props, personId, pprops, problem] = row;
  const rec = { uuid, event, distinct_id: distinctId, timestamp: ts, properties: props, person_id: personId, person_properties: pprops };
  const where = rn !== null && rn !== undefined ? `${src.display}: row ${Number(rn) + 1}` : `${src.display}: event ${String(uuid ?? event)}`;
  const text = checkRecord(rec, 'text', new Set(problem === 'timestamp!' ? [String(ts)] : []));
  return new InputError(where, text ?? `invalid ${String(problem).replace('!', '')}`);
}

function asText(v: unknown): string | null {
  return extractString(v);
}

/**
 * JS twin of the SQL row checks. `json`: fields as parsed from JSON; `text`: fields are strings
 * (CSV cells, Parquet values) and properties are JSON text. badTs: timestamps DuckDB rejected.
 */
export function checkRecord(value: unknown, mode: 'json' | 'text', badTs?: Set<string>): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object (an event)';
  const r = value as Record<string, unknown>;
  const event = asText(r.event);
  if (event === null || event === '') return "event: missing (every event needs an 'event' name)";
  const did = asText(r.distinct_id);
  if (did === null || did === '') return "distinct_id: missing (every event needs a 'distinct_id')";
  const ts = asText(r.timestamp);
  if (ts === null || ts === '') return 'timestamp: missing';
  if (badTs ? badTs.has(ts) : !looksLikeTimestamp(ts)) {
    return `timestamp: ${JSON.stringify(ts)} is not a timestamp (expected ISO 8601, e.g. 2024-05-01T12:00:00Z; no zone means UTC; or epoch milliseconds)`;
  }
  const uuid = asText(r.uuid);
  if (uuid !== null && uuid !== '' && !UUID_RE.test(uuid)) return `uuid: ${JSON.stringify(uuid)} is not a UUID`;
  const props = objectValue(r.properties, mode);
  if (props === false) return 'properties: expected a JSON object';
  const pprops = objectValue(r.person_properties, mode);
  if (pprops === false) return 'person_properties: expected a JSON object';
  const p = props ?? {};
  if (brokenRule(event, p)) {
    const issue = checkTeleportEvent(event, p);
    const rule = brokenRule(event, p)!;
    if (issue) return `${issue.path}: ${issue.message}`;
    const v = extractString(p[rule.key]);
    return `properties[${JSON.stringify(rule.key)}]: ${v === null ? `missing ${rule.what}` : `unknown ${rule.what} ${JSON.stringify(v)}`}${
      rule.allowed ? `; expected one of ${rule.allowed.filter((a) => a !== '').join(', ')}` : ''
    }`;
  }
  return undefined;
}

function looksLikeTimestamp(s: string): boolean {
  if (/^-?\d{1,16}$/.test(s)) return true;
  return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$/i.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T')));
}

/** undefined = absent, false = not an object, else the object. Mirrors objectSql(). */
function objectValue(v: unknown, mode: 'json' | 'text'): Record<string, unknown> | undefined | false {
  let x = v;
  if (mode === 'text') {
    if (x === null || x === undefined || x === '') return undefined;
    try {
      x = JSON.parse(String(x));
    } catch {
      return false;
    }
  }
  if (x === null || x === undefined) return undefined;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x);
    } catch {
      return false;
    }
    if (x === null) return undefined;
  }
  if (typeof x !== 'object' || Array.isArray(x) || x === null) return false;
  return x as Record<string, unknown>;
}
