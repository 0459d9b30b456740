import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { request } from 'node:http';
import { Store } from '../../src/store/store.js';
import { PKEY, TOKEN, plainEvents, sandbox, uuidsIn } from './helpers.js';

type SB = Awaited<ReturnType<typeof sandbox>>;
let sb: SB;

beforeAll(async () => {
  sb = await sandbox();
});
afterAll(async () => {
  await sb?.close();
});

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const r = await fetch(`${sb.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await r.text();
  return { status: r.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function events(): Promise<number> {
  const r = await fetch(`${sb.url}/_sandbox/stats`);
  return ((await r.json()) as { events: number }).events;
}

describe('sandbox: hostile and malformed capture requests', () => {
  it('answers with PostHog error bodies, stores nothing, stays alive', async () => {
    const bad = await post('/batch/', '{"api_key": "phc_x", "batch": [');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ type: 'validation_error', code: 'invalid_json' });
    expect(Object.keys(bad.json!).sort()).toEqual(['attr', 'code', 'detail', 'type']);

    const wrong = await post('/batch/', JSON.stringify({ api_key: 'phc_WRONGtokenWRONG', batch: [{ event: 'a', distinct_id: 'u' }] }));
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ type: 'authentication_error' });
    expect(wrong.text).not.toContain('WRONG');

    const missing = await post('/e/', JSON.stringify({ api_key: TOKEN, event: 'a' }));
    expect(missing.status).toBe(400);

    const huge = await post('/batch/', Buffer.alloc(21 * 1024 * 1024, 0x20));
    expect(huge.status).toBe(413);

    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024, 0x20));
    const b = await post('/batch/', bomb, { 'content-encoding': 'gzip' });
    expect(b.status).toBe(413);

    const notGzip = await post('/batch/', 'plain text', { 'content-encoding': 'gzip' });
    expect(notGzip.status).toBe(400);

    const get = await fetch(`${sb.url}/batch/`);
    expect(get.status).toBe(405);
    const nf = await fetch(`${sb.url}/nope`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ type: 'invalid_request', code: 'not_found' });

    // a raw malformed HTTP request does not take the server down
    await new Promise<void>((resolve) => {
      const req = request(`${sb.url}/batch/`, { method: 'POST', headers: { 'content-length': '10' } });
      req.on('error', () => resolve());
      req.on('response', (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.write('{"api');
      req.destroy();
      setTimeout(resolve, 200);
    });

    expect((await fetch(`${sb.url}/_sandbox/health`)).status).toBe(200);
    expect(await events()).toBe(0);
  });
});

describe('sandbox: capture', () => {
  it('stores gzip and plain batches once per uuid, applying $set to persons', async () => {
    const evs = plainEvents('cap', 50).map((e, i) => ({ ...e, properties: { ...e.properties, ...(i === 0 ? { $set: { plan: 'pro' } } : {}) } }));
    const body = JSON.stringify({ api_key: TOKEN, batch: evs, sent_at: new Date().toISOString() });
    expect((await post('/batch/', gzipSync(body), { 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post('/i/v0/e/', body)).status).toBe(200); // the same uuids again
    const one = plainEvents('cap1', 1)[0]!;
    expect((await post('/capture/', JSON.stringify({ ...one, properties: { ...one.properties, token: TOKEN } }))).status).toBe(200);
    const ids = await uuidsIn(sb);
    expect(ids).toHaveLength(51);
    expect(new Set(ids)).toEqual(new Set([...evs.map((e) => e.uuid), one.uuid]));
  });
});

describe('sandbox: store vocabulary', () => {
  it('answers 400 with the store message for an event that breaks the Teleport vocabulary, other requests unaffected', async () => {
    const good = plainEvents('voc-ok', 3);
    const bad = { ...plainEvents('voc-bad', 1)[0]!, event: 'connect.cluster.login' };
    const [r1, r2] = await Promise.all([
      post('/batch/', JSON.stringify({ api_key: TOKEN, batch: good })),
      post('/batch/', JSON.stringify({ api_key: TOKEN, batch: [bad] })),
    ]);
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(400);
    expect(r2.json).toMatchObject({ type: 'validation_error', code: 'invalid_event' });
    const ids = new Set(await uuidsIn(sb));
    expect(good.every((e) => ids.has(e.uuid))).toBe(true);
    expect(ids.has(bad.uuid)).toBe(false);
  });
});

describe('sandbox: query API', () => {
  const q = { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: 'test.event.a', math: 'total' }], interval: 'day', dateRange: { date_from: '2026-01-01', date_to: '2026-01-02' } };

  it('requires the personal API key and never echoes it', async () => {
    const none = await post('/api/projects/1/query/', JSON.stringify({ query: q }));
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ type: 'authentication_error', code: 'not_authenticated' });
    const wrong = await post('/api/projects/1/query/', JSON.stringify({ query: q }), { authorization: 'Bearer phx_WRONGkeyWRONG' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('WRONG');
  });

  it('answers blocking and async queries, project settings, and validation errors', async () => {
    const auth = { authorization: `Bearer ${PKEY}` };
    const blocking = await post('/api/projects/1/query/', JSON.stringify({ query: q }), auth);
    expect(blocking.status).toBe(200);
    expect(Array.isArray(blocking.json!.results)).toBe(true);

    const started = await post('/api/environments/1/query/', JSON.stringify({ query: q, refresh: 'force_async' }), auth);
    expect(started.status).toBe(202);
    const id = (started.json!.query_status as { id: string }).id;
    let polled: Response;
    for (;;) {
      polled = await fetch(`${sb.url}/api/projects/1/query/${id}/`, { headers: auth });
      if (polled.status !== 202) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(polled.status).toBe(200);
    const status = ((await polled.json()) as { query_status: { complete: boolean; results: { results: unknown } } }).query_status;
    expect(status.complete).toBe(true);
    expect(status.results.results).toEqual(blocking.json!.results);
    expect((await fetch(`${sb.url}/api/projects/1/query/${id}/`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(`${sb.url}/api/projects/1/query/${id}/`, { headers: auth })).status).toBe(404);

    const project = await fetch(`${sb.url}/api/projects/1/`, { headers: auth });
    expect(await project.json()).toMatchObject({ id: 1, timezone: 'UTC', week_start_day: 0 });
    expect((await fetch(`${sb.url}/api/projects/2/`, { headers: auth })).status).toBe(404);

    const invalid = await post('/api/projects/1/query/', JSON.stringify({ query: { kind: 'NoSuchQuery' } }), auth);
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ type: 'validation_error' });
    const noKind = await post('/api/projects/1/query/', JSON.stringify({ query: 3 }), auth);
    expect(noKind.status).toBe(400);
    expect(noKind.json).toMatchObject({ type: 'validation_error', attr: 'query' });
  });
});

describe('sandbox: shutdown', () => {
  it('persists everything acknowledged before close()', async () => {
    const s2 = await sandbox();
    const evs = plainEvents('persist', 300);
    const r = await fetch(`${s2.url}/batch/`, { method: 'POST', body: JSON.stringify({ api_key: TOKEN, batch: evs }) });
    expect(r.status).toBe(200);
    await s2.close();
    const store = await Store.open(s2.storePath, { readOnly: true });
    const n = await store.conn.runAndReadAll('SELECT count(*) FROM events');
    expect(Number(n.getRows()[0]![0])).toBe(300);
    await store.close();
  });
});
