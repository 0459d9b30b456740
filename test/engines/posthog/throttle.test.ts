import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPostHogEngine } from '../../../src/engines/posthog/index.js';
import { defaultQueryContext } from '../../../src/engines/types.js';

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A PostHog query endpoint on 127.0.0.1 that throttles the first `throttled` requests like DRF does. */
async function throttlingServer(throttled: number, seconds: number): Promise<{ url: string; times: number[] }> {
  const times: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      times.push(Date.now());
      res.setHeader('content-type', 'application/json');
      if (times.length <= throttled) {
        res.statusCode = 429;
        res.end(JSON.stringify({ type: 'throttled_error', code: 'throttled', detail: `Request was throttled. Expected available in ${seconds} seconds.`, attr: null }));
      } else {
        res.end(JSON.stringify({ results: [{ count: 7 }] }));
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, times };
}

describe('PostHog engine over HTTP: throttling', () => {
  it('waits out "Expected available in N seconds." before retrying', async () => {
    const s = await throttlingServer(1, 1);
    const notes: string[] = [];
    const e = createPostHogEngine({ host: s.url, projectId: '5', personalApiKey: 'phx_throttleTestKey1', onNote: (m) => notes.push(m) });
    const r = await e.run({ kind: 'TrendsQuery', series: [] }, defaultQueryContext());
    expect(r.results).toEqual([{ count: 7 }]);
    expect(s.times).toHaveLength(2);
    expect(s.times[1]! - s.times[0]!).toBeGreaterThanOrEqual(950);
    expect(notes.join('\n')).toContain('waiting 1 s');
    expect(notes.join('\n')).not.toContain('phx_throttleTestKey1');
  });

  it('gives up with PostHog status and detail when throttled past its retries', async () => {
    const s = await throttlingServer(100, 0);
    const e = createPostHogEngine({ host: s.url, projectId: '5', personalApiKey: 'phx_throttleTestKey1', maxThrottleRetries: 2 });
    const err = await e.run({ kind: 'TrendsQuery', series: [] }, defaultQueryContext()).catch((x) => x);
    expect(s.times).toHaveLength(3);
    expect(err.status).toBe(429);
    expect(err.message).toContain('HTTP 429 (throttled_error/throttled)');
    expect(err.message).toContain('Expected available in 0 seconds.');
  });
});
