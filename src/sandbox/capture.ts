/**
 * Capture-side request handling for the sandbox, as pure functions: the accepted payload shapes
 * (posthog-node ≥ 5.38 `{api_key, batch, sent_at}`, older items with `type`/`library`, a bare
 * array, a single event for /e/ and /capture/), token checks, validation as a unit, PostHog's
 * timestamp rules (posthog-api.md §3.2), and rust capture's refusals (status and plain-text
 * body). Body decoding (base64, forms, gzip, lz64) is in decode.ts.
 *
 * No Teleport vocabulary check here: PostHog's capture accepts any event name and properties.
 */
import { TS_END, TS_MIN } from '../store/load/sql.js';
import { randomUUID, timingSafeEqual } from 'node:crypto';

/** The event shape handed to the store's loader (src/store/ingest.ts RawEvent). */
export interface CapturedEvent {
  uuid: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

/**
 * A refusal as rust capture answers it: the status and a plain-text body, the Display text of
 * its CaptureError (rust/capture/src/api.rs). Where rust's text names no place, the sandbox
 * adds the event's place in parentheses ("(batch[3])").
 */
export class CaptureError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Single-event routes (/e/, /i/v0/e/, /capture/, /track/, /engage/): axum's DefaultBodyLimit in rust capture's router. */
export const EVENT_BODY_LIMIT = 2 * 1024 * 1024;
export const BATCH_BODY_LIMIT = 20 * 1024 * 1024;
/** Session recordings (/s/). */
export const RECORDING_BODY_LIMIT = 25 * 1024 * 1024;
export const EVENT_SIZE_LIMIT = 1_000_000;
/** Inflated size cap (rust: the event payload size limit), applied while decompressing. */
export const INFLATED_LIMIT = BATCH_BODY_LIMIT;
const FUTURE_CLAMP_MS = 23 * 3600 * 1000;

const STORE_TS_MIN = Date.parse(TS_MIN);
const STORE_TS_END = Date.parse(TS_END);
const ISO_TS = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[zZ]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const at = (place: string | null) => (place ? ` (${place})` : '');

/** RequestDecodingError: 400 "failed to decode request: …". */
export const decodeFailed = (detail: string) => new CaptureError(400, `failed to decode request: ${detail}`);
/** RequestParsingError: 400 "failed to parse request: …" (serde_json's message). */
export const parseFailed = (detail: string) => new CaptureError(400, `failed to parse request: ${detail}`);
/** EventTooBig: 413 "maximum event size exceeded: …". */
export const tooBig = (detail: string) => new CaptureError(413, `maximum event size exceeded: ${detail}`);
/** EmptyPayload: no body and no data= parameter. */
export const emptyPayload = () => new CaptureError(400, 'request missing data payload');

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function tokenOf(o: Record<string, unknown>): string | undefined {
  for (const k of ['api_key', 'token']) if (typeof o[k] === 'string') return o[k] as string;
  const p = o.properties;
  if (isObj(p) && typeof p.token === 'string') return p.token;
  return undefined;
}

/** Why rust capture refuses a token's shape (rust/capture/src/token.rs), or undefined. */
function tokenShapeProblem(token: string): string | undefined {
  if (token === '') return 'empty';
  if (token.length > 64) return 'too_long';
  if (!/^[\x00-\x7f]*$/.test(token)) return 'not_ascii';
  if (token.startsWith('phx_')) return 'personal_api_key';
  if (token.includes('\0')) return 'null_byte';
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ParsedCapture {
  events: CapturedEvent[];
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
export function storedTimestamp(ev: Record<string, unknown>, sentAt: unknown, now: number, place: string | null = null): string {
  const props = isObj(ev.properties) ? ev.properties : {};
  const ts = parseTs(ev.timestamp);
  const which = `${place ? `${place}, ` : ''}event ${JSON.stringify(String(ev.event ?? '')).slice(0, 80)}`;
  if (ev.timestamp !== undefined && ev.timestamp !== null && ts === undefined) {
    throw new CaptureError(400, `event submitted with invalid timestamp (${which}: '${String(ev.timestamp).slice(0, 60)}', expected ISO 8601, e.g. 2026-11-03T10:00:00Z)`);
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
    throw new CaptureError(
      400,
      `event submitted with invalid timestamp (${which}: '${new Date(Number.isFinite(out) ? Math.max(-8.64e15, Math.min(8.64e15, out)) : 0).toISOString()}' is outside the years ${TS_MIN.slice(0, 4)}-${Number(TS_END.slice(0, 4)) - 1} this sandbox stores)`,
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
      if (!Array.isArray(body.batch)) throw parseFailed('invalid type: batch must be a sequence');
      items = body.batch;
    } else if ('data' in body && Array.isArray(body.data)) items = body.data;
    else items = [body];
  } else throw parseFailed('invalid type: expected an event, a list of events or a batch');
  if (items.length === 0) throw new CaptureError(400, 'request holds no event');

  const topToken = tokenOf(top);
  const tokens = new Set<string>();
  if (topToken !== undefined) tokens.add(topToken);
  else for (const it of items) if (isObj(it)) {
    const t = tokenOf(it);
    if (t !== undefined) tokens.add(t);
  }
  if (tokens.size === 0) throw new CaptureError(401, 'event submitted without an api_key');
  if (tokens.size > 1) throw new CaptureError(401, 'batch submitted with inconsistent api_key values');
  const token = [...tokens][0]!.trim();
  const shape = tokenShapeProblem(token);
  if (shape) throw new CaptureError(401, `API key is not valid: ${shape}`);
  // PostHog answers 200 for a well-formed token of no project and drops the events later; the
  // sandbox acknowledges only what it stores, so it refuses them here
  if (!sameSecret(token, projectToken)) throw new CaptureError(401, 'API key is not valid: not the project token of this sandbox');

  const sentAt = top.sent_at;
  const events: CapturedEvent[] = [];
  items.forEach((it, i) => {
    const place = items.length > 1 || 'batch' in top ? `batch[${i}]` : null;
    if (!isObj(it)) throw parseFailed(`invalid type: an event must be a JSON object${at(place)}`);
    const props: Record<string, unknown> = isObj(it.properties) ? { ...it.properties } : {};
    if (it.properties !== undefined && it.properties !== null && !isObj(it.properties)) throw parseFailed(`invalid type: properties must be a map${at(place)}`);
    const name = it.event;
    if (name !== undefined && name !== null && typeof name !== 'string') throw parseFailed(`invalid type: event must be a string${at(place)}`);
    if (typeof name !== 'string' || name === '') throw new CaptureError(400, `event submitted with an empty event name${at(place)}`);
    let did = it.distinct_id ?? it.$distinct_id ?? props.distinct_id ?? props.$distinct_id;
    if (typeof did === 'number' && Number.isFinite(did)) did = String(did);
    if (typeof did !== 'string' || did.trim() === '') throw new CaptureError(400, `event submitted without a distinct_id${at(place)}`);
    if (checkSize && JSON.stringify(it).length > EVENT_SIZE_LIMIT) throw tooBig(`event over ${EVENT_SIZE_LIMIT.toLocaleString('en-US')} bytes${at(place)}`);
    let uuid = it.uuid;
    if (uuid === undefined || uuid === null || uuid === '') uuid = randomUUID();
    else if (typeof uuid !== 'string' || !UUID_RE.test(uuid)) {
      // rust capture refuses the whole request when one event's uuid is not a UUID (serde fails)
      throw parseFailed(`invalid uuid ${JSON.stringify(String(uuid)).slice(0, 60)}${at(place)}`);
    }
    // person properties sent at the top level of an event (posthog-js style) apply like properties.$set
    for (const k of ['$set', '$set_once'] as const) if (isObj(it[k]) && !isObj(props[k])) props[k] = it[k];
    delete props.token;
    events.push({
      uuid: (uuid as string).toLowerCase(),
      event: name,
      distinct_id: did.slice(0, 200),
      timestamp: storedTimestamp(it, it.sent_at ?? sentAt, now, place),
      properties: props,
    });
  });
  return { events, historical: top.historical_migration === true };
}
