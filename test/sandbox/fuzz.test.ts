/**
 * Fuzzing the sandbox like a hostile client (seeded, bounded): deep nesting, odd timestamps,
 * invalid uuids, gzip bombs, broken bodies, mixed good and bad batches, hostile queries. The
 * server (a real `sandbox serve` process) must stay up, answer every request, and store exactly
 * the events it acknowledged with a 200 — nothing dropped after a 200, nothing stored after a 4xx.
 */
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PKEY, TOKEN, serveSandbox, tmp, uuidFor } from './helpers.js';

/** Mulberry32, so a failure replays with the same requests. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A placeholder replaced by `depth` nested arrays after JSON.stringify (which would overflow on them). */
const nest = (depth: number): string => `__DEEP_${depth}__`;
const expand = (json: string): string => json.replace(/"__DEEP_(\d+)__"/g, (_m, d: string) => '['.repeat(Number(d)) + ']'.repeat(Number(d)));
const ODD_TIMESTAMPS: unknown[] = [
  'Tue, 03 Nov 2026 10:00:00 +0000',
  '2026/11/03 10:00:00 +01:00',
  '2026-13-45T99:99:99Z',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '',
  'now',
  -1,
  1e20,
  { at: 1 },
  [],
  true,
];

interface Req {
  path: string;
  body: Buffer | string;
  headers?: Record<string, string>;
  /** uuids this request carries (stored only if it is acknowledged) */
  uuids: string[];
  /** events it carries (an empty uuid gets one assigned, as PostHog does) */
  events: number;
}

let bomb: Buffer | undefined;
/** 21 MB of zeros gzipped to ~20 KB: over the 20 MB inflated limit. */
const gzipBomb = (): Buffer => (bomb ??= gzipSync(Buffer.alloc(21 * 1024 * 1024)));

function fuzzRequests(seed: number, n: number): Req[] {
  const r = rng(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let k = 0;
  const good = () => {
    const uuid = uuidFor(`fuzz${seed}`, k++);
    return { uuid, event: pick(['fuzz.a', 'fuzz.b', 'Ωmega 事件']), distinct_id: `u${Math.floor(r() * 20)}`, timestamp: new Date(Date.UTC(2026, 0, 1 + Math.floor(r() * 20))).toISOString(), properties: { n: k, s: 'x'.repeat(Math.floor(r() * 50)) } };
  };
  const out: Req[] = [];
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(r() * 10);
    const events: Record<string, unknown>[] = Array.from({ length: 1 + Math.floor(r() * 5) }, good);
    const bad = events[Math.floor(r() * events.length)]!;
    switch (kind) {
      case 0: // nested too deep (or just deep enough)
        bad.properties = { deep: nest(pick([100, 126, 127, 200, 2800, 5000])) };
        break;
      case 1:
        bad.timestamp = pick(ODD_TIMESTAMPS);
        break;
      case 2:
        bad.uuid = pick(['not-a-uuid', '', 12, '00000000-0000-0000-0000-00000000000g']);
        break;
      case 3:
        delete bad.distinct_id;
        break;
      case 4:
        bad.event = pick(['', null, 7, { name: 'x' }]);
        break;
      default:
        break; // a good batch
    }
    const body = expand(JSON.stringify({ api_key: TOKEN, batch: events }));
    const uuids = events.map((e) => e.uuid).filter((u): u is string => typeof u === 'string' && u !== '');
    const n = events.length;
    if (kind === 5) out.push({ path: '/batch/', body: gzipSync(body), headers: { 'Content-Encoding': 'gzip' }, uuids, events: n });
    else if (kind === 6) out.push({ path: '/batch/', body: gzipBomb(), headers: { 'Content-Encoding': 'gzip' }, uuids: [], events: 0 });
    else if (kind === 7) out.push({ path: '/batch/', body: body.slice(0, Math.floor(body.length * r())), uuids: [], events: 0 }); // cut off
    else out.push({ path: pick(['/batch/', '/e/', '/i/v0/e/']), body, uuids, events: n });
  }
  return out;
}

describe('sandbox under fuzzing', () => {
  it('stays up, answers every request, and stores exactly what it acknowledged', async () => {
    const { child, url, stderr } = await serveSandbox(join(tmp(), 'fuzz.duckdb'));
    try {
      const acknowledged = new Set<string>();
      let acknowledgedEvents = 0;
      const statuses = new Map<number, number>();
      for (const q of fuzzRequests(19, 90)) {
        const res = await fetch(url + q.path, { method: 'POST', body: q.body, headers: q.headers });
        await res.arrayBuffer();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect([200, 400, 401, 413]).toContain(res.status);
        if (res.status === 200) {
          acknowledgedEvents += q.events;
          for (const u of q.uuids) acknowledged.add(u.toLowerCase());
        }
      }
      // hostile queries: nested 100,000 deep, a broken regex, garbage
      const api = (body: string) => fetch(`${url}/api/projects/1/query/`, { method: 'POST', headers: { Authorization: `Bearer ${PKEY}` }, body });
      for (const body of ['{"query":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}', JSON.stringify({ query: { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: null, math: 'total' }], properties: [{ key: 'x', type: 'event', operator: 'regex', value: '[' }] } }), '{"query": 5', 'null']) {
        expect((await api(body)).status).toBe(400);
      }
      expect(statuses.get(200)).toBeGreaterThan(15);
      expect(statuses.get(400)).toBeGreaterThan(15);
      expect(statuses.get(413)).toBeGreaterThan(0);
      const stats = (await (await fetch(`${url}/_sandbox/stats`)).json()) as { droppedEvents: number; events: number };
      expect(stats.droppedEvents).toBe(0);
      const stored = ((await (await fetch(`${url}/_sandbox/uuids`)).json()) as { uuids: string[] }).uuids;
      expect(stored).toHaveLength(acknowledgedEvents);
      expect(stats.events).toBe(acknowledgedEvents);
      for (const u of acknowledged) expect(stored).toContain(u);
      expect(child.exitCode).toBeNull();
      expect(stderr()).not.toMatch(/internal error|Unhandled|RangeError/);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'close');
    }
  });
});
