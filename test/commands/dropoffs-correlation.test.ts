/** `dropoffs` and `correlation` end to end on sessions whose answer is known (the store: test/commands/known-sessions.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { json, run } from './cli.js';
import { loadedStore, NOW } from './known-sessions.js';

let store = '';
beforeAll(async () => {
  ({ store } = await loadedStore('dm-drops-'));
});

describe('dropoffs', () => {
  it('lists the sessions that reached a step and not the next, their error and what the account did next', async () => {
    const r = await run(['--store', store, 'dropoffs', '--resource', 'server', '--step', 'resourceSelection', '--from', '2026-03-09', '--to', '2026-03-15', '--format', 'json', ...NOW]);
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

  it('rejects a step that is not the track\'s, or its last', async () => {
    const bad = await run(['--store', store, 'dropoffs', '--resource', 'server', '--step', 'deployServce', ...NOW]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--step: 'deployServce' is not a step of server — did you mean 'deployService'\?/);
    const last = await run(['--store', store, 'dropoffs', '--resource', 'server', '--step', 'completed', ...NOW]);
    expect(last.code).toBe(2);
    expect(last.stderr).toMatch(/last step/);
  });
});

describe('correlation', () => {
  it("gives PostHog's odds ratios for the session's property values and events", async () => {
    const r = await run(['--store', store, 'correlation', '--resource', 'server', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out).toMatchObject({ sessions: 80, successTotal: 44, failureTotal: 36, skewed: false });
    // by hand, with PostHog's prior of 1: (s + 1)(F − f + 1) / ((S − s + 1)(f + 1))
    const or = (s: number, f: number) => ((s + 1) * (36 - f + 1)) / ((44 - s + 1) * (f + 1));
    expect(out.properties).toHaveLength(2);
    expect(out.properties[0]).toMatchObject({ property: 'tp.teleport_version', value: '16.1.3', correlation: 'success', successCount: 30, failureCount: 10, significant: true });
    expect(out.properties[0].oddsRatio).toBeCloseTo(or(30, 10), 12);
    expect(out.properties[1]).toMatchObject({ value: '16.2.0', correlation: 'failure', successCount: 14, failureCount: 26, significant: true });
    expect(out.properties[1].oddsRatio).toBeCloseTo(or(14, 26), 12);
    // the funnel's own step events (the ERRORs at Deploy service included) are left out
    expect(out.events).toHaveLength(1);
    expect(out.events[0]).toMatchObject({ event: 'tp.ui.docs.open', correlation: 'success', successCount: 10, failureCount: 0 });
    expect(out.events[0].oddsRatio).toBeCloseTo(or(10, 0), 12);
    const table = await run(['--store', store, 'correlation', '--resource', 'server', '--from', '2026-03-02', '--to', '2026-03-15', ...NOW]);
    expect(table.stdout).toMatch(/16\.2\.0 .* 5\.1× likelier to fail/);
  });
});

