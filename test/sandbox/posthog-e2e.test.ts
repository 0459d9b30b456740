import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { once } from 'node:events';
import { replay } from '../../src/replay/replay.js';
import { createPostHogEngine } from '../../src/engines/posthog/index.js';
import { localEngineForStore } from '../../src/engines/local/index.js';
import { Store } from '../../src/store/store.js';
import { loadEvents } from '../../src/store/ingest.js';
import { findTrack, buildTrackFunnelQuery } from '../../src/definitions/discover.js';
import { runTrackFunnels } from '../../src/discover/funnel.js';
import { defaultQueryContext, type Engine } from '../../src/engines/types.js';
import { PKEY, TOKEN, discoverEvents, runCli, sandbox, serveSandbox, tmp, writeFixture } from './helpers.js';

type SB = Awaited<ReturnType<typeof sandbox>>;
let sb: SB;
let local: Engine;
let localStore: Store;
const lines = discoverEvents('e2e', 48);
const dateRange = { date_from: '2026-01-01', date_to: '2026-01-10' };
const ctx = defaultQueryContext({ now: new Date('2026-01-20T00:00:00Z') });

beforeAll(async () => {
  const dir = tmp();
  const file = writeFixture(dir, 'discover.jsonl', lines);
  sb = await sandbox();
  const r = await replay({ files: [file], host: sb.url, projectApiKey: TOKEN, batchSize: 40, chunkSize: 80, quiet: true, log: () => {} });
  expect(r.sent).toBe(lines.length);
  localStore = await Store.open(join(dir, 'local.duckdb'));
  await loadEvents(localStore, lines);
  local = localEngineForStore(localStore);
});

afterAll(async () => {
  await sb?.close();
  await localStore?.close();
});

describe('replay -> sandbox -> posthog engine equals the local engine', () => {
  it('gives the same Discover funnel and trends', async () => {
    const funnel = buildTrackFunnelQuery(findTrack('server'), {
      dateRange,
      window: { funnelWindowInterval: 14, funnelWindowIntervalUnit: 'day' },
      order: 'ordered',
      deployment: 'all',
    });
    const sessions = { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: lines[0]!.event, math: 'dau' }], interval: 'day', dateRange };
    const posthog = createPostHogEngine({ host: sb.url, projectId: '1', personalApiKey: PKEY, pollMs: 10 });
    const [pf, pt] = await posthog.runMany([funnel as never, sessions], ctx);
    const [lf, lt] = await local.runMany([funnel as never, sessions], ctx);
    expect(pf!.results).toEqual(lf!.results);
    expect(pt!.results).toEqual(lt!.results);
    // not trivially equal: 40 of the 48 sessions select the server resource, one in six completes
    const steps = (pf!.results as { count: number }[][]).flat();
    expect(steps.map((s) => s.count)).toEqual([40, 40, 32, 24, 16, 8]);
    expect((pt!.results as { count: number }[])[0]!.count).toBe(48);
  });

  it('funnel --breakdown gives the same sessions on a server that, like PostHog, ignores `breakdowns` on funnels', async () => {
    const opts = {
      dateRange,
      window: { funnelWindowInterval: 14, funnelWindowIntervalUnit: 'day' as const },
      order: 'ordered' as const,
      deployment: 'all' as const,
      breakdown: 'tp.discover.deploy.method',
    };
    const posthog = createPostHogEngine({ host: sb.url, projectId: '1', personalApiKey: PKEY, pollMs: 10 });
    const track = findTrack('server');
    const p = (await runTrackFunnels(posthog, [track], opts, ctx)).reports[0]!;
    const l = (await runTrackFunnels(local, [track], opts, ctx)).reports[0]!;
    expect(p.sessions).toBe(40);
    expect(p).toEqual(l);
    expect(p.breakdowns!.map((b) => b.value)).toEqual(['None']);
    // what was sent names the extra property in `breakdown`, the list PostHog's funnels read
    const bf = buildTrackFunnelQuery(track, opts).breakdownFilter as Record<string, unknown>;
    expect(bf.breakdowns).toBeUndefined();
    expect(bf.breakdown).toEqual(['tp.discover.resource.name', 'tp.discover.deploy.method']);
  });

  it('the CLI with --engine posthog reports a wrong personal API key without echoing it', async () => {
    const wrong = 'phx_WRONGpersonalKeyWRONG';
    const r = await runCli(['funnel', '--engine', 'posthog', '--host', sb.url, '--project-id', '1', '--personal-api-key', wrong, '--resource', 'server', '--from', '2026-01-01', '--to', '2026-01-10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('401');
    expect(r.stderr + r.stdout).not.toContain('WRONGpersonal');
  });

  it('the CLI with --engine posthog warns when --timezone differs from the project', async () => {
    const r = await runCli(['funnel', '--engine', 'posthog', '--resource', 'server', '--from', '2026-01-01', '--to', '2026-01-10', '--timezone', 'Europe/Warsaw', '--format', 'json'], {
      POSTHOG_HOST: sb.url,
      POSTHOG_PROJECT_ID: '1',
      POSTHOG_PERSONAL_API_KEY: PKEY,
    });
    expect(r.stderr).toContain("differs from the PostHog project's timezone UTC");
    expect(r.stderr).not.toContain(PKEY);
    expect(r.code).toBe(0);
  });
});

describe('persons built from replayed person_properties', () => {
  it('match the persons the local store builds from the same fixture', async () => {
    const sql = `SELECT pd.distinct_id, json_extract_string(p.properties, '$.email') FROM person_distinct_ids pd JOIN persons p ON p.id = pd.person_id ORDER BY 1`;
    const want = (await localStore.conn.runAndReadAll(sql)).getRows();
    await sb.close();
    const s = await Store.open(sb.storePath, { readOnly: true });
    const got = (await s.conn.runAndReadAll(sql)).getRows();
    await s.close();
    expect(want.length).toBe(48);
    expect(want.every((r) => typeof r[1] === 'string' && r[1].endsWith('@example.com'))).toBe(true);
    expect(got).toEqual(want);
  });
});

describe('sandbox serve (CLI)', () => {
  it('prints its URL, stores captures, and on SIGTERM persists and exits 0', async () => {
    const dir = tmp();
    const store = join(dir, 'serve.duckdb');
    const { child, url, stderr } = await serveSandbox(store);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const batch = discoverEvents('serve', 5);
    const r = await fetch(`${url}/batch/`, { method: 'POST', body: JSON.stringify({ api_key: TOKEN, batch }) });
    expect(r.status).toBe(200);
    child.kill('SIGTERM');
    const [code] = await once(child, 'close');
    expect(code).toBe(0);
    expect(stderr()).not.toContain(TOKEN);
    expect(stderr()).not.toContain(PKEY);
    const s = await Store.open(store, { readOnly: true });
    const n = await s.conn.runAndReadAll('SELECT count(*) FROM events');
    expect(Number(n.getRows()[0]![0])).toBe(batch.length);
    await s.close();
  });
});
