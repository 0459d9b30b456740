/**
 * A capture request's payload, decoded the way rust capture does it (payload/common.rs,
 * payload/decompression.rs):
 *   1. the payload is the `data` query parameter (GET capture) when given, else the body;
 *   2. a payload that looks wholly base64 (and not like a form) is base64-decoded;
 *   3. with Content-Type application/x-www-form-urlencoded it must be a form: its `data` field
 *      is the payload, and its `compression` field a hint;
 *   4. the compression hint comes from the query (`compression=`), the form, or Content-Encoding:
 *      gzip/gzip-js, lz64/lz-string (lz-string's base64 text), base64; gzip's magic bytes are
 *      recognised without a hint; an unknown encoding is read as plain text;
 *   5. inflated output is capped (a bomb is refused while inflating, 413);
 *   6. a payload still base64 after that is decoded once more (old SDKs), then parsed as JSON
 *      with serde_json's recursion limit.
 */
import { gunzip } from 'node:zlib';
import { MAX_JSON_DEPTH, jsonDepth } from '../events/json-depth.js';
import { CaptureError, INFLATED_LIMIT, decodeFailed, emptyPayload, parseFailed, tooBig } from './capture.js';

export interface RequestParts {
  headers: { 'content-encoding'?: string; 'content-type'?: string };
  query: URLSearchParams;
}

type Compression = 'gzip' | 'lz64' | 'base64' | undefined;

const SNIFF = 128;
const FORM_MIME = 'application/x-www-form-urlencoded';

function hint(v: string | null | undefined): Compression {
  switch ((v ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'gzip-js':
      return 'gzip';
    case 'lz64':
    case 'lz-string':
      return 'lz64';
    case 'base64':
    case 'b64':
      return 'base64';
    default:
      return undefined;
  }
}

/** Does the start of the payload look like `data=…&compression=…`? */
function looksLikeForm(buf: Buffer): boolean {
  const head = buf.subarray(0, SNIFF).toString('latin1');
  return ['data=', '_=', 'ip=', 'compression='].some((k) => head.startsWith(k) || head.includes(`&${k}`));
}

/** rust capture's cheap base64 sniff: the first 128 bytes are base64 characters and the length is a multiple of 4. */
function looksLikeBase64(buf: Buffer | string, loose = false): boolean {
  const s = typeof buf === 'string' ? buf : buf.toString('latin1');
  if (s.length === 0 || s.length % 4 !== 0) return false;
  return (loose ? /^[A-Za-z0-9+/= ]*$/ : /^[A-Za-z0-9+/=]*$/).test(s.slice(0, SNIFF));
}

function base64Strict(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return undefined;
  return Buffer.from(s, 'base64');
}

/** Gunzip with a hard cap on the output, so a gzip bomb is refused while inflating. */
export function gunzipCapped(buf: Buffer, limit = INFLATED_LIMIT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(buf, { maxOutputLength: limit }, (err, out) => {
      if (!err) return resolve(out);
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        reject(tooBig(`Decompressed payload would exceed ${limit} bytes`));
      } else reject(decodeFailed('invalid GZIP data'));
    });
  });
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/**
 * lz-string's decompressFromBase64 with a cap on the output (UTF-16 units), like rust capture's
 * decompress_lz64_capped. Hand-written because the lz-string package has no cap, and a small
 * lz64 body can name an output of gigabytes (each code may repeat the whole dictionary so far).
 * Returns undefined where lz-string returns null or "" (not lz64).
 */
export function lz64Decompress(input: string, limit = INFLATED_LIMIT): string | undefined {
  if (input === '') return undefined;
  const value = (i: number) => B64_VALUE.get(input.charAt(i)) ?? 0;
  let val = value(0);
  let position = 32;
  let index = 1;
  const bits = (n: number): number => {
    let out = 0;
    for (let p = 0; p < n; p++) {
      const bit = val & position;
      position >>= 1;
      if (position === 0) {
        position = 32;
        val = value(index++);
      }
      if (bit) out |= 1 << p;
    }
    return out;
  };
  const dict: string[] = ['', '', ''];
  let size = 4;
  let width = 3;
  let enlargeIn = 4;
  const first = bits(2);
  if (first === 2) return undefined;
  let w = String.fromCharCode(bits(first === 0 ? 8 : 16));
  dict[3] = w;
  const out: string[] = [w];
  let length = w.length;
  for (;;) {
    if (index > input.length) return undefined;
    let c = bits(width);
    if (c === 2) return out.join('');
    if (c === 0 || c === 1) {
      dict[size++] = String.fromCharCode(bits(c === 0 ? 8 : 16));
      c = size - 1;
      if (--enlargeIn === 0) enlargeIn = 2 ** width++;
    }
    let entry: string;
    if (c < size && dict[c] !== undefined) entry = dict[c]!;
    else if (c === size) entry = w + w.charAt(0);
    else return undefined;
    length += entry.length;
    if (length > limit) throw tooBig(`Decompressed LZ64 payload would exceed ${limit} bytes`);
    out.push(entry);
    dict[size++] = w + entry.charAt(0);
    w = entry;
    if (--enlargeIn === 0) enlargeIn = 2 ** width++;
  }
}

/** The payload's bytes and compression hint (steps 1-4). */
function extract(raw: Buffer, r: RequestParts): { payload: Buffer; compression: Compression } {
  const data = r.query.get('data');
  let payload = data ? Buffer.from(data, 'utf8') : raw;
  if (payload.length === 0) throw emptyPayload();
  if (!looksLikeForm(payload) && looksLikeBase64(payload)) payload = base64Strict(payload.toString('latin1')) ?? payload;
  let formHint: Compression;
  const contentType = (r.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType === FORM_MIME) {
    if (!looksLikeForm(payload)) throw decodeFailed('expected form data in POST request payload');
    const form = new URLSearchParams(payload.toString('utf8'));
    formHint = hint(form.get('compression'));
    let d = form.get('data');
    if (d !== null) {
      // a base64 `data` field whose '+' became ' ' in the url-decoding
      if (looksLikeBase64(d, true)) d = d.replace(/ /g, '+');
      payload = Buffer.from(d, 'utf8');
    }
  }
  const compression = hint(r.query.get('compression')) ?? formHint ?? hint(r.headers['content-encoding']);
  return { payload, compression };
}

/** Decode the payload into a JSON value, with its decoded size in bytes. */
export async function decodeBodySized(raw: Buffer, r: RequestParts): Promise<{ value: unknown; bytes: number }> {
  const { payload, compression } = extract(raw, r);
  let text: string;
  if (compression === 'gzip' || (payload.length > 2 && payload[0] === 0x1f && payload[1] === 0x8b)) {
    const out = await gunzipCapped(payload);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(out);
    } catch {
      throw decodeFailed('invalid gzip data');
    }
  } else if (compression === 'lz64') {
    const out = lz64Decompress(payload.toString('utf8'));
    if (out === undefined) throw decodeFailed('decompress_lz64: failed decompress to UTF16');
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(out)) throw decodeFailed('decompress_lz64: failed UTF16 to UTF8 conversion');
    if (Buffer.byteLength(out) > INFLATED_LIMIT) throw tooBig('lz64 request payload size limit exceeded');
    text = out;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    } catch {
      throw decodeFailed('invalid UTF8 in request payload');
    }
    if (payload.length > INFLATED_LIMIT) throw tooBig(`Uncompressed payload size limit ${INFLATED_LIMIT} exceeded: ${payload.length}`);
  }
  // old SDKs: a payload still base64 after decompression
  if (looksLikeBase64(text)) {
    const unwrapped = base64Strict(text);
    if (unwrapped) {
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(unwrapped);
      } catch {
        /* not base64-wrapped text: keep it */
      }
    }
  }
  if (text.trim() === '') throw emptyPayload();
  // rust capture parses with serde_json, whose recursion limit refuses deeper bodies (whole request)
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw parseFailed(`recursion limit exceeded (JSON nested deeper than ${MAX_JSON_DEPTH} levels)`);
  try {
    return { value: JSON.parse(text), bytes: Buffer.byteLength(text) };
  } catch (e) {
    throw parseFailed((e as Error).message);
  }
}

/** decodeBodySized without the size. */
export async function decodeBody(raw: Buffer, r: RequestParts): Promise<unknown> {
  return (await decodeBodySized(raw, r)).value;
}

export { CaptureError };
