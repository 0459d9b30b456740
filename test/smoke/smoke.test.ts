import { afterEach, describe, expect, it } from 'vitest';
import { runSmoke } from '../../src/smoke/smoke.js';
import { loadEvents } from '../../src/store/ingest.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { PKEY, TOKEN, runCli, sandbox } from '../sandbox/helpers.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const base = { projectId: '1', projectApiKey: TOKEN, personalApiKey: PKEY, seed: 11, days: 4, accounts: 30, installations: 30, pollMs: 50, quiet: true, log: () => {} };

describe('smoke', () => {
  it('replays seeded fixtures into the sandbox and finds the same funnel and DAU as the local engine', async () => {
    const s = await sandbox();
    open.push(s);
    const r = await runSmoke({ ...base, host: s.url });
    expect(r.replay.failed).toBe(0);
    expect(r.events).toBeGreaterThan(100);
    expect(r.checks.map((c) => [c.name, c.ok, c.differences])).toEqual([
      ['Stored events (one per uuid)', true, []],
      ['Discover funnel (server)', true, []],
      ['Connect DAU', true, []],
    ]);
    expect(r.stored).toEqual({ distinct: r.events, rows: r.events, duplicates: 0 });
    expect(r.checks[1]!.posthog).toMatch(/^[1-9]\d* sessions entered/);
    expect(r.checks[2]!.posthog).toMatch(/^[1-9]\d* active installation-days/);
    expect(r.ok).toBe(true);
  });

  it('reports the differences when the target computes something else', async () => {
    const t = taxonomy();
    // a target that ingests wizard completions as errors: same event counts, different funnel
    const s = await sandbox({
      loader: (store, events) =>
        loadEvents(
          store,
          events.map((e) =>
            e.event === t.discover.events.completed
              ? { ...e, properties: { ...e.properties, [t.discover.properties.status]: 'DISCOVER_STATUS_ERROR', [t.discover.properties.error]: 'injected' } }
              : e,
          ),
        ),
    });
    open.push(s);
    const r = await runSmoke({ ...base, host: s.url });
    expect(r.ok).toBe(false);
    const funnel = r.checks[1]!;
    expect(funnel.ok).toBe(false);
    expect(funnel.differences.join('\n')).toMatch(/tp\.ui\.discover\.completed count: posthog 0 vs local [1-9]/);
    expect(r.checks[2]!.ok).toBe(true);
  });

  it('counts distinct uuids: an event the target stored twice (a re-send not yet merged) fails the smoke instead of stalling it', async () => {
    let doubled: string | undefined;
    const s = await sandbox({
      loader: async (store, events) => {
        await loadEvents(store, events, { vocabulary: false });
        if (doubled) return;
        doubled = events[0]!.uuid;
        await store.conn.run(`INSERT INTO events SELECT * FROM events WHERE uuid = '${doubled}' LIMIT 1`);
      },
    });
    open.push(s);
    const r = await runSmoke({ ...base, host: s.url, ingestTimeoutMs: 20_000 });
    expect(r.ok).toBe(false);
    expect(r.stored).toEqual({ distinct: r.events, rows: r.events + 1, duplicates: 1 });
    const stored = r.checks[0]!;
    expect(stored).toMatchObject({ name: 'Stored events (one per uuid)', ok: false, posthog: `${r.events + 1} stored events, ${r.events} distinct uuids`, local: `${r.events} stored events, ${r.events} distinct uuids` });
    expect(stored.differences).toEqual([`uuid ${doubled} stored 2 times (a re-sent event PostHog counts twice until it merges)`]);
  });

  it('CLI: exits 0 with a summary, keys never printed', async () => {
    const s = await sandbox();
    open.push(s);
    const r = await runCli(['smoke', '--host', s.url, '--project-id', '1', '--seed', '3', '--days', '3', '--format', 'json'], {
      POSTHOG_PROJECT_API_KEY: TOKEN,
      POSTHOG_PERSONAL_API_KEY: PKEY,
    });
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stderr).not.toContain(PKEY);
    expect(r.code).toBe(0);
    // structured checks a CI job can assert on, not prose
    const out = JSON.parse(r.stdout);
    expect(out).toEqual([
      { name: 'Stored events (one per uuid)', ok: true, expected: expect.stringMatching(/^[1-9][\d,]* stored events, [\d,]+ distinct uuids$/), actual: expect.any(String), differences: [] },
      { name: 'Discover funnel (server)', ok: true, expected: expect.stringMatching(/^[1-9]\d* sessions entered/), actual: expect.any(String), differences: [] },
      { name: 'Connect DAU', ok: true, expected: expect.stringMatching(/^[1-9]\d* active installation-days/), actual: expect.any(String), differences: [] },
    ]);
    for (const check of out) expect(check.actual).toBe(check.expected);
    expect(r.stderr).toMatch(/smoke run \S+: \d+ events replayed/);
  });

  it('CLI: a missing setting is a usage error naming it', async () => {
    const r = await runCli(['smoke', '--host', 'http://127.0.0.1:9', '--project-id', '1'], { POSTHOG_PROJECT_API_KEY: '', POSTHOG_PERSONAL_API_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--project-api-key');
    expect(r.stderr).toContain('--personal-api-key');
  });
});
