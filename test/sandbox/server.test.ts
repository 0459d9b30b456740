import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { request } from 'node:http';
import { compressToBase64 } from 'lz-string';
import { Store } from '../../src/store/store.js';
import { taxonomy } from '../../src/events/taxonomy.js';
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
  const type = r.headers.get('content-type') ?? '';
  return { status: r.status, text, type, json: text && type.startsWith('application/json') ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function events(): Promise<number> {
  const r = await fetch(`${sb.url}/_sandbox/stats`);
  return ((await r.json()) as { events: number }).events;
}

describe('sandbox: hostile and malformed capture requests', () => {
  it('answers as rust capture does (status, plain-text body), stores nothing, stays alive', async () => {
    const text = 'text/plain; charset=utf-8';
    const bad = await post('/batch/', '{"api_key": "phc_x", "batch": [');
    expect([bad.status, bad.type]).toEqual([400, text]);
    expect(bad.text).toMatch(/^failed to parse request: /);

    const wrong = await post('/batch/', JSON.stringify({ api_key: 'phc_WRONGtokenWRONG', batch: [{ event: 'a', distinct_id: 'u' }] }));
    expect([wrong.status, wrong.type]).toEqual([401, text]);
    expect(wrong.text).toMatch(/^API key is not valid: /);
    expect(wrong.text).not.toContain('WRONG');
    const personal = await post('/batch/', JSON.stringify({ api_key: 'phx_personalKey', batch: [{ event: 'a', distinct_id: 'u' }] }));
    expect([personal.status, personal.text]).toEqual([401, 'API key is not valid: personal_api_key']);
    const none = await post('/batch/', JSON.stringify({ batch: [{ event: 'a', distinct_id: 'u' }] }));
    expect([none.status, none.text]).toEqual([401, 'event submitted without an api_key']);

    const missing = await post('/e/', JSON.stringify({ api_key: TOKEN, event: 'a' }));
    expect([missing.status, missing.text]).toEqual([400, 'event submitted without a distinct_id']);
    const noName = await post('/batch/', JSON.stringify({ api_key: TOKEN, batch: [{ event: 'a', distinct_id: 'u' }, { distinct_id: 'u' }] }));
    expect([noName.status, noName.text]).toEqual([400, 'event submitted with an empty event name (batch[1])']);
    const empty = await post('/batch/', JSON.stringify({ api_key: TOKEN, batch: [] }));
    expect([empty.status, empty.text]).toEqual([400, 'request holds no event']);
    expect(await post('/batch/', '')).toMatchObject({ status: 400, text: 'request missing data payload' });

    const huge = await post('/batch/', Buffer.alloc(21 * 1024 * 1024, 0x20));
    expect([huge.status, huge.text]).toEqual([413, 'Failed to buffer the request body: length limit exceeded']);

    const bomb = gzipSync(Buffer.alloc(100 * 1024 * 1024, 0x20));
    const b = await post('/batch/', bomb, { 'content-encoding': 'gzip' });
    expect(b.status).toBe(413);
    expect(b.text).toMatch(/^maximum event size exceeded: /);

    const notGzip = await post('/batch/', Buffer.from([0x1f, 0x8b, 1, 2, 3]), { 'content-encoding': 'gzip' });
    expect([notGzip.status, notGzip.text]).toEqual([400, 'failed to decode request: invalid GZIP data']);

    const put = await fetch(`${sb.url}/batch/`, { method: 'PUT', body: '{}' });
    expect([put.status, await put.text()]).toEqual([405, '']);
    const options = await fetch(`${sb.url}/e/`, { method: 'OPTIONS' });
    expect(options.status).toBe(200);
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

describe('sandbox: capture as strict and as open as PostHog', () => {
  it('stores events that break the Teleport vocabulary (PostHog accepts any event) and answers only once they are stored', async () => {
    const good = plainEvents('voc-ok', 3);
    const bad = { ...plainEvents('voc-bad', 1)[0]!, event: 'connect.cluster.login' }; // no connector type
    const t = taxonomy();
    const odd = { ...plainEvents('voc-odd', 1)[0]!, event: t.discover.events.completed, properties: { [t.discover.properties.status!]: 'NOT_A_STATUS' } };
    const [r1, r2] = await Promise.all([
      post('/batch/', JSON.stringify({ api_key: TOKEN, batch: good })),
      post('/batch/', JSON.stringify({ api_key: TOKEN, batch: [bad, odd] })),
    ]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    // no wait: a 200 means stored
    const ids = new Set(await uuidsIn(sb));
    for (const e of [...good, bad, odd]) expect(ids.has(e.uuid)).toBe(true);
  });

  it('limits bodies per route: 2 MB on single-event routes, 20 MB on /batch/', async () => {
    const evs = plainEvents('big', 3).map((e, i) => ({ ...e, properties: { ...e.properties, pad: String(i).repeat(900_000) } }));
    const body = JSON.stringify({ api_key: TOKEN, batch: evs });
    expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
    for (const path of ['/e/', '/i/v0/e/', '/capture/', '/track/', '/engage/']) {
      const r = await post(path, body);
      expect([path, r.status, r.text]).toEqual([path, 413, 'Failed to buffer the request body: length limit exceeded']);
    }
    expect((await post('/batch/', body)).status).toBe(200);
    const ids = new Set(await uuidsIn(sb));
    expect(evs.every((e) => ids.has(e.uuid))).toBe(true);
  });

  it('takes GET capture (data= in the query, plain or base64) and lz64 bodies (form or ?compression=lz64)', async () => {
    const [a, b, c, d] = plainEvents('getlz', 4);
    const json = (e: unknown) => JSON.stringify({ api_key: TOKEN, batch: [e] });
    const get1 = await fetch(`${sb.url}/e/?data=${encodeURIComponent(json(a))}`);
    expect(get1.status).toBe(200);
    const get2 = await fetch(`${sb.url}/i/v0/e/?data=${encodeURIComponent(Buffer.from(json(b)).toString('base64'))}`);
    expect(get2.status).toBe(200);
    const form = `data=${encodeURIComponent(compressToBase64(json(c)))}&compression=lz64`;
    expect((await post('/e/', form, { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(200);
    expect((await post('/batch/?compression=lz64', compressToBase64(json(d)), { 'content-type': 'text/plain' })).status).toBe(200);
    const ids = new Set(await uuidsIn(sb));
    for (const e of [a, b, c, d]) expect(ids.has(e!.uuid)).toBe(true);
    const broken = await post('/batch/?compression=lz64', '!!!!', { 'content-type': 'text/plain' });
    expect([broken.status, broken.text]).toEqual([400, 'failed to decode request: decompress_lz64: failed decompress to UTF16']);
    const notForm = await post('/e/', json(a), { 'content-type': 'application/x-www-form-urlencoded' });
    expect([notForm.status, notForm.text]).toEqual([400, 'failed to decode request: expected form data in POST request payload']);
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
