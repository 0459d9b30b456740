import { describe, expect, it } from 'vitest';
import { TrackingPostHog, toMessage } from '../../src/replay/replay.js';
import { plainEvents } from '../sandbox/helpers.js';

/** The body posthog-node would POST for these events, via capture() or via the replay's fast path. */
async function wire(fast: boolean): Promise<{ url: string; body: Record<string, unknown> }[]> {
  const sent: { url: string; body: Record<string, unknown> }[] = [];
  const client = new TrackingPostHog('phc_wiretest1234', {
    host: 'http://127.0.0.1:9',
    flushAt: 1000,
    maxQueueSize: 1000,
    flushInterval: 0,
    disableCompression: true,
    historicalMigration: true,
    fetch: async (url: string, init: { body?: unknown }) => {
      sent.push({ url, body: JSON.parse(String(init.body)) });
      return new Response('{"status":"Ok"}', { status: 200 });
    },
  } as never);
  client.setBatchSize(2);
  for (const ev of plainEvents('wire', 5)) {
    const m = toMessage({ ...ev, person_properties: { plan: 'pro' } }, 'dm.synthetic');
    if (fast) client.captureReplayed(m);
    else client.capture(m);
  }
  await client.flush();
  expect([...client.acked].sort()).toEqual(plainEvents('wire', 5).map((e) => e.uuid).sort());
  await client.shutdown(100);
  return sent;
}

describe('replay fast path', () => {
  it('sends exactly what capture() sends, in batches of the set size, with acknowledgements tracked', async () => {
    const slow = await wire(false);
    const fast = await wire(true);
    expect(fast.map((r) => r.body.batch)).toEqual(slow.map((r) => r.body.batch));
    expect(fast.map((r) => (r.body.batch as unknown[]).length)).toEqual([2, 2, 1]);
    const first = (fast[0]!.body.batch as Record<string, any>[])[0]!;
    expect(fast[0]!.url).toBe('http://127.0.0.1:9/batch/');
    expect(fast[0]!.body.historical_migration).toBe(true);
    expect(first.uuid).toBe(plainEvents('wire', 1)[0]!.uuid);
    expect(first.timestamp).toBe(plainEvents('wire', 1)[0]!.timestamp);
    expect(first.properties).toMatchObject({ 'dm.synthetic': true, $ignore_sent_at: true, $set: { plan: 'pro' }, $lib: 'posthog-node', $geoip_disable: true });
  });
});
