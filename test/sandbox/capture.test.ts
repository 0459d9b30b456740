import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { compressToBase64, decompressFromBase64 } from 'lz-string';
import { CaptureError, parseCapture, storedTimestamp } from '../../src/sandbox/capture.js';
import { decodeBody, gunzipCapped, lz64Decompress } from '../../src/sandbox/decode.js';

const plain = (headers: Record<string, string> = {}, query = '') => ({ headers, query: new URLSearchParams(query) });

const TOKEN = 'phc_sandboxtoken1234';
const NOW = Date.parse('2026-01-10T12:00:00.000Z');
const U1 = '0190f8a0-0000-7000-8000-000000000001';

function err(f: () => unknown): CaptureError {
  try {
    f();
  } catch (e) {
    return e as CaptureError;
  }
  throw new Error('expected an error');
}

describe('sandbox capture parsing', () => {
  it('refuses (400) timestamps the store would not keep, instead of acknowledging and then dropping them', () => {
    for (const timestamp of ['0001-01-01T00:00:00Z', '1969-12-31T23:59:59.000Z', '2100-01-01T00:00:00Z']) {
      const batch = { api_key: TOKEN, batch: [{ event: 'ok', distinct_id: 'd', timestamp: '2026-01-09T00:00:00Z' }, { event: 'far', distinct_id: 'd', timestamp }] };
      expect(() => parseCapture(batch, TOKEN, Date.parse('2200-01-01T00:00:00Z'))).toThrow(/^event submitted with invalid timestamp \(batch\[1\], event "far": .* outside the years 1990-2099/);
    }
    expect(parseCapture({ api_key: TOKEN, batch: [{ event: 'ok', distinct_id: 'd', timestamp: '1990-01-01T00:00:00Z' }] }, TOKEN, NOW).events).toHaveLength(1);
  });

  it('accepts the posthog-node 5.70 batch shape and the legacy one', () => {
    const now = parseCapture(
      { api_key: TOKEN, sent_at: '2026-01-10T12:00:00.000Z', batch: [{ event: 'a', distinct_id: 'u1', uuid: U1, timestamp: '2026-01-10T11:00:00.000Z', properties: { x: 1 } }] },
      TOKEN,
      NOW,
    );
    expect(now.events).toEqual([{ uuid: U1, event: 'a', distinct_id: 'u1', timestamp: '2026-01-10T11:00:00.000Z', properties: { x: 1 } }]);
    const legacy = parseCapture(
      { api_key: TOKEN, batch: [{ type: 'capture', library: 'posthog-node', library_version: '5.0.0', event: 'b', properties: { distinct_id: 42 }, timestamp: '2026-01-01T00:00:00Z' }] },
      TOKEN,
      NOW,
    );
    expect(legacy.events[0]!.distinct_id).toBe('42');
    expect(legacy.events[0]!.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('accepts single events with the token in properties (/e/, /capture/)', () => {
    const r = parseCapture({ event: 'e', distinct_id: 'd', properties: { token: TOKEN, $set: { a: 1 } } }, TOKEN, NOW);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]!.properties).toEqual({ $set: { a: 1 } });
  });

  it('rejects a wrong or missing token with 401 and does not echo it', () => {
    const e = err(() => parseCapture({ api_key: 'phc_WRONGwrongWRONG', batch: [{ event: 'a', distinct_id: 'u' }] }, TOKEN, NOW));
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/^API key is not valid: /);
    expect(e.message).not.toContain('WRONG');
    expect(err(() => parseCapture({ batch: [{ event: 'a', distinct_id: 'u' }] }, TOKEN, NOW)).message).toBe('event submitted without an api_key');
    expect(err(() => parseCapture({ batch: [{ event: 'a', distinct_id: 'u', api_key: TOKEN }, { event: 'a', distinct_id: 'u', api_key: 'phc_other' }] }, TOKEN, NOW)).message).toBe(
      'batch submitted with inconsistent api_key values',
    );
    // rust capture trims the token
    expect(parseCapture({ api_key: `${TOKEN}\n`, batch: [{ event: 'a', distinct_id: 'u' }] }, TOKEN, NOW).events).toHaveLength(1);
  });

  it('validates the batch as a unit: a missing event name or distinct_id is a 400', () => {
    const e = err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'a', distinct_id: 'u' }, { distinct_id: 'u' }] }, TOKEN, NOW));
    expect(e.status).toBe(400);
    expect(e.message).toBe('event submitted with an empty event name (batch[1])');
    expect(err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'a' }] }, TOKEN, NOW)).message).toBe('event submitted without a distinct_id (batch[0])');
    expect(err(() => parseCapture({ api_key: TOKEN, batch: [] }, TOKEN, NOW)).status).toBe(400);
    expect(err(() => parseCapture('x', TOKEN, NOW)).status).toBe(400);
  });

  it('refuses the whole request for one invalid uuid (400, as rust capture), refuses events over 1 MB with 413', () => {
    const e = err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'ok', distinct_id: 'u' }, { event: 'a', distinct_id: 'u', uuid: 'not-a-uuid' }] }, TOKEN, NOW));
    expect(e.status).toBe(400);
    expect(e.message).toBe('failed to parse request: invalid uuid "not-a-uuid" (batch[1])');
    const big = { event: 'a', distinct_id: 'u', properties: { blob: 'x'.repeat(1_100_000) } };
    expect(err(() => parseCapture({ api_key: TOKEN, batch: [big] }, TOKEN, NOW)).status).toBe(413);
  });

  it('refuses timestamps that are not ISO 8601 (JavaScript\'s lenient forms the store would refuse later), naming the event', () => {
    for (const ts of ['Tue, 03 Nov 2026 10:00:00 +0000', '2026/11/03 10:00:00 +01:00', 'yesterday']) {
      const e = err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'ok', distinct_id: 'u' }, { event: 'odd.time', distinct_id: 'u', timestamp: ts }] }, TOKEN, NOW));
      expect(e.status).toBe(400);
      expect(e.message).toContain('event submitted with invalid timestamp (batch[1], event "odd.time"');
    }
    expect(storedTimestamp({ timestamp: '2026-01-03 10:00:00+01:00' }, undefined, NOW)).toBe('2026-01-03T09:00:00.000Z');
  });

  it('refuses JSON nested deeper than serde_json allows, before parsing it', async () => {
    const deep = '{"api_key":"' + TOKEN + '","batch":[{"event":"e","distinct_id":"u","properties":{"p":' + '['.repeat(5000) + ']'.repeat(5000) + '}}]}';
    const e = (await decodeBody(Buffer.from(deep), plain()).catch((x: unknown) => x)) as CaptureError;
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/^failed to parse request: recursion limit exceeded/);
  });

  it('corrects clock skew from sent_at unless $ignore_sent_at, clamps the far future', () => {
    const ev = { timestamp: '2026-01-10T11:00:00.000Z', properties: {} };
    // client clock 1 h ahead: sent_at says 13:00 while the server says 12:00
    expect(storedTimestamp(ev, '2026-01-10T13:00:00.000Z', NOW)).toBe('2026-01-10T10:00:00.000Z');
    expect(storedTimestamp({ ...ev, properties: { $ignore_sent_at: true } }, '2026-01-10T13:00:00.000Z', NOW)).toBe('2026-01-10T11:00:00.000Z');
    expect(storedTimestamp({ timestamp: '2026-01-01T00:00:00.123456Z' }, undefined, NOW)).toBe('2026-01-01T00:00:00.123456Z');
    expect(storedTimestamp({ timestamp: '2026-03-01T00:00:00Z' }, undefined, NOW)).toBe(new Date(NOW).toISOString());
    expect(storedTimestamp({}, undefined, NOW)).toBe(new Date(NOW).toISOString());
    expect(storedTimestamp({ offset: 1000 }, undefined, NOW)).toBe(new Date(NOW - 1000).toISOString());
    expect(err(() => storedTimestamp({ timestamp: 'yesterday-ish' }, undefined, NOW)).status).toBe(400);
  });

  it('decodes gzip, form data=, base64, GET data= and lz64, and refuses bad JSON and gzip bombs', async () => {
    const body = { api_key: TOKEN, batch: [] };
    const json = JSON.stringify(body);
    expect(await decodeBody(gzipSync(json), plain({ 'content-encoding': 'gzip' }))).toEqual(body);
    const form = Buffer.from(`data=${encodeURIComponent(Buffer.from(json).toString('base64'))}`);
    expect(await decodeBody(form, plain({ 'content-type': 'application/x-www-form-urlencoded' }))).toEqual(body);
    // posthog-js's form with '+' turned into ' ' by url-decoding, and its lz64 compression
    const b64 = Buffer.from(JSON.stringify({ ...body, pad: '>>>???' })).toString('base64');
    expect(b64).toContain('+');
    expect(await decodeBody(Buffer.from(`data=${b64.replace(/\+/g, ' ')}`), plain({ 'content-type': 'application/x-www-form-urlencoded' }))).toMatchObject(body);
    expect(await decodeBody(Buffer.from(`data=${encodeURIComponent(compressToBase64(json))}&compression=lz64`), plain({ 'content-type': 'application/x-www-form-urlencoded' }))).toEqual(body);
    expect(await decodeBody(Buffer.from(compressToBase64(json)), plain({}, 'compression=lz64'))).toEqual(body);
    expect(await decodeBody(Buffer.from(compressToBase64(json)), plain({ 'content-encoding': 'lz64' }))).toEqual(body);
    // GET: the payload is the data= parameter, plain JSON or base64
    expect(await decodeBody(Buffer.alloc(0), plain({}, `data=${encodeURIComponent(json)}`))).toEqual(body);
    expect(await decodeBody(Buffer.alloc(0), plain({}, `data=${encodeURIComponent(Buffer.from(json).toString('base64'))}`))).toEqual(body);
    expect(await decodeBody(Buffer.from(Buffer.from(json).toString('base64')), plain())).toEqual(body);
    await expect(decodeBody(Buffer.from('{bad'), plain())).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^failed to parse request: /) });
    await expect(decodeBody(Buffer.from([0x1f, 0x8b, 0, 1]), plain({ 'content-encoding': 'gzip' }))).rejects.toMatchObject({ status: 400, message: 'failed to decode request: invalid GZIP data' });
    await expect(decodeBody(Buffer.alloc(0), plain())).rejects.toMatchObject({ status: 400, message: 'request missing data payload' });
    await expect(decodeBody(Buffer.from([0xff, 0xfe, 0x7b]), plain())).rejects.toMatchObject({ status: 400, message: 'failed to decode request: invalid UTF8 in request payload' });
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(200_000);
    await expect(gunzipCapped(bomb, 1024 * 1024)).rejects.toMatchObject({ status: 413 });
  });

  it('decompresses lz64 exactly as lz-string does, and refuses an lz64 bomb while inflating', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 60; i++) {
      const n = Math.floor(rand() * 1500);
      const alphabet = i % 3 === 0 ? 'ab' : i % 3 === 1 ? '{"event":"x","distinct_id":1} ' : 'Ωmega 事件😀\u0000';
      const text = Array.from({ length: n }, () => alphabet[Math.floor(rand() * alphabet.length)]).join('');
      const packed = compressToBase64(text);
      expect(lz64Decompress(packed)).toBe(decompressFromBase64(packed) || undefined);
    }
    const bomb = compressToBase64('A'.repeat(256 * 1024));
    expect(bomb.length).toBeLessThan(2 * 1024);
    expect(lz64Decompress(bomb)).toHaveLength(256 * 1024);
    expect(() => lz64Decompress(bomb, 64 * 1024)).toThrow(/^maximum event size exceeded: /);
    expect(lz64Decompress('')).toBeUndefined();
  });
});
