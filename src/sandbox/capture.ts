/**
 * Capture-side request handling for the sandbox, as pure functions: body decoding (gzip with a
 * cap on the inflated size, form-encoded `data=`), the accepted payload shapes (posthog-node ≥ 5.38
 * `{api_key, batch, sent_at}`, older items with `type`/`library`, a bare array, a single event
 * for /e/ and /capture/), token checks, validation as a unit, and PostHog's timestamp rules
 * (posthog-api.md §3.2).
 */
import { TS_END, TS_MIN } from '../store/load/sql.js';
import { gunzip } from 'node:zlib';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { MAX_JSON_DEPTH, jsonDepth } from '../events/json-depth.js';

/** The event shape handed to the store's loader (src/store/ingest.ts RawEvent). */
export interface CapturedEvent {
  uuid: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

/** PostHog's error body (drf-exceptions-hog). */
export interface ErrorBody {
  type: string;
  code: string;
  detail: string;
  attr: string | null;
}

export class CaptureError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.detail);
  }
}

export const BATCH_BODY_LIMIT = 20 * 1024 * 1024;
export const EVENT_BODY_LIMIT = 2 * 1024 * 1024;
export const EVENT_SIZE_LIMIT = 1_000_000;
/** Inflated size cap: the batch body limit also applies to the decompressed body. */
export const INFLATED_LIMIT = BATCH_BODY_LIMIT;
const FUTURE_CLAMP_MS = 23 * 3600 * 1000;

const STORE_TS_MIN = Date.parse(TS_MIN);
const STORE_TS_END = Date.parse(TS_END);
const ISO_TS = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function invalid(detail: string, attr: string | null = null, code = 'invalid_payload'): CaptureError {
  return new CaptureError(400, { type: 'validation_error', code, detail, attr });
}

export function tooLarge(detail: string): CaptureError {
  return new CaptureError(413, { type: 'validation_error', code: 'payload_too_large', detail, attr: null });
}

export function unauthorized(code: string, detail: string): CaptureError {
  return new CaptureError(401, { type: 'authentication_error', code, detail, attr: null });
}

/** Gunzip with a hard cap on the output, so a gzip bomb is refused while inflating. */
export function gunzipCapped(buf: Buffer, limit = INFLATED_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(buf, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        reject(tooLarge(`Decompressed payload exceeds the ${limit / 1024 / 1024} MB limit`));
      } else reject(invalid(`Failed to decompress the gzip body: ${err.message}`, null, 'invalid_compression'));
    });
  });
}

/** Decode the raw request body into a JSON value. */
export async function decodeBody(raw: Buffer, headers: { 'content-encoding'?: string; 'content-type'?: string }, query: URLSearchParams): Promise<unknown> {
  return (await decodeBodySized(raw, headers, query)).value;
}

/** decodeBody plus the decoded size in bytes (lets parseCapture skip per-event size checks). */
export async function decodeBodySized(
  raw: Buffer,
  headers: { 'content-encoding'?: string; 'content-type'?: string },
  query: URLSearchParams,
): Promise<{ value: unknown; bytes: number }> {
  let buf = raw;
  const enc = (headers['content-encoding'] ?? '').toLowerCase();
  const gzipped = enc.includes('gzip') || query.get('compression') === 'gzip-js' || (buf.length > 2 && buf[0] === 0x1f && buf[1] === 0x8b);
  if (gzipped) buf = await gunzipCapped(buf);
  else if (enc && enc !== 'identity') throw invalid(`Unsupported Content-Encoding '${enc.slice(0, 40)}'`, null, 'invalid_compression');
  let text = buf.toString('utf8');
  if ((headers['content-type'] ?? '').includes('application/x-www-form-urlencoded') || text.startsWith('data=')) {
    const form = new URLSearchParams(text);
    const data = form.get('data');
    if (data === null) throw invalid('Form body has no data field');
    text = data.trimStart().startsWith('{') || data.trimStart().startsWith('[') ? data : Buffer.from(data, 'base64').toString('utf8');
  }
  if (text.trim() === '') throw invalid('Empty request body', null, 'empty_body');
  // rust capture parses with serde_json, whose recursion limit refuses deeper bodies (whole request)
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw invalid(`failed to parse request: recursion limit exceeded (JSON nested deeper than ${MAX_JSON_DEPTH} levels)`, null, 'invalid_json');
  }
  try {
    return { value: JSON.parse(text), bytes: text.length };
  } catch (e) {
    throw invalid(`Failed to parse the request body as JSON: ${(e as Error).message}`, null, 'invalid_json');
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tokenOf(o: Record<string, unknown>): string | undefined {
  for (const k of ['api_key', 'token']) if (typeof o[k] === 'string' && o[k] !== '') return o[k] as string;
  const p = o.properties;
  if (isObj(p) && typeof p.token === 'string' && p.token !== '') return p.token;
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ParsedCapture {
  events: CapturedEvent[];
  /** Events dropped because their uuid was not a valid UUID (PostHog drops them). */
  droppedInvalidUuid: number;
  historical: boolean;
}

/** Parse a timestamp the way capture does: RFC 3339 first, then common fallbacks. */
function parseTs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e11 ? v : v * 1000;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return n > 1e11 ? n : n * 1000;
  }
  // ISO 8601 / RFC 3339 only, as PostHog's ingestion reads them: JavaScript's lenient Date.parse
  // forms (RFC 2822, slashes) would be acknowledged here and refused by the store later
  if (!ISO_TS.test(s)) return undefined;
  const hasZone = /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(s);
  const t = Date.parse(hasZone ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The stored timestamp (posthog-api.md §3.2): with sent_at and without $ignore_sent_at, correct
 * the client clock skew (now + timestamp − sent_at); `offset` means now − offset; results more
 * than 23 h ahead are clamped to now. A verbatim timestamp keeps its original text (sub-ms digits).
 */
export function storedTimestamp(ev: Record<string, unknown>, sentAt: unknown, now: number): string {
  const props = isObj(ev.properties) ? ev.properties : {};
  const ts = parseTs(ev.timestamp);
  if (ev.timestamp !== undefined && ev.timestamp !== null && ts === undefined) {
    throw invalid(`Invalid timestamp '${String(ev.timestamp).slice(0, 60)}' (expected ISO 8601, e.g. 2026-11-03T10:00:00Z) in event ${JSON.stringify(String(ev.event ?? '')).slice(0, 80)}`, 'timestamp', 'invalid_timestamp');
  }
  let out: number;
  let verbatim = false;
  const sent = parseTs(sentAt);
  if (typeof ev.offset === 'number' && Number.isFinite(ev.offset)) out = now - ev.offset;
  else if (ts !== undefined && sent !== undefined && props.$ignore_sent_at !== true) out = now + (ts - sent);
  else if (ts !== undefined) {
    out = ts;
    verbatim = true;
  } else out = now;
  if (out - now > FUTURE_CLAMP_MS) return new Date(now).toISOString();
  // the store keeps [TS_MIN, TS_END) only: refuse here rather than acknowledge and then drop
  if (!(out >= STORE_TS_MIN && out < STORE_TS_END)) {
    throw invalid(
      `Timestamp '${new Date(Number.isFinite(out) ? Math.max(-8.64e15, Math.min(8.64e15, out)) : 0).toISOString()}' of event ${JSON.stringify(String(ev.event ?? '')).slice(0, 80)} is outside the years ${TS_MIN.slice(0, 4)}-${Number(TS_END.slice(0, 4)) - 1} this sandbox stores`,
      'timestamp',
      'invalid_timestamp',
    );
  }
  if (verbatim && typeof ev.timestamp === 'string' && /T\d{2}:\d{2}:\d{2}(\.\d+)?([zZ]|[+-]\d{2}:\d{2})$/.test(ev.timestamp.trim())) return ev.timestamp.trim();
  return new Date(out).toISOString();
}

/**
 * Validate a capture payload (already JSON) as a unit: the token must match, every event needs
 * an event name and a distinct_id (else 400 for the whole batch), each event ≤ 1 MB (else 413).
 */
export function parseCapture(body: unknown, projectToken: string, now: number, bodyBytes = Infinity): ParsedCapture {
  // an event can only be over the limit when the whole body is
  const checkSize = bodyBytes > EVENT_SIZE_LIMIT;
  let items: unknown[];
  let top: Record<string, unknown> = {};
  if (Array.isArray(body)) items = body;
  else if (isObj(body)) {
    top = body;
    if ('batch' in body) {
      if (!Array.isArray(body.batch)) throw invalid('batch must be an array', 'batch');
      items = body.batch;
    } else if ('data' in body && Array.isArray(body.data)) items = body.data;
    else items = [body];
  } else throw invalid('Request body must be a JSON object or array');
  if (items.length === 0) throw invalid('Empty batch', 'batch', 'empty_batch');

  const topToken = tokenOf(top);
  const tokens = new Set<string>();
  if (topToken !== undefined) tokens.add(topToken);
  else for (const it of items) if (isObj(it)) {
    const t = tokenOf(it);
    if (t !== undefined) tokens.add(t);
  }
  if (tokens.size === 0) throw unauthorized('no_token', 'API key is missing: send the project API key as api_key.');
  if (tokens.size > 1) throw unauthorized('multiple_tokens', 'Multiple project API keys in one request.');
  if (!sameSecret([...tokens][0]!, projectToken)) {
    throw unauthorized('invalid_api_key', 'Project API key invalid. You can find your project API key in your PostHog project settings.');
  }

  const sentAt = top.sent_at;
  const events: CapturedEvent[] = [];
  let droppedInvalidUuid = 0;
  items.forEach((it, i) => {
    const at = items.length > 1 || 'batch' in top ? `batch[${i}]` : null;
    if (!isObj(it)) throw invalid('Each event must be a JSON object', at);
    const props: Record<string, unknown> = isObj(it.properties) ? { ...it.properties } : {};
    if (it.properties !== undefined && it.properties !== null && !isObj(it.properties)) throw invalid('properties must be an object', at && `${at}.properties`);
    const name = it.event;
    if (typeof name !== 'string' || name === '') throw invalid('Missing event name', at ? `${at}.event` : 'event', 'missing_event_name');
    let did = it.distinct_id ?? it.$distinct_id ?? props.distinct_id ?? props.$distinct_id;
    if (typeof did === 'number' && Number.isFinite(did)) did = String(did);
    if (typeof did !== 'string' || did.trim() === '') throw invalid('Missing distinct_id', at ? `${at}.distinct_id` : 'distinct_id', 'missing_distinct_id');
    if (checkSize && JSON.stringify(it).length > EVENT_SIZE_LIMIT) throw tooLarge(`Event ${at ?? ''} exceeds the 1 MB event size limit`.replace('  ', ' '));
    let uuid = it.uuid;
    if (uuid === undefined || uuid === null || uuid === '') uuid = randomUUID();
    else if (typeof uuid !== 'string' || !UUID_RE.test(uuid)) {
      // rust capture refuses the whole request when one event's uuid is not a UUID
      throw invalid(`failed to parse request: invalid uuid ${JSON.stringify(String(uuid)).slice(0, 60)}`, at ? `${at}.uuid` : 'uuid', 'invalid_uuid');
    }
    // person properties sent at the top level of an event (posthog-js style) apply like properties.$set
    for (const k of ['$set', '$set_once'] as const) if (isObj(it[k]) && !isObj(props[k])) props[k] = it[k];
    delete props.token;
    events.push({
      uuid: (uuid as string).toLowerCase(),
      event: name,
      distinct_id: did.slice(0, 200),
      timestamp: storedTimestamp(it, it.sent_at ?? sentAt, now),
      properties: props,
    });
  });
  return { events, droppedInvalidUuid, historical: top.historical_migration === true };
}
