/** `funnel --interval` end to end on sessions whose answer is known (the store: test/commands/known-sessions.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { json, run } from './cli.js';
import { loadedStore, NOW } from './known-sessions.js';

let store = '';
beforeAll(async () => {
  ({ store } = await loadedStore('dm-trend-'));
});

describe('funnel --interval (conversion per period)', () => {
  it('counts each week as its own funnel: 30 of 40, then 14 of 40', async () => {
    const r = await run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'week', '--week-start', 'monday', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out.trend).toEqual([
      { period: '2026-03-02', from: '2026-03-02', to: '2026-03-08', sessions: 40, completed: 30, rate: 0.75, medianSeconds: 590, incomplete: false },
      { period: '2026-03-09', from: '2026-03-09', to: '2026-03-15', sessions: 40, completed: 14, rate: 0.35, medianSeconds: 430, incomplete: false },
    ]);
  });

  it('daily periods add up to the week, and a cut or unfinished period is marked incomplete', async () => {
    const out = json(await run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'day', '--from', '2026-03-02', '--to', '2026-03-08', '--format', 'json', ...NOW]));
    expect(out.trend).toHaveLength(7);
    // session u starts on day u % 7: days 0 and 1 hold 6 sessions each, the rest 5 or 6
    expect(out.trend.map((t: { sessions: number }) => t.sessions)).toEqual([6, 6, 6, 6, 6, 5, 5]);
    expect(out.trend.reduce((s: number, t: { completed: number }) => s + t.completed, 0)).toBe(30);
    const weeks = json(await run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'week', '--from', '2026-03-04', '--to', '2026-03-15', '--format', 'json', ...NOW]));
    // Sunday weeks: 03-01 (cut by the range: from 03-04), 03-08, 03-15 (cut: to 03-15)
    expect(weeks.trend.map((t: { period: string; incomplete: boolean }) => [t.period, t.incomplete])).toEqual([
      ['2026-03-01', true],
      ['2026-03-08', false],
      ['2026-03-15', true],
    ]);
  });

  it('prints a table with the periods and rejects --interval without one resource', async () => {
    const t = await run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'week', '--week-start', 'monday', '--from', '2026-03-02', '--to', '2026-03-15', ...NOW]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/2026-03-09 .* 40 .* 14 .* 35\.0%/);
    const bad = await run(['--store', store, 'funnel', '--resource', 'all', '--interval', 'week', ...NOW]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--interval: give one --resource/);
    const badUnit = await run(['--store', store, 'funnel', '--resource', 'server', '--interval', 'year', ...NOW]);
    expect(badUnit.code).toBe(2);
    expect(badUnit.stderr).toMatch(/--interval/);
  });
});
