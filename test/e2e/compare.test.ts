/**
 * `compare` end to end on a hand-made store whose answer is known: the server track converts
 * 30 of 40 sessions in the week before 16.2 shipped and 14 of 40 in the week after. Expected
 * values are computed here by hand formulas, independently of src/stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { json, run, tmpDir } from './cli.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { sandbox, PKEY, writeFixture, uuidFor, type FixtureLine } from '../sandbox/helpers.js';

const dir = tmpDir('dm-compare-');
const store = join(dir, 'store.duckdb');
const NOW = ['--now', '2026-04-01T00:00:00Z'];
const SPANS = ['--before', '2026-03-02..2026-03-08', '--after', '2026-03-09..2026-03-15'];

/** Time to complete (seconds) of completing session u: distinct values, median known. */
const duration = (u: number) => 300 + 20 * u;

function sessions(): FixtureLine[] {
  const t = taxonomy();
  const ev = t.discover.events;
  const p = t.discover.properties;
  const steps = [ev.started, ev.resourceSelection, ev.deployService, ev.principalsConfigure, ev.testConnection, ev.completed];
  const out: FixtureLine[] = [];
  let i = 0;
  for (const [week, day0, completing, version] of [
    ['before', Date.parse('2026-03-02T09:00:00Z'), 30, '16.1.3'],
    ['after', Date.parse('2026-03-09T09:00:00Z'), 14, '16.2.0'],
  ] as const) {
    for (let u = 0; u < 40; u++) {
      const start = day0 + (u % 7) * 86_400_000 + u * 60_000;
      // the sessions that do not complete stop after resource selection (deploy service fails)
      const reach = u < completing ? steps.length : 2;
      const gap = (duration(u) * 1000) / (steps.length - 1);
      for (let s = 0; s < reach; s++) {
        out.push({
          uuid: uuidFor('compare', i++),
          event: steps[s]!,
          distinct_id: `${week}-acct-${u}`,
          timestamp: new Date(start + Math.round(s * gap)).toISOString(),
          properties: {
            [p.sessionId]: `${week}-session-${u}`,
            [p.resource]: 'DISCOVER_RESOURCE_SERVER',
            [p.status]: 'DISCOVER_STATUS_SUCCESS',
            [t.cluster.properties.teleportVersion]: version,
            [t.cluster.properties.accountId]: `${week}-acct-${u}`,
          },
        });
      }
      if (week === 'after' && u >= completing) {
        // the drop-offs of the second week fail at Deploy service (an ERROR does not advance the
        // funnel); the even ones come back two hours later for PostgreSQL, every other one completes it
        const base = { [p.sessionId]: `${week}-session-${u}`, [p.resource]: 'DISCOVER_RESOURCE_SERVER', [t.cluster.properties.accountId]: `${week}-acct-${u}` };
        out.push({ uuid: uuidFor('compare', i++), event: ev.deployService, distinct_id: `${week}-acct-${u}`, timestamp: new Date(start + 60_000).toISOString(), properties: { ...base, [p.status]: 'DISCOVER_STATUS_ERROR', [p.error]: `boom ${u % 2 ? 'odd' : 'even'}` } });
        if (u % 2 === 0) {
          const pg = { [p.sessionId]: `retry-${u}`, [p.resource]: 'DISCOVER_RESOURCE_DATABASE_POSTGRES_SELF_HOSTED', [t.cluster.properties.accountId]: `${week}-acct-${u}`, [p.status]: 'DISCOVER_STATUS_SUCCESS' };
          const later = start + 2 * 3_600_000;
          const retry = u % 4 === 0 ? [ev.started, ev.resourceSelection, ev.completed] : [ev.started, ev.resourceSelection];
          retry.forEach((e, k) => out.push({ uuid: uuidFor('compare', i++), event: e, distinct_id: `${week}-acct-${u}`, timestamp: new Date(later + k * 60_000).toISOString(), properties: pg }));
        }
      }
    }
  }
  return out;
}

/** Reference normal tail via erfc (Abramowitz & Stegun 7.1.26 on a continued product, |ε| < 1.5e-7). */
function twoSidedP(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return y * Math.exp(-x * x);
}

beforeAll(() => {
  const file = writeFixture(dir, 'events.jsonl', sessions());
  const l = run(['--store', store, 'load', file]);
  expect(l.code, l.stderr).toBe(0);
});

describe('compare', () => {
  it('reports counts, the difference, its interval, the p-value and the verdict', () => {
    const r = run(['--store', store, 'compare', '--resource', 'server', ...SPANS, '--format', 'json', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out.tracks).toHaveLength(1);
    const t = out.tracks[0];
    expect(t.slug).toBe('server');
    expect(t.before).toMatchObject({ sessions: 40, completed: 30, rate: 0.75 });
    expect(t.after).toMatchObject({ sessions: 40, completed: 14, rate: 0.35 });
    expect(t.difference).toBeCloseTo(-0.4, 12);
    // pooled 44/80; se = sqrt(0.55 · 0.45 · (1/40 + 1/40)); z = 0.4 / se = 3.5957
    const z = 0.4 / Math.sqrt(0.55 * 0.45 * (2 / 40));
    expect(t.pValue).toBeCloseTo(twoSidedP(z), 6);
    expect(t.pValue).toBeLessThan(0.001);
    expect(t.significant).toBe(true);
    expect(t.verdict).toBe('regressed');
    expect(t.ci[0]).toBeLessThan(-0.4);
    expect(t.ci[1]).toBeLessThan(0);
    expect(t.ci[1]).toBeGreaterThan(-0.4);
    // medians of 300 + 20u over the completing sessions: u = 0..29 → 590 s; u = 0..13 → 430 s
    expect(t.before.medianSeconds).toBe(590);
    expect(t.after.medianSeconds).toBe(430);
    // 30 samples: ranks 10 and 21 (values 480 and 700 s) lie inside the interval's bin edges
    expect(t.before.medianCi[0]).toBeLessThanOrEqual(480);
    expect(t.before.medianCi[1]).toBeGreaterThanOrEqual(700);
    expect(t.before.medianCi[1] - t.before.medianCi[0]).toBeLessThan(700 - 480 + 2 * ((880 - 300) / 90) + 1);
    // the regression is located at Deploy service: 40/40 → 30/40 before, 14/40 after
    const deploy = t.steps.find((s: { key: string }) => s.key === 'deployService');
    expect(deploy.before).toMatchObject({ entered: 40, reached: 30 });
    expect(deploy.after).toMatchObject({ entered: 40, reached: 14 });
    expect(deploy.verdict).toBe('regressed');
    expect(t.steps.find((s: { key: string }) => s.key === 'testConnection').verdict).toBe('no detectable change');
    expect(t.summary).toMatch(/^Regressed: completion 75\.0% → 35\.0% \(−40\.0 points/);
  });

  it('--fail-on-regression exits 1 on a regression and 0 otherwise', () => {
    const bad = run(['--store', store, 'compare', '--resource', 'server', ...SPANS, '--fail-on-regression', ...NOW]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('regressed');
    // the other way round the same change is an improvement
    const good = run([
      '--store', store, 'compare', '--resource', 'server', '--before', '2026-03-09..2026-03-15', '--after', '2026-03-02..2026-03-08', '--fail-on-regression', ...NOW,
    ]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('improved');
  });

  it('--release splits the range on the first day the version was seen', () => {
    const byRelease = json(run(['--store', store, 'compare', '--resource', 'server', '--release', '16.2', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW]));
    expect(byRelease.release).toMatchObject({ version: '16.2.0', day: '2026-03-09', firstSeenVersion: '16.2.0' });
    expect(byRelease.before).toEqual({ date_from: '2026-03-02', date_to: '2026-03-08' });
    const bySpans = json(run(['--store', store, 'compare', '--resource', 'server', ...SPANS, '--format', 'json', ...NOW]));
    expect(byRelease.tracks).toEqual(bySpans.tracks);
  });

  it('says "no detectable change" with the smallest detectable change when nothing moved', () => {
    const r = json(run(['--store', store, 'compare', '--resource', 'server', '--before', '2026-03-02..2026-03-04', '--after', '2026-03-05..2026-03-08', '--format', 'json', ...NOW]));
    const t = r.tracks[0];
    expect(t.verdict).toBe('no detectable change');
    expect(t.minimumDetectableChange).toBeGreaterThan(0.2);
    expect(t.summary).toMatch(/only a change of about \d+\.\d points or more would be detected/);
  });

  it('rejects bad input with exit 2 naming the option', () => {
    const cases: [string[], RegExp][] = [
      [['--before', '2026-03-02', '--after', '2026-03-09..2026-03-15'], /--before: '2026-03-02' is not a range/],
      [['--before', '2026-03-10..2026-03-02', '--after', '2026-03-09..2026-03-15'], /--before: 2026-03-10 is after 2026-03-02/],
      [['--before', '2026-03-02..2026-03-08'], /--after missing/],
      [['--release', '16.2', ...SPANS], /either --release or --before/],
      [['--release', 'banana'], /--release: 'banana' is not a version/],
      [['--release', '99', '--from', '2026-03-01', '--to', '2026-03-20'], /no event .* 99\.0\.0 or later/],
      [['--release', '16.1', '--from', '2026-03-02', '--to', '2026-03-20'], /already out on 2026-03-02/],
    ];
    for (const [args, msg] of cases) {
      const r = run(['--store', store, 'compare', '--resource', 'server', ...args, ...NOW]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  });
});

describe('compare on PostHog (the sandbox)', () => {
  let sb: Awaited<ReturnType<typeof sandbox>> | undefined;
  afterAll(async () => sb?.close());

  it("gives the known answer through PostHog's query API, release split included", async () => {
    sb = await sandbox({ storePath: store });
    const ph = ['--engine', 'posthog', '--host', sb.url, '--project-id', '1', '--personal-api-key', PKEY];
    const args = ['compare', '--resource', 'server', '--release', '16.2.0', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW];
    const { runCli } = await import('../sandbox/helpers.js');
    const remote = await runCli(['--store', join(dir, 'unused.duckdb'), ...args, ...ph]);
    expect(remote.code, remote.stderr).toBe(0);
    const local = run(['--store', join(dir, 'copy-unused.duckdb'), ...args]);
    expect(local.code).not.toBe(0); // an empty store has no release day: the data really came from PostHog
    const p = JSON.parse(remote.stdout);
    expect(p.engine).toBe('posthog');
    expect(p.tracks[0].before).toMatchObject({ sessions: 40, completed: 30, medianSeconds: 590 });
    expect(p.tracks[0].after).toMatchObject({ sessions: 40, completed: 14, medianSeconds: 430 });
    expect(p.tracks[0].verdict).toBe('regressed');
    const trend = await runCli(['--store', join(dir, 'unused.duckdb'), 'funnel', '--resource', 'server', '--interval', 'week', '--week-start', 'monday', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW, ...ph]);
    expect(trend.code, trend.stderr).toBe(0);
    const drops = await runCli(['--store', join(dir, 'unused.duckdb'), 'dropoffs', '--resource', 'server', '--step', 'resourceSelection', '--from', '2026-03-09', '--to', '2026-03-15', '--format', 'json', ...NOW, ...ph]);
    expect(drops.code, drops.stderr).toBe(0);
    expect(JSON.parse(drops.stdout).summary).toMatchObject({ withError: 26, cameBack: 13, completedNext: 6 });
    expect(JSON.parse(trend.stdout).trend.map((t: { sessions: number; completed: number }) => [t.sessions, t.completed])).toEqual([[40, 30], [40, 14]]);
  });
});

describe('dropoffs', () => {
  it('lists the sessions that reached a step and not the next, their error and what the account did next', () => {
    const r = run(['--store', store, 'dropoffs', '--resource', 'server', '--step', 'resourceSelection', '--from', '2026-03-09', '--to', '2026-03-15', '--format', 'json', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    // sessions 14..39 of the second week stopped after resource selection
    expect(out.count).toBe(26);
    expect(out.sessions.map((s: { session: string }) => s.session).sort()).toEqual(Array.from({ length: 26 }, (_, k) => `after-session-${k + 14}`).sort());
    const s14 = out.sessions.find((s: { session: string }) => s.session === 'after-session-14');
    expect(s14).toMatchObject({ account: 'after-acct-14', lastError: 'boom even', errors: 1, next: { session: 'retry-14', track: 'postgres', completed: false } });
    expect(out.sessions.find((s: { session: string }) => s.session === 'after-session-16').next).toMatchObject({ session: 'retry-16', completed: true });
    expect(out.sessions.find((s: { session: string }) => s.session === 'after-session-15').next).toBeNull();
    // even u in 14..38: 13 came back; u % 4 = 0 (16, 20, …, 36): 6 completed
    expect(out.summary).toMatchObject({ withError: 26, accounts: 26, cameBack: 13, completedNext: 6 });
    expect(out.summary.errors).toEqual([{ message: 'boom even', sessions: 13 }, { message: 'boom odd', sessions: 13 }]);
    expect(out.summary.nextTracks).toEqual([{ track: 'postgres', sessions: 13, completed: 6 }]);
  });

  it('rejects a step that is not the track\'s, or its last', () => {
    const bad = run(['--store', store, 'dropoffs', '--resource', 'server', '--step', 'deployServce', ...NOW]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--step: 'deployServce' is not a step of server — did you mean 'deployService'\?/);
    const last = run(['--store', store, 'dropoffs', '--resource', 'server', '--step', 'completed', ...NOW]);
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/last step/);
  });
});

describe('funnel --interval (conversion per period)', () => {
  it('counts each week as its own funnel: 30 of 40, then 14 of 40', () => {
    const r = run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'week', '--week-start', 'monday', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out.trend).toEqual([
      { period: '2026-03-02', from: '2026-03-02', to: '2026-03-08', sessions: 40, completed: 30, rate: 0.75, medianSeconds: 590, incomplete: false },
      { period: '2026-03-09', from: '2026-03-09', to: '2026-03-15', sessions: 40, completed: 14, rate: 0.35, medianSeconds: 430, incomplete: false },
    ]);
  });

  it('daily periods add up to the week, and a cut or unfinished period is marked incomplete', () => {
    const out = json(run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'day', '--from', '2026-03-02', '--to', '2026-03-08', '--format', 'json', ...NOW]));
    expect(out.trend).toHaveLength(7);
    // session u starts on day u % 7: days 0 and 1 hold 6 sessions each, the rest 5 or 6
    expect(out.trend.map((t: { sessions: number }) => t.sessions)).toEqual([6, 6, 6, 6, 6, 5, 5]);
    expect(out.trend.reduce((s: number, t: { completed: number }) => s + t.completed, 0)).toBe(30);
    const weeks = json(run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'week', '--from', '2026-03-04', '--to', '2026-03-15', '--format', 'json', ...NOW]));
    // Sunday weeks: 03-01 (cut by the range: from 03-04), 03-08, 03-15 (cut: to 03-15)
    expect(weeks.trend.map((t: { period: string; incomplete: boolean }) => [t.period, t.incomplete])).toEqual([
      ['2026-03-01', true],
      ['2026-03-08', false],
      ['2026-03-15', true],
    ]);
  });

  it('prints a table with the periods and rejects --interval without one resource', () => {
    const t = run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'week', '--week-start', 'monday', '--from', '2026-03-02', '--to', '2026-03-15', ...NOW]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/2026-03-09 .* 40 .* 14 .* 35\.0%/);
    const bad = run(['--store', store, 'funnel', '--resource', 'all', '--interval', 'week', ...NOW]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--interval: give one --resource/);
    const badUnit = run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'year', ...NOW]);
    expect(badUnit.code).toBe(2);
    expect(badUnit.stderr).toMatch(/--interval/);
  });
});
