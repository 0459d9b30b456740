/**
 * The embedded event store: one DuckDB database file holding events in PostHog's shape.
 *
 * Tables
 *   events(uuid UUID, event VARCHAR, distinct_id VARCHAR, person_id VARCHAR, timestamp TIMESTAMPTZ,
 *          properties JSON, person_properties JSON, "<materialized columns>" VARCHAR ...)
 *     person_properties: the person's properties at ingestion when the input carried them
 *     (PostHog exports do); NULL otherwise. Loading: src/store/ingest.ts.
 *   persons(id VARCHAR, properties JSON, created_at TIMESTAMPTZ)
 *   person_distinct_ids(distinct_id VARCHAR, person_id VARCHAR)
 *   materialized(key VARCHAR, col VARCHAR)      -- property key -> column on events
 *   meta(key VARCHAR, value VARCHAR)
 *     schema_version; generation (see transaction()); session_index (see session-index.ts)
 *   session_combos(id, combo_hash, event, "<materialized columns>" ...)
 *     the distinct value combinations the session index refers to (session-index.ts)
 *
 * Like PostHog's ClickHouse "materialized columns", hot property keys (everything named in
 * queries/taxonomy.json) are copied into plain VARCHAR columns at load time so queries do not
 * parse JSON; `propertySql()` picks the column when it exists and falls back to JSON otherwise.
 * Values are stored as PostHog stringifies them (json_extract_string: 1 -> '1', true -> 'true').
 * A load adds the column of a taxonomy key when the key first occurs in its events (columns of
 * keys no event carries would only cost load time), so: a taxonomy key without a column occurs
 * in no stored event. Stores made before that have every taxonomy column; both work.
 *
 * Stores made since then name each string column's compression (the JSON properties: FSST,
 * which DuckDB picks for nearly all their segments anyway; the rest: dictionary, likewise), so
 * loading skips trying every method on every segment; same file size, same read speed.
 * (Dictionary for properties would load ~0.5 CPU-s per 1M events faster still, but makes the
 * store 10-25% larger.)
 */
import type { DuckDBConnection, DuckDBInstance as DuckDBInstanceType } from '@duckdb/node-api';
import { createRequire } from 'node:module';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DmError, UsageError } from '../errors.js';
import { corruptStoreError, loadMarkerPath, recoverInterruptedLoad } from './recovery.js';
import { pauseForTest } from './load/phases.js';
import { taxonomy } from '../events/taxonomy.js';
import { jsonPath, keysTextSql, quoteIdent, sqlString } from './sql.js';
import type { StoreHandle } from './handle.js';

// @duckdb/node-api is CommonJS. An ESM `import` of it makes Node scan each of its ~100 files for
// named exports first (cjs-module-lexer); require() skips that: ~65 ms to load instead of
// ~150-200 ms, on every command's start.
// Loaded when a store is first opened, not at import: `--help`, `--version` and usage errors never
// need DuckDB (~95 ms of CPU on every start otherwise).
let duckdb: { DuckDBInstance: typeof DuckDBInstanceType } | undefined;
const DuckDBInstance = (): typeof DuckDBInstanceType => (duckdb ??= createRequire(import.meta.url)('@duckdb/node-api') as { DuckDBInstance: typeof DuckDBInstanceType }).DuckDBInstance;

export const SCHEMA_VERSION = '1';

/** meta key of the store's generation: a count of committed write transactions (see transaction()). */
export const GENERATION_KEY = 'generation';

/**
 * Property keys whose materialized column gets a companion `<col>__hash` UBIGINT column holding
 * DuckDB's hash() of the value (NULL included, so it is never NULL): the Discover wizard session
 * id, which funnels aggregate by. A funnel scan then reads 8 bytes per row instead of
 * decompressing and hashing a 36-character string (~0.35 CPU-s per 10M events). Only columns
 * created with their companion have one; the scan falls back to hashing otherwise.
 */
export function hashedKeys(): readonly string[] {
  return [taxonomy().discover.properties.sessionId!];
}

const HASH_SUFFIX = '__hash';

/**
 * DuckDB's hash(NULL), the value of a hash companion column on rows without the key. Written as
 * a literal default: DuckDB cannot replay a WAL whose ADD COLUMN has a function as its default
 * (the store would not open again after a kill during a load's commit).
 */
const HASH_OF_NULL = '13787848793156543929::UBIGINT';

export interface StoreOptions {
  /** Open without creating or writing (queries); a missing file is an error. */
  readOnly?: boolean;
}

export class Store implements StoreHandle {
  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstanceType,
    readonly conn: DuckDBConnection,
    readonly readOnly: boolean,
  ) {}

  static async open(path: string, opts: StoreOptions = {}): Promise<Store> {
    const full = path === ':memory:' ? path : resolve(path);
    if (full !== ':memory:') {
      if (opts.readOnly && !existsSync(full)) {
        throw new UsageError(
          `no event store at ${full}`,
          'Load events with `discover-metrics load FILE...` or try the demo data with `discover-metrics seed`.',
        );
      }
      makeFolders(dirname(full));
    }
    // A load that did not finish (killed) left its marker: roll it back or complete it first.
    const recovery = full !== ':memory:' && existsSync(loadMarkerPath(full)) ? await recoverInterruptedLoad(full, (p) => Store.openFile(p, {})) : undefined;
    const store = await Store.openFile(full, opts);
    store.recovery = recovery;
    return store;
  }

  private static async openFile(full: string, opts: StoreOptions): Promise<Store> {
    let instance: DuckDBInstanceType;
    try {
      instance = await DuckDBInstance().create(full, {
        access_mode: opts.readOnly ? 'READ_ONLY' : 'READ_WRITE',
      });
    } catch (e) {
      throw storeOpenError(full, e);
    }
    try {
      const conn = await instance.connect();
      // ICU is loaded only once a connection exists, so the session time zone is set here
      // (passing TimeZone to DuckDBInstance.create fails with "icu extension needs to be loaded").
      await conn.run(`SET TimeZone = 'UTC'`);
      const store = new Store(full, instance, conn, !!opts.readOnly);
      if (!opts.readOnly) await store.migrate();
      await store.loadMaterialized();
      return store;
    } catch (e) {
      try {
        instance.closeSync();
      } catch {
        /* the open error matters more */
      }
      throw storeOpenError(full, e);
    }
  }

  /** What opening did about a load that was killed before it finished (for a note), if anything. */
  recovery?: string;

  private materializedCols = new Map<string, string>();
  /** property key -> its hash companion column (see hashedKeys) */
  private hashCols = new Map<string, string>();

  private async migrate(): Promise<void> {
    await this.conn.run(`
      CREATE TABLE IF NOT EXISTS events (
        uuid UUID NOT NULL,
        event VARCHAR NOT NULL USING COMPRESSION dictionary,
        distinct_id VARCHAR NOT NULL USING COMPRESSION dictionary,
        person_id VARCHAR NOT NULL USING COMPRESSION dictionary,
        timestamp TIMESTAMPTZ NOT NULL,
        properties JSON USING COMPRESSION fsst,
        person_properties JSON USING COMPRESSION dictionary
      );
      -- stores made before person_properties existed
      ALTER TABLE events ADD COLUMN IF NOT EXISTS person_properties JSON;
      CREATE TABLE IF NOT EXISTS persons (
        id VARCHAR NOT NULL,
        properties JSON,
        created_at TIMESTAMPTZ
      );
      CREATE TABLE IF NOT EXISTS person_distinct_ids (
        distinct_id VARCHAR NOT NULL,
        person_id VARCHAR NOT NULL
      );
      CREATE TABLE IF NOT EXISTS materialized (key VARCHAR NOT NULL, col VARCHAR NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL, value VARCHAR);
    `);
    // Stores made before the downloads' hashing key was kept out of the store held it here:
    // with it, each stored client hash could be reversed to its address by trying them all.
    await this.conn.run(`DELETE FROM meta WHERE key = 'downloads.client_salt'`);
    const v = await this.conn.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`);
    if (v.getRows().length === 0) {
      await this.conn.run(`INSERT INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    }
    // stores made before the generation count start it at 0
    await this.conn.run(`INSERT INTO meta SELECT '${GENERATION_KEY}', '0' WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = '${GENERATION_KEY}')`);
  }

  private async loadMaterialized(): Promise<void> {
    const r = await this.conn.runAndReadAll(`SELECT key, col FROM materialized`);
    this.materializedCols.clear();
    for (const [k, c] of r.getRows()) this.materializedCols.set(String(k), String(c));
    const cols = await this.conn.runAndReadAll(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'events' AND table_schema = current_schema() AND column_name LIKE '%${HASH_SUFFIX}'`,
    );
    const present = new Set(cols.getRows().map(([c]) => String(c)));
    this.hashCols.clear();
    for (const [k, c] of this.materializedCols) if (present.has(c + HASH_SUFFIX)) this.hashCols.set(k, c + HASH_SUFFIX);
  }

  /** The column holding hash(<materialized column of key>), if the store has one (see hashedKeys). */
  keyHashColumn(key: string): string | undefined {
    return this.hashCols.get(key);
  }

  /** Column name on `events` holding this property key, if it is materialized. */
  materializedColumn(key: string): string | undefined {
    return this.materializedCols.get(key);
  }

  materializedKeys(): string[] {
    return [...this.materializedCols.keys()];
  }

  /**
   * Materialize property keys as VARCHAR columns on events (idempotent), filled for every stored
   * event. Must run inside the caller's transaction when combined with a load so a failure
   * leaves nothing half-done.
   */
  async materialize(keys: readonly string[]): Promise<void> {
    const added: [string, string][] = [];
    // (compared in lower case: DuckDB's column names are case-insensitive)
    const used = new Set([...this.materializedCols.values(), ...this.hashCols.values()].map((c) => c.toLowerCase()));
    const hashed = new Set(hashedKeys());
    for (const key of new Set(keys)) {
      if (this.materializedCols.has(key)) continue;
      let col = `mat_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
      // keys differing only in punctuation ($set vs _set) or case must not share a column (nor
      // take the name of a hash companion)
      const taken = (c: string) => used.has(c.toLowerCase()) || (hashed.has(key) && used.has((c + HASH_SUFFIX).toLowerCase()));
      for (let i = 2; taken(col); i++) col = `mat_${key.replace(/[^A-Za-z0-9_]/g, '_')}_${i}`;
      used.add(col.toLowerCase());
      if (hashed.has(key)) used.add((col + HASH_SUFFIX).toLowerCase());
      added.push([key, col]);
    }
    if (added.length === 0) return;
    // One statement batch: the ALTERs, one UPDATE filling every new column in a single scan
    // (of the rows whose JSON text can hold one of the keys), one INSERT into the registry.
    // a hashed key's companion starts as hash(NULL) on every row, like its column's NULL
    const alters = added
      .map(
        ([key, col]) =>
          `ALTER TABLE events ADD COLUMN IF NOT EXISTS ${quoteIdent(col)} VARCHAR USING COMPRESSION dictionary;` +
          (hashed.has(key) ? `\nALTER TABLE events ADD COLUMN IF NOT EXISTS ${quoteIdent(col + HASH_SUFFIX)} UBIGINT DEFAULT ${HASH_OF_NULL};` : ''),
      )
      .join('\n');
    await this.conn.run(alters);
    await this.conn.run(`INSERT INTO materialized VALUES ${added.map(([k, c]) => `(${sqlString(k)}, ${sqlString(c)})`).join(', ')}`);
    for (const [key, col] of added) {
      this.materializedCols.set(key, col);
      if (hashed.has(key)) this.hashCols.set(key, col + HASH_SUFFIX);
    }
    await this.fillMaterialized(
      added.map(([key]) => key),
      'true',
    );
  }

  /**
   * Set the materialized columns of `keys` from the JSON properties of the events matching
   * `where` (SQL over events). Only rows whose properties text can hold one of the keys are
   * touched (the others have no value: NULL, which a new column already holds).
   */
  async fillMaterialized(keys: readonly string[], where: string, opts: { normalizedJson?: boolean } = {}): Promise<void> {
    if (keys.length === 0) return;
    const n = await this.conn.runAndReadAll(`SELECT EXISTS (SELECT 1 FROM events)`);
    if (!n.getRows()[0]?.[0]) return;
    const paths = keys.map((key) => sqlString(jsonPath(key))).join(', ');
    const sets = keys
      .map((key, i) => {
        const h = this.hashCols.get(key);
        return `${quoteIdent(this.materializedCols.get(key)!)} = m[${i + 1}]${h ? `, ${quoteIdent(h)} = hash(m[${i + 1}])` : ''}`;
      })
      .join(', ');
    await this.conn.run(
      `UPDATE events SET ${sets} FROM (SELECT rowid AS rid, json_extract_string(properties, [${paths}]) AS m FROM events
        WHERE (${where}) AND ${keysTextSql('properties', keys, opts)}) x WHERE events.rowid = x.rid`,
    );
  }

  /**
   * Run fn inside one transaction: everything or nothing. The store's generation (meta key
   * `generation`) goes up by one in the same transaction, so derived data stamped with it (the
   * session index) knows it is stale; `keepGeneration` is for writing such derived data itself.
   */
  async transaction<T>(fn: () => Promise<T>, opts: { keepGeneration?: boolean } = {}): Promise<T> {
    await this.conn.run('BEGIN TRANSACTION');
    try {
      // (every writable store has the row: migrate())
      if (!opts.keepGeneration) await this.conn.run(`UPDATE meta SET value = (value::BIGINT + 1)::VARCHAR WHERE key = '${GENERATION_KEY}'`);
      const out = await fn();
      const commit = this.conn.run('COMMIT');
      pauseForTest('commit');
      await commit;
      return out;
    } catch (e) {
      try {
        await this.conn.run('ROLLBACK');
      } catch {
        /* the original error matters more */
      }
      await this.loadMaterialized();
      throw e;
    }
  }

  async close(): Promise<void> {
    try {
      this.conn.closeSync();
    } catch {
      /* already closed */
    }
    try {
      this.instance.closeSync();
    } catch {
      /* already closed */
    }
  }
}

function storeOpenError(path: string, e: unknown): Error {
  if (e instanceof DmError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  // DuckDB: "Could not set lock on file ...: Conflicting lock is held in ... (PID 123)"
  if (/could not set lock|conflicting lock/i.test(msg)) {
    const pid = /PID (\d+)/.exec(msg)?.[1];
    return new UsageError(
      `the event store ${path} is locked by another process${pid ? ` (PID ${pid})` : ''}`,
      'Another discover-metrics (or a sandbox server) is using it. Wait for it to finish, stop it, or pass a different --store.',
    );
  }
  const corrupt = corruptStoreError(e, path);
  if (corrupt) return corrupt;
  if (/not a valid DuckDB database|Unable to open/i.test(msg)) {
    return new UsageError(`${path} is not a discover-metrics event store: ${firstLine(msg)}`);
  }
  return new UsageError(`cannot open the event store ${path}: ${firstLine(msg)}`);
}

function firstLine(msg: string): string {
  return msg.split('\n')[0]!.trim();
}

/**
 * mkdir -p by hand: Node's recursive mkdirSync never returns when mkdir(2) answers ENOENT for a
 * folder whose parent exists (under /proc), so each missing folder is made on its own.
 */
function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new UsageError(`cannot create the folder ${d} for the event store (${code})`, 'Pass --store a path in a folder you can write to.');
    }
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`cannot put the event store in ${dir}: it is not a folder`);
}

// SQL text helpers live in sql.ts (no DuckDB import: worker threads use them too)
export { jsonPath, keysTextSql, personPropertySql, propertySql, quoteIdent, sqlString } from './sql.js';
