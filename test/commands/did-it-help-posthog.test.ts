/** compare, funnel --interval, dropoffs and correlation through the sandbox's PostHog query API (the store: test/commands/known-sessions.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, PKEY, runCli } from '../sandbox/helpers.js';
import { join } from 'node:path';
import { loadedStore, NOW } from './known-sessions.js';
import { run } from './cli.js';

let dir = '';
let store = '';
beforeAll(async () => {
  ({ dir, store } = await loadedStore('dm-ph-'));
});

describe('did it help? on PostHog (the sandbox)', () => {
  // slow only on a loaded machine: every number crosses the query API, one HTTP call per query
  const SLOW = 240_000;
  let sb: Awaited<ReturnType<typeof sandbox>> | undefined;
  let localDigest = '';
  let printed: { query: { kind: string } }[] = [];
  const digestArgs = ['report', '--from', '2026-03-09', '--to', '2026-03-15'];
  // PostHog's rate limit is tested in test/engines/posthog/requests.test.ts. Here it is off, in the sandbox
  // and in the CLI's request ledger (one per call): the digest alone sends about 230 requests, so
  // with the calls before it a shared minute's budget would make the test wait a minute for nothing
  let calls = 0;
  const cli = (args: string[]) =>
    runCli(['--store', join(dir, 'empty.duckdb'), ...args, '--format', 'json', ...NOW, '--engine', 'posthog', '--host', sb!.url, '--project-id', '1', '--personal-api-key', PKEY], {
      XDG_STATE_HOME: join(dir, `state-${calls++}`),
    });

  beforeAll(async () => {
    // the local answer first: the sandbox then holds the store open
    const r = await run(['--store', store, ...digestArgs, '--format', 'json', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    localDigest = r.stdout;
    const p = await run(['--store', store, ...digestArgs, '--print-query', ...NOW]);
    expect(p.code, p.stderr).toBe(0);
    printed = JSON.parse(p.stdout);
    sb = await sandbox({ storePath: store, queryRateLimits: null });
  }, SLOW);
  afterAll(async () => sb?.close());

  it("gives the known answer through PostHog's query API, release split included", async () => {
    // the CLI's own store is empty: every number below came from PostHog
    const [compare, trend, drops, corr] = await Promise.all([
      cli(['compare', '--resource', 'server', '--release', '16.2.0', '--from', '2026-03-02', '--to', '2026-03-15']),
      cli(['funnel', '--resource', 'server', '--interval', 'week', '--week-start', 'monday', '--from', '2026-03-02', '--to', '2026-03-15']),
      cli(['dropoffs', '--resource', 'server', '--step', 'resourceSelection', '--from', '2026-03-09', '--to', '2026-03-15']),
      cli(['correlation', '--resource', 'server', '--from', '2026-03-02', '--to', '2026-03-15']),
    ]);
    for (const r of [compare, trend, drops, corr]) expect(r.code, r.stderr).toBe(0);
    const p = JSON.parse(compare.stdout);
    expect(p.engine).toBe('posthog');
    expect(p.release).toMatchObject({ day: '2026-03-09' });
    expect(p.tracks[0].before).toMatchObject({ sessions: 40, completed: 30, medianSeconds: 590 });
    expect(p.tracks[0].after).toMatchObject({ sessions: 40, completed: 14, medianSeconds: 430 });
    expect(p.tracks[0].verdict).toBe('regressed');
    expect(JSON.parse(trend.stdout).trend.map((t: { sessions: number; completed: number }) => [t.sessions, t.completed])).toEqual([[40, 30], [40, 14]]);
    expect(JSON.parse(drops.stdout).summary).toMatchObject({ withError: 26, cameBack: 13, completedNext: 6 });
    expect(JSON.parse(corr.stdout).properties.map((x: { value: string; successCount: number }) => [x.value, x.successCount])).toEqual([['16.1.3', 30], ['16.2.0', 14]]);
  }, SLOW);

  it('gives the same digest as the local engine', async () => {
    const digest = await cli(digestArgs);
    expect(digest.code, digest.stderr).toBe(0);
    const d = JSON.parse(digest.stdout);
    expect(d.engine).toBe('posthog');
    expect(d.discover.overall.previous).toMatchObject({ sessions: 40, completed: 30 });
    expect({ ...d, engine: 'local' }).toEqual(JSON.parse(localDigest));
    // --print-query shows every query the PostHog run sent
    const sent = Number(/(\d+) queries/.exec(digest.stderr)?.[1]);
    expect(printed.length).toBeGreaterThan(50);
    expect(sent).toBe(printed.length);
    expect(printed.every((b) => typeof b.query.kind === 'string')).toBe(true);
  }, SLOW);
});

