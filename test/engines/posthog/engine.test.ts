import { describe, expect, it } from 'vitest';
import { createPostHogEngine, contextWarnings, throttleWaitSeconds, type FetchLike } from '../../../src/engines/posthog/index.js';
import { HttpError, QueryValidationError } from '../../../src/errors.js';
import { defaultQueryContext } from '../../../src/engines/types.js';

const KEY = 'phx_SECRETsecretSECRET1234';
const ctx = defaultQueryContext();
const trends = { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: 'x', math: 'total' }] };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

type Call = { url: string; method: string; auth: string | null; body: unknown };

function stub(handler: (c: Call, n: number) => Response | Promise<Response>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const h = new Headers(init.headers);
      const c: Call = { url, method: init.method ?? 'GET', auth: h.get('authorization'), body: init.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(c);
      return handler(c, calls.length);
    },
  };
}

const base = { host: 'http://127.0.0.1:9/', projectId: '42', personalApiKey: KEY, pollMs: 5, maxPollMs: 10 };

describe('PostHog engine', () => {
  it('posts the query with the bearer key, refresh blocking (PostHog\'s cache) and a client_query_id; polls only an async answer', async () => {
    const s = stub((c, n) => {
      if (c.method === 'POST') return json(202, { query_status: { id: 'abc', complete: false } });
      if (n < 4) return json(202, { query_status: { id: 'abc', complete: false } });
      return json(200, { query_status: { id: 'abc', complete: true, results: { results: [{ count: 3 }], timezone: 'UTC' } } });
    });
    const e = createPostHogEngine({ ...base, fetch: s.fetch });
    const r = await e.run(trends, ctx);
    expect(r.results).toEqual([{ count: 3 }]);
    expect(s.calls[0]!.url).toBe('http://127.0.0.1:9/api/projects/42/query/');
    expect(s.calls[0]!.auth).toBe(`Bearer ${KEY}`);
    expect(s.calls[0]!.body).toMatchObject({ query: trends, refresh: 'blocking' });
    expect((s.calls[0]!.body as { client_query_id: string }).client_query_id).toMatch(/^[0-9a-f]{32}$/);
    expect(e.requests()).toMatchObject({ total: 4, queries: 1, polls: 3 });
    expect(s.calls.slice(1).every((c) => c.method === 'GET' && c.url.endsWith('/api/projects/42/query/abc/'))).toBe(true);
    expect(s.calls).toHaveLength(4);
  });

  it('accepts a synchronous 200 answer', async () => {
    const s = stub(() => json(200, { results: [1, 2], is_cached: false }));
    const r = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx);
    expect(r.results).toEqual([1, 2]);
  });

  it('waits out a 429 for the time PostHog states in detail', async () => {
    const waits: number[] = [];
    const s = stub((_c, n) =>
      n === 1
        ? json(429, { type: 'throttled_error', code: 'throttled', detail: 'Request was throttled. Expected available in 1 seconds.', attr: null })
        : json(200, { results: ['ok'] }),
    );
    const e = createPostHogEngine({ ...base, fetch: s.fetch, sleep: async (ms) => void waits.push(ms) });
    expect((await e.run(trends, ctx)).results).toEqual(['ok']);
    expect(waits).toEqual([1000]);
  });

  it('waits out a real 429 (tiny N) without a sleep stub', async () => {
    const s = stub((_c, n) => (n === 1 ? json(429, { detail: 'Request was throttled. Expected available in 0.05 seconds.' }) : json(200, { results: [] })));
    const t0 = Date.now();
    await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(s.calls).toHaveLength(2);
  });

  it('uses Retry-After when detail has no time', () => {
    expect(throttleWaitSeconds('Too many', '7')).toBe(7);
    expect(throttleWaitSeconds('Request was throttled. Expected available in 12 seconds.', '3')).toBe(12);
    expect(throttleWaitSeconds(undefined, null)).toBeUndefined();
  });

  it('reports a wrong key with status and detail, never the key', async () => {
    const s = stub(() => json(401, { type: 'authentication_error', code: 'authentication_failed', detail: 'Personal API key found in request is invalid.', attr: null }));
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err.status).toBe(401);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('401');
    expect(err.message).toContain('Personal API key found in request is invalid.');
    expect(err.message).not.toContain(KEY);
    expect(err.message).not.toContain('SECRET');
  });

  it('turns 400 validation_error into a QueryValidationError with PostHog detail', async () => {
    const s = stub(() => json(400, { type: 'validation_error', code: 'invalid_input', detail: 'Funnels require at least two steps.', attr: null }));
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(QueryValidationError);
    expect(err.message).toContain('Funnels require at least two steps.');
  });

  it('surfaces a failed async query with its error message', async () => {
    const s = stub((c) =>
      c.method === 'POST'
        ? json(202, { query_status: { id: 'q1', complete: false } })
        : json(400, { query_status: { id: 'q1', complete: true, error: true, error_message: 'Unknown property' } }),
    );
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err.message).toContain('Unknown property');
    expect(err.exitCode).toBe(2);
  });

  it('rejects responses of the wrong shape (zod)', async () => {
    const s = stub(() => json(200, { nope: true }));
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toMatch(/no results/);
  });

  it('retries 503 and network errors, then succeeds', async () => {
    const s = stub((_c, n) => {
      if (n === 1) throw new TypeError('fetch failed');
      if (n === 2) return json(503, { detail: 'busy' });
      return json(200, { results: ['x'] });
    });
    const e = createPostHogEngine({ ...base, fetch: s.fetch, sleep: async () => {} });
    expect((await e.run(trends, ctx)).results).toEqual(['x']);
  });

  it('runMany keeps at most 3 queries in flight and preserves order', async () => {
    let active = 0;
    let max = 0;
    const s = stub(async (c) => {
      active++;
      max = Math.max(max, active);
      await new Promise((r) => setTimeout(r, 15));
      active--;
      return json(200, { results: (c.body as { query: { n: number } }).query.n });
    });
    const e = createPostHogEngine({ ...base, fetch: s.fetch });
    const qs = Array.from({ length: 8 }, (_, n) => ({ kind: 'TrendsQuery', n }));
    const rs = await e.runMany(qs, ctx);
    expect(rs.map((r) => r.results)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(max).toBe(3);
  });

  it('warns when the requested timezone/week start/now cannot be honoured by the project', () => {
    const p = { id: 42, timezone: 'Europe/Warsaw', week_start_day: 1 };
    expect(contextWarnings({}, p)).toEqual([]);
    expect(contextWarnings({ timezone: 'Europe/Warsaw', weekStart: 1 }, p)).toEqual([]);
    const w = contextWarnings({ timezone: 'UTC', weekStart: 0, now: new Date('2024-01-01T00:00:00Z') }, p);
    expect(w).toHaveLength(3);
    expect(w[0]).toContain('Europe/Warsaw');
    expect(w[1]).toContain('Monday');
    expect(w[2]).toContain('pinned current time');
    // the engine speaks of settings, not of the flags some command spelled them with
    for (const line of w) expect(line).not.toMatch(/--\w/);
  });
});
