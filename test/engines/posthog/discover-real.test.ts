/**
 * Issue 12 through the PostHog path: the real-emission stream replayed into the sandbox, every
 * Discover report run with the posthog engine (valid query objects over HTTP) gives the same
 * numbers as the local engine; doctor reads PostHog's event and property definitions APIs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replay } from '../../../src/replay/replay.js';
import { createPostHogEngine, type PostHogEngine } from '../../../src/engines/posthog/index.js';
import { postHogDefinitions } from '../../../src/engines/posthog/definitions.js';
import { storeDefinitions } from '../../../src/store/definitions.js';
import { loadTracks } from '../../../src/definitions/discover.js';
import { runTrackFunnels } from '../../../src/discover/funnel.js';
import { failures } from '../../../src/discover/failures.js';
import { demand } from '../../../src/discover/demand.js';
import { timeToFirst } from '../../../src/discover/ttfr.js';
import { doctor } from '../../../src/discover/doctor.js';
import type { Engine } from '../../../src/engines/types.js';
import type { Store } from '../../../src/store/store.js';
import { PKEY, TOKEN, runCli, sandbox, tmp, writeFixture } from '../../sandbox/helpers.js';
import { RANGE, RANGE_ARGS, ctx, localEngineFor, realStream } from '../../discover/streams.js';

type SB = Awaited<ReturnType<typeof sandbox>>;
let sb: SB;
let posthog: PostHogEngine;
let local: Engine;
let store: Store;
const lines = realStream().lines;
const window = { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' } as const;

beforeAll(async () => {
  const file = writeFixture(tmp(), 'real.jsonl', lines as never);
  sb = await sandbox();
  const r = await replay({ files: [file], host: sb.url, projectApiKey: TOKEN, batchSize: 50, chunkSize: 100, quiet: true, log: () => {} });
  expect(r.sent).toBe(lines.length);
  posthog = createPostHogEngine({ host: sb.url, projectId: '1', personalApiKey: PKEY, pollMs: 10 });
  ({ engine: local, store } = await localEngineFor(lines));
});

afterAll(async () => {
  await sb?.close();
  await store?.close();
});

describe('the posthog engine gives the local numbers on the real stream', () => {
  it('funnels (optional steps, deployment filter), failures, demand and time to first resource', async () => {
    for (const deployment of ['all', 'cloud'] as const) {
      const o = { dateRange: RANGE, window, order: 'ordered' as const, deployment };
      const [p, l] = await Promise.all([runTrackFunnels(posthog, loadTracks(), o, ctx), runTrackFunnels(local, loadTracks(), o, ctx)]);
      expect(p.reports).toEqual(l.reports);
    }
    const server = (await runTrackFunnels(posthog, loadTracks().filter((t) => t.slug === 'server'), { dateRange: RANGE, window, order: 'ordered', deployment: 'all' }, ctx)).reports[0]!;
    expect([server.sessions, server.completed]).toEqual([4, 3]);
    const fo = { dateRange: RANGE, deployment: 'all' as const, top: 5, all: true };
    const [pf, lf] = await Promise.all([failures(posthog, loadTracks(), fo, ctx), failures(local, loadTracks(), fo, ctx)]);
    expect({ ...pf, queries: [] }).toEqual({ ...lf, queries: [] });
    expect(pf.steps.find((x) => x.resource === 'postgres' && x.key === 'databaseRegister')).toMatchObject({ aborted: 0, wentBack: 1 });
    const d = { dateRange: RANGE, deployment: 'all' as const, window };
    const [pd, ld] = await Promise.all([demand(posthog, d, ctx), demand(local, d, ctx)]);
    expect(pd).toEqual(ld);
    expect(pd.startedWithoutSelection).toBe(2);
    const t = { dateRange: RANGE, window: { funnelWindowInterval: 90, funnelWindowIntervalUnit: 'day' as const }, signupEvent: null };
    const [pt, lt] = await Promise.all([timeToFirst(posthog, t, ctx), timeToFirst(local, t, ctx)]);
    expect(pt).toEqual(lt);
  });

  it("doctor reads the project's event and property definitions (paginated) like the local store", async () => {
    const p = await postHogDefinitions(posthog.client);
    const l = await storeDefinitions(store);
    expect(p.events.map((e) => [e.name, e.volume])).toEqual(l.events.map((e) => [e.name, e.volume]));
    expect(p.properties).toEqual(expect.arrayContaining(l.properties)); // capture may add its own keys
    const found = (r: ReturnType<typeof doctor>) => r.checks.map((c) => [c.name, c.found, c.nearMisses]);
    expect(found(doctor(p, 'posthog'))).toEqual(found(doctor(l, 'local')));
    const page = await fetch(`${sb.url}/api/projects/1/property_definitions/?type=event&limit=2`, { headers: { Authorization: `Bearer ${PKEY}` } });
    const body = (await page.json()) as { count: number; next: string; results: unknown[] };
    expect(body.results).toHaveLength(2);
    expect(body.count).toBeGreaterThan(2);
    expect(body.next).toContain('offset=2');
    const bad = await fetch(`${sb.url}/api/projects/1/property_definitions/?type=group`, { headers: { Authorization: `Bearer ${PKEY}` } });
    expect(bad.status).toBe(400);
  });

  it('the demand and doctor commands run with --engine posthog', async () => {
    const env = { POSTHOG_HOST: sb.url, POSTHOG_PROJECT_ID: '1', POSTHOG_PERSONAL_API_KEY: PKEY };
    const dm = await runCli(['demand', '--engine', 'posthog', '--format', 'json', '--from', RANGE_ARGS[1]!, '--to', RANGE_ARGS[3]!], env);
    expect(dm.code, dm.stderr).toBe(0);
    const j = JSON.parse(dm.stdout);
    expect(j.resources.find((r: any) => r.resource === 'DISCOVER_RESOURCE_APPLICATION_HTTP')).toMatchObject({ kind: 'dialog', selections: 2 });
    expect(j.startedWithoutSelection).toBe(2);
    const dr = await runCli(['doctor', '--engine', 'posthog', '--format', 'json'], env);
    expect(dr.code, dr.stderr).toBe(0);
    expect(JSON.parse(dr.stdout).checks.find((c: any) => c.name === 'tp.is_cloud')).toMatchObject({ found: true, documented: true });
    expect(dr.stdout + dr.stderr).not.toContain(PKEY);
  });
});
