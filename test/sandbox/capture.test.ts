import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { CaptureError, decodeBody, gunzipCapped, parseCapture, storedTimestamp } from '../../src/sandbox/capture.js';

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
      expect(() => parseCapture(batch, TOKEN, Date.parse('2200-01-01T00:00:00Z'))).toThrow(/outside the years 1990-2099/);
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
    expect(e.body.type).toBe('authentication_error');
    expect(JSON.stringify(e.body)).not.toContain('WRONG');
    expect(err(() => parseCapture({ batch: [{ event: 'a', distinct_id: 'u' }] }, TOKEN, NOW)).status).toBe(401);
  });

  it('validates the batch as a unit: a missing event name or distinct_id is a 400', () => {
    const e = err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'a', distinct_id: 'u' }, { distinct_id: 'u' }] }, TOKEN, NOW));
    expect(e.status).toBe(400);
    expect(e.body).toMatchObject({ type: 'validation_error', attr: 'batch[1].event' });
    expect(err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'a' }] }, TOKEN, NOW)).body.code).toBe('missing_distinct_id');
    expect(err(() => parseCapture({ api_key: TOKEN, batch: [] }, TOKEN, NOW)).status).toBe(400);
    expect(err(() => parseCapture('x', TOKEN, NOW)).status).toBe(400);
  });

  it('refuses the whole request for one invalid uuid (400, as rust capture), refuses events over 1 MB with 413', () => {
    const e = err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'ok', distinct_id: 'u' }, { event: 'a', distinct_id: 'u', uuid: 'not-a-uuid' }] }, TOKEN, NOW));
    expect(e.status).toBe(400);
    expect(e.body).toMatchObject({ code: 'invalid_uuid', attr: 'batch[1].uuid' });
    const big = { event: 'a', distinct_id: 'u', properties: { blob: 'x'.repeat(1_100_000) } };
    expect(err(() => parseCapture({ api_key: TOKEN, batch: [big] }, TOKEN, NOW)).status).toBe(413);
  });

  it('refuses timestamps that are not ISO 8601 (JavaScript\'s lenient forms the store would refuse later), naming the event', () => {
    for (const ts of ['Tue, 03 Nov 2026 10:00:00 +0000', '2026/11/03 10:00:00 +01:00', 'yesterday']) {
      const e = err(() => parseCapture({ api_key: TOKEN, batch: [{ event: 'ok', distinct_id: 'u' }, { event: 'odd.time', distinct_id: 'u', timestamp: ts }] }, TOKEN, NOW));
      expect(e.status).toBe(400);
      expect(e.body.detail).toContain('event "odd.time"');
    }
    expect(storedTimestamp({ timestamp: '2026-01-03 10:00:00+01:00' }, undefined, NOW)).toBe('2026-01-03T09:00:00.000Z');
  });

  it('refuses JSON nested deeper than serde_json allows, before parsing it', async () => {
    const deep = '{"api_key":"' + TOKEN + '","batch":[{"event":"e","distinct_id":"u","properties":{"p":' + '['.repeat(5000) + ']'.repeat(5000) + '}}]}';
    const e = (await decodeBody(Buffer.from(deep), {}, new URLSearchParams()).catch((x: unknown) => x)) as CaptureError;
    expect(e.status).toBe(400);
    expect(e.body.detail).toMatch(/recursion limit exceeded/);
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

  it('decodes gzip, form data= and refuses bad JSON and gzip bombs', async () => {
    const body = { api_key: TOKEN, batch: [] };
    expect(await decodeBody(gzipSync(JSON.stringify(body)), { 'content-encoding': 'gzip' }, new URLSearchParams())).toEqual(body);
    const form = Buffer.from(`data=${encodeURIComponent(Buffer.from(JSON.stringify(body)).toString('base64'))}`);
    expect(await decodeBody(form, { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams())).toEqual(body);
    await expect(decodeBody(Buffer.from('{bad'), {}, new URLSearchParams())).rejects.toMatchObject({ status: 400 });
    await expect(decodeBody(Buffer.from('not gzip'), { 'content-encoding': 'gzip' }, new URLSearchParams())).rejects.toMatchObject({ status: 400 });
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(200_000);
    await expect(gunzipCapped(bomb, 1024 * 1024)).rejects.toMatchObject({ status: 413 });
  });
});
