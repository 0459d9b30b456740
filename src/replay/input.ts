/**
 * Reading fixture files for replay: PostHog-shaped JSONL, one event per line, optionally gzipped
 * (detected by the gzip magic bytes, any file name). Each line is validated; errors name file:line.
 *
 *   {"uuid": "...", "event": "...", "distinct_id": "...", "timestamp": "ISO 8601",
 *    "properties": {...}, "person_id"?: "...", "person_properties"?: {...}}
 *
 * An event without a uuid gets the one `load` derives from its content (src/events/uuid.ts), so
 * re-sending it after a crash is deduplicated like any other and a replayed file matches a loaded one.
 */
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { eventUuidFor } from '../events/uuid.js';
import { MAX_JSON_DEPTH, jsonDepth } from '../events/json-depth.js';

/** ISO 8601 / RFC 3339 date-times, as PostHog's ingestion reads them (not Date.parse's lenient forms). */
const ISO_TS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)?$/;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Line {
  uuid?: string;
  event: string;
  distinct_id: string | number;
  timestamp: string;
  properties?: Record<string, unknown> | null;
  person_properties?: Record<string, unknown> | null;
}

/** Validate one parsed line (hand-written: this runs per event on large files). Returns the problem or the line. */
export function checkLine(v: unknown): { ok: true; line: Line } | { ok: false; message: string } {
  if (!isRecord(v)) return { ok: false, message: 'expected a JSON object per line' };
  const bad = (message: string) => ({ ok: false as const, message });
  if (v.uuid !== undefined && v.uuid !== null && (typeof v.uuid !== 'string' || !UUID_RE.test(v.uuid))) return bad('uuid: must be a UUID (8-4-4-4-12 hex digits)');
  if (v.event === undefined) return bad('event: is required');
  if (typeof v.event !== 'string' || v.event === '') return bad('event: must be a non-empty event name');
  if (v.distinct_id === undefined) return bad('distinct_id: is required');
  if (!((typeof v.distinct_id === 'string' && v.distinct_id !== '') || (typeof v.distinct_id === 'number' && Number.isFinite(v.distinct_id)))) {
    return bad('distinct_id: must be a non-empty string or a number');
  }
  if (v.timestamp === undefined) return bad('timestamp: is required');
  if (typeof v.timestamp !== 'string' || !ISO_TS.test(v.timestamp.trim()) || Number.isNaN(Date.parse(v.timestamp))) return bad('timestamp: must be an ISO 8601 date-time');
  for (const k of ['properties', 'person_properties'] as const) {
    if (v[k] !== undefined && v[k] !== null && !isRecord(v[k])) return bad(`${k}: must be an object`);
  }
  return { ok: true, line: v as unknown as Line };
}

export interface FixtureEvent {
  uuid: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties: Record<string, unknown>;
  person_properties?: Record<string, unknown>;
}

export interface InputFile {
  path: string;
  size: number;
  mtimeMs: number;
}

export function describeInputs(paths: readonly string[]): InputFile[] {
  return paths.map((p) => {
    const full = resolve(p);
    let st;
    try {
      st = statSync(full);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(p, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(e)})`);
    }
    if (!st.isFile()) throw new InputError(p, 'not a file');
    return { path: full, size: st.size, mtimeMs: Math.round(st.mtimeMs) };
  });
}

function isGzip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

/** Stream the events of one file in order, validated. `where` errors carry file:line. */
export async function* readFixtureFile(path: string, displayName = path): AsyncGenerator<FixtureEvent> {
  const raw = createReadStream(path);
  const stream = isGzip(path) ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      const t = text.trim();
      if (t === '') continue;
      // the batch body around an event adds 3 levels (body, batch list, properties.$set)
      const depth = jsonDepth(t);
      if (depth > MAX_JSON_DEPTH - 3) {
        throw new InputError(
          `${displayName}:${line}`,
          `the event is nested ${depth} levels deep; PostHog's capture refuses a request nested deeper than ${MAX_JSON_DEPTH} levels, which would fail the whole batch it travels in`,
        );
      }
      let v: unknown;
      try {
        v = JSON.parse(t);
      } catch (e) {
        throw new InputError(`${displayName}:${line}`, `not valid JSON (${(e as Error).message})`);
      }
      const r = checkLine(v);
      if (!r.ok) throw new InputError(`${displayName}:${line}`, r.message);
      const d = r.line;
      const distinct_id = String(d.distinct_id);
      const ev: FixtureEvent = {
        uuid: (d.uuid ?? eventUuidFor({ event: d.event, distinct_id, timestamp: d.timestamp, properties: d.properties })).toLowerCase(),
        event: d.event,
        distinct_id,
        timestamp: d.timestamp,
        properties: d.properties ?? {},
      };
      if (d.person_properties) ev.person_properties = d.person_properties;
      yield ev;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${displayName}${line ? `:${line}` : ''}`, code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR' ? 'corrupt gzip data' : `cannot read (${code ?? (e as Error).message})`);
  } finally {
    rl.close();
    raw.destroy();
  }
}

/** All events of all files, in order. */
export async function* readFixtures(files: readonly InputFile[]): AsyncGenerator<FixtureEvent> {
  for (const f of files) yield* readFixtureFile(f.path, f.path);
}
