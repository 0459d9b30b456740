/**
 * A client that goes away while its request waits (--latency) must not hold the sandbox up: its
 * 'close' fired before the body was read, and the request used to wait for ever, so closing the
 * sandbox (SIGTERM, a test's afterAll) took its 30 s grace every time a replay was killed.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sandbox, TOKEN } from './helpers.js';

describe('sandbox close after a client died mid-request', () => {
  it('closes at once, not after the 30 s grace for requests in flight', async () => {
    const s = await sandbox({ latencyMs: 300 });
    const { port } = new URL(s.url);
    const body = JSON.stringify({ api_key: TOKEN, batch: [] });
    await new Promise<void>((resolve, reject) => {
      const sock = connect(Number(port), '127.0.0.1', () => {
        sock.write(`POST /batch/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        // gone while the sandbox still sleeps its latency, before it reads the body
        setTimeout(() => (sock.destroy(), resolve()), 50);
      });
      sock.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 400)); // the latency is over: the request reads its body
    const closed = s.close().then(() => 'closed' as const);
    const hung = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref());
    expect(await Promise.race([closed, hung])).toBe('closed');
  }, 40_000);
});
