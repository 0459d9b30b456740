import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createPostHogEngine, type FetchLike } from '../../../src/engines/posthog/index.js';
import { RequestBudget, ledgerPathFor } from '../../../src/engines/posthog/budget.js';
import { HttpError, QueryValidationError } from '../../../src/errors.js';
import { defaultQueryContext } from '../../../src/engines/types.js';
import { tmp } from '../../sandbox/helpers.js';

const KEY = 'phx_budgetTestKey0000001';
const ctx = defaultQueryContext();
const trends = { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: 'x', math: 'total' }] };
const base = { host: 'http://127.0.0.1:9/', projectId: '42', personalApiKey: KEY, pollMs: 5, maxPollMs: 10 };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

type Call = { method: string; url: string; body: Record<string, unknown> | undefined };
function stub(handler: (c: Call, n: number) => Response | Promise<Response>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const c: Call = { url, method: init.method ?? 'GET', body: init.body ? JSON.parse(String(init.body)) : undefined };
      calls.push(c);
      return handler(c, calls.length);
    },
  };
}

/** A fake clock: sleeping advances it. */
function clock(start = 1_800_000_000_000) {
  let t = start;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
}

describe('request budget (240/min, 1,200/h per personal API key)', () => {
  it('paces requests past the per-minute limit with a progress line instead of failing', async () => {
    const c = clock();
    const lines: string[] = [];
    const b = new RequestBudget({ perMinute: 3, perHour: 100, now: c.now, sleep: c.sleep, onWait: (m) => lines.push(m) });
    b.plan(5);
    for (let i = 0; i < 5; i++) await b.acquire('query');
    expect(b.counts).toMatchObject({ total: 5, queries: 5 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/pacing for PostHog's rate limit \(3 requests\/minute per personal API key\): next request in 61 s \(request 4 of about 5\)/);
    expect(b.counts.pacedMs).toBe(61_000);
  });

  it('keeps a ledger per host and project, so a second run knows the hour the first one spent', async () => {
    const dir = tmp('dm-budget-');
    const path = ledgerPathFor('https://us.posthog.com', '42', { XDG_STATE_HOME: dir });
    expect(path.startsWith(join(dir, 'discover-metrics'))).toBe(true);
    const c = clock();
    const first = new RequestBudget({ perHour: 10, ledgerPath: path, now: c.now, sleep: c.sleep });
    for (let i = 0; i < 8; i++) await first.acquire('query');
    expect(readFileSync(path, 'utf8')).not.toContain('42');
    c.advance(10 * 60_000);
    const second = new RequestBudget({ perHour: 10, ledgerPath: path, now: c.now, sleep: c.sleep });
    expect(second.used().hour).toBe(8);
    // 5 more do not fit the hour: the plan says how long the run has to pace itself
    const plan = second.plan(5);
    expect(plan).toMatchObject({ requests: 5, usedLastHour: 8, remaining: 2 });
    expect(plan.paceSeconds).toBe(50 * 60);
    c.advance(51 * 60_000);
    expect(new RequestBudget({ perHour: 10, ledgerPath: path, now: c.now }).used().hour).toBe(0);
  });
});

describe('PostHog client: the smaller gaps', () => {
  it('a 400 on a poll is a query error carrying PostHog\'s message', async () => {
    const s = stub((c) =>
      c.method === 'POST'
        ? json(202, { query_status: { id: 'q1', complete: false } })
        : json(400, { query_status: { id: 'q1', complete: true, error: true, error_message: 'Unknown property person.properties.nope' } }),
    );
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(QueryValidationError);
    expect(err.message).toBe('PostHog query q1 failed: Unknown property person.properties.nope');
  });

  it('a 404 on a poll says PostHog\'s query status expired', async () => {
    const s = stub((c) =>
      c.method === 'POST' ? json(202, { query_status: { id: 'q2', complete: false } }) : json(404, { type: 'invalid_request', code: 'not_found', detail: 'Not found.' }),
    );
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toMatch(/PostHog no longer knows query q2: a query's status expires 600 s after it started/);
  });

  it('waits out repeated 429s for too many concurrent queries (no time stated) instead of failing', async () => {
    const waits: number[] = [];
    const s = stub((_c, n) => (n <= 8 ? json(429, { type: 'throttled_error', code: 'throttled', detail: 'Too many concurrent queries.' }) : json(200, { results: ['ok'] })));
    const e = createPostHogEngine({ ...base, fetch: s.fetch, sleep: async (ms) => void waits.push(ms) });
    expect((await e.run(trends, ctx)).results).toEqual(['ok']);
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(e.requests()).toMatchObject({ total: 9, throttled: 8 });
  });

  it('names every scope the reports need when the key lacks one', async () => {
    const s = stub(() => json(403, { type: 'authentication_error', code: 'permission_denied', detail: 'API key missing required scope' }));
    const err = await createPostHogEngine({ ...base, fetch: s.fetch }).run(trends, ctx).catch((e) => e);
    expect(err.message).toContain('query:read, project:read');
    expect(err.message).not.toContain(KEY);
  });

  it('after a timed-out POST asks PostHog for its client_query_id instead of starting the query again', async () => {
    const s = stub((c, n) => {
      if (n === 1) throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
      const id = (s.calls[0]!.body as { client_query_id: string }).client_query_id;
      if (c.method === 'GET' && c.url.endsWith(`/query/${id}/`)) return json(200, { query_status: { id, complete: true, results: { results: ['from the first POST'] } } });
      return json(200, { results: ['second query'] });
    });
    const e = createPostHogEngine({ ...base, fetch: s.fetch, sleep: async () => {} });
    expect((await e.run(trends, ctx)).results).toEqual(['from the first POST']);
    expect(s.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('fails fast when nothing listens on the host (connection refused)', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const t0 = Date.now();
    const e = createPostHogEngine({ host: `http://127.0.0.1:${port}`, projectId: '1', personalApiKey: KEY });
    const err = await e.run(trends, ctx).catch((x) => x);
    expect(err).toBeInstanceOf(HttpError);
    expect(err.message).toMatch(/ECONNREFUSED|refused/);
    expect(err.message).toContain('is it up?');
    expect(e.requests().total).toBe(3);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
