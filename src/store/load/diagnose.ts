/**
 * Diagnosis: the fast path failed (the insert's statement raised, the transaction rolled back);
 * find the first bad row and say where (file:line, file[index], file: row N) and why.
 */
import { DmError, InputError } from '../../errors.js';
import { checkTeleportEvent } from '../../events/vocabulary.js';
import type { Store } from '../store.js';
import { readRecords, type Source } from '../sources.js';
import { brokenRule, extractString } from '../vocab-rules.js';
import { BAD_OFFSET_RE, baseSql, duckMessage, INVALID_ROW, normalizedSql, TS_END, TS_MIN } from './sql.js';

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export async function diagnose(store: Store, src: Source, error: unknown, vocabulary = true): Promise<Error> {
  const msg = error instanceof Error ? error.message : String(error);
  const invalidRow = msg.includes(INVALID_ROW);
  if (src.format === 'parquet') {
    if (!invalidRow) return new InputError(src.display, `not a readable Parquet file: ${duckMessage(error)}`);
    return diagnoseSql(store, src, vocabulary);
  }
  // Structure first (JSON syntax, CSV quoting/column counts), then field checks.
  let badTs: Set<string> | undefined;
  if (invalidRow) badTs = await badTimestamps(store, src);
  try {
    for await (const rec of readRecords(src)) {
      if (rec.error) return new InputError(rec.where, rec.error);
      // A reader error (no row failed the checks) is structural: only parse problems count then.
      const problem = badTs ? checkRecord(rec.value, src.format === 'csv' ? 'text' : 'json', badTs, vocabulary) : undefined;
      if (problem) return new InputError(rec.where, problem);
    }
  } catch (e) {
    if (e instanceof DmError) return e;
    return new InputError(src.display, `cannot read: ${(e as Error).message}`);
  }
  if (invalidRow) return diagnoseSql(store, src, vocabulary);
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
async function diagnoseSql(store: Store, src: Source, vocabulary: boolean): Promise<Error> {
  const sql = normalizedSql((await baseSql(store, src)).base, [], [], vocabulary);
  const r = await store.conn.runAndReadAll(
    `SELECT rn, raw_uuid, event, distinct_id, raw_ts, CAST(props AS VARCHAR), person_id, CAST(pprops AS VARCHAR), problem
     FROM (${sql}) WHERE problem IS NOT NULL ORDER BY rn NULLS LAST LIMIT 1`,
  );
  const row = r.getRows()[0];
  if (!row) return new InputError(src.display, 'a row failed validation but could not be located again');
  const [rn, uuid, event, distinctId, ts, props, personId, pprops, problem] = row;
  const rec = { uuid, event, distinct_id: distinctId, timestamp: ts, properties: props, person_id: personId, person_properties: pprops };
  const where = rn !== null && rn !== undefined ? `${src.display}: row ${Number(rn) + 1}` : `${src.display}: event ${String(uuid ?? event)}`;
  const text = checkRecord(rec, 'text', new Set(problem === 'timestamp!' ? [String(ts)] : []), vocabulary);
  return new InputError(where, text ?? `invalid ${String(problem).replace('!', '')}`);
}

function asText(v: unknown): string | null {
  return extractString(v);
}

/**
 * JS twin of the SQL row checks. `json`: fields as parsed from JSON; `text`: fields are strings
 * (CSV cells, Parquet values) and properties are JSON text. badTs: timestamps DuckDB rejected.
 */
export function checkRecord(value: unknown, mode: 'json' | 'text', badTs?: Set<string>, vocabulary = true): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'expected a JSON object (an event)';
  const r = value as Record<string, unknown>;
  if (mode === 'json' && r.event !== undefined && r.event !== null && typeof r.event !== 'string') {
    return `event: expected a string (the event's name), found ${jsonKind(r.event)}`;
  }
  const event = asText(r.event);
  if (event === null || event === '') return "event: missing (every event needs an 'event' name)";
  if (mode === 'json' && r.distinct_id !== undefined && r.distinct_id !== null && typeof r.distinct_id !== 'string' && typeof r.distinct_id !== 'number') {
    return `distinct_id: expected a string or a number, found ${jsonKind(r.distinct_id)}`;
  }
  const did = asText(r.distinct_id);
  if (did === null || did === '') return "distinct_id: missing (every event needs a 'distinct_id')";
  const ts = asText(r.timestamp);
  if (ts === null || ts === '') return 'timestamp: missing';
  if (badTs ? badTs.has(ts) : !looksLikeTimestamp(ts)) return `timestamp: ${timestampProblem(ts)}`;
  const uuid = asText(r.uuid);
  if (uuid !== null && uuid !== '' && !UUID_RE.test(uuid)) return `uuid: ${JSON.stringify(uuid)} is not a UUID`;
  const props = objectValue(r.properties, mode);
  if (props === false) return 'properties: expected a JSON object';
  const pprops = objectValue(r.person_properties, mode);
  if (pprops === false) return 'person_properties: expected a JSON object';
  const p = props ?? {};
  if (vocabulary && brokenRule(event, p)) {
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
  if (/^-?\d{1,16}$/.test(s)) return inRange(Number(s));
  if (BAD_OFFSET.test(s)) return false;
  return /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$/i.test(s) && inRange(Date.parse(s.replace(' ', 'T')));
}

const BAD_OFFSET = new RegExp(BAD_OFFSET_RE);

function inRange(ms: number): boolean {
  return !Number.isNaN(ms) && ms >= Date.parse(TS_MIN) && ms < Date.parse(TS_END);
}

/** Why a timestamp the load refused is refused. */
function timestampProblem(ts: string): string {
  const shown = JSON.stringify(ts);
  if (/^-?\d{1,16}$/.test(ts)) {
    const n = Number(ts);
    if (Math.abs(n) < 1e11 && inRange(n * 1000)) {
      return `${shown} looks like epoch seconds; numbers are read as epoch milliseconds (multiply by 1000), or give ISO 8601`;
    }
    return `${shown} is epoch milliseconds outside the years ${TS_MIN.slice(0, 4)}-${Number(TS_END.slice(0, 4)) - 1}`;
  }
  const offset = BAD_OFFSET.exec(ts) ? /[+-]\d{2}:?\d{0,2}$/.exec(ts)?.[0] : undefined;
  if (offset) return `${shown} has the UTC offset ${offset}, which no time zone has (offsets run from -18:00 to +18:00)`;
  const ms = Date.parse(ts.replace(' ', 'T'));
  if (!Number.isNaN(ms) && !inRange(ms)) {
    return `${shown} is outside the years ${TS_MIN.slice(0, 4)}-${Number(TS_END.slice(0, 4)) - 1} (a typo, or a unit mistake?)`;
  }
  return `${shown} is not a timestamp (expected ISO 8601, e.g. 2024-05-01T12:00:00Z; no zone means UTC; or epoch milliseconds)`;
}

function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'boolean' ? 'the boolean' : typeof v === 'number' ? 'the number' : 'the value'} ${JSON.stringify(v)}`;
}

/** undefined = absent, false = not an object, else the object. Mirrors objectSql(). */
export function objectValue(v: unknown, mode: 'json' | 'text'): Record<string, unknown> | undefined | false {
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

