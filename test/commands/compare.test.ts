/** `compare` end to end on sessions whose answer is known (the store: test/commands/known-sessions.ts). */
import { beforeAll, describe, expect, it } from 'vitest';
import { json, run } from './cli.js';
import { loadedStore, NOW, SPANS, twoSidedP } from './known-sessions.js';
import { parseSpan } from '../../src/cli/range-options.js';
import { parseReleaseVersion } from '../../src/discover/release.js';
import { UsageError } from '../../src/errors.js';

let store = '';
beforeAll(async () => {
  ({ store } = await loadedStore('dm-compare-'));
});

describe('compare', () => {
  it('reports counts, the difference, its interval, the p-value and the verdict', async () => {
    const r = await run(['--store', store, 'compare', '--resource', 'server', ...SPANS, '--format', 'json', ...NOW]);
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

  it('--fail-on-regression exits 1 on a regression and 0 otherwise', async () => {
    const bad = await run(['--store', store, 'compare', '--resource', 'server', ...SPANS, '--fail-on-regression', ...NOW]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('regressed');
    // the other way round the same change is an improvement
    const good = await run([
      '--store', store, 'compare', '--resource', 'server', '--before', '2026-03-09..2026-03-15', '--after', '2026-03-02..2026-03-08', '--fail-on-regression', ...NOW,
    ]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('improved');
  });

  it('--release splits the range on the first day the version was seen', async () => {
    const byRelease = json(await run(['--store', store, 'compare', '--resource', 'server', '--release', '16.2', '--from', '2026-03-02', '--to', '2026-03-15', '--format', 'json', ...NOW]));
    expect(byRelease.release).toMatchObject({ version: '16.2.0', day: '2026-03-09', firstSeenVersion: '16.2.0' });
    // each side: the resolved dates next to the input
    expect(byRelease.before).toEqual({ date_from: '2026-03-02T00:00:00+00:00', date_to: '2026-03-08T23:59:59.999999+00:00', timezone: 'UTC', from: '2026-03-02', to: '2026-03-08', incomplete: false });
    const bySpans = json(await run(['--store', store, 'compare', '--resource', 'server', ...SPANS, '--format', 'json', ...NOW]));
    expect(byRelease.tracks).toEqual(bySpans.tracks);
  });

  it('says "no detectable change" with the smallest detectable change when nothing moved', async () => {
    const r = json(await run(['--store', store, 'compare', '--resource', 'server', '--before', '2026-03-02..2026-03-04', '--after', '2026-03-05..2026-03-08', '--format', 'json', ...NOW]));
    const t = r.tracks[0];
    expect(t.verdict).toBe('no detectable change');
    expect(t.minimumDetectableChange).toBeGreaterThan(0.2);
    expect(t.summary).toMatch(/only a change of about \d+\.\d points or more would be detected/);
  });

  it('rejects bad ranges and versions naming the option (exit 2)', () => {
    const now = new Date('2026-04-01T00:00:00Z');
    const usage = (f: () => unknown, msg: RegExp) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        expect((e as UsageError).exitCode).toBe(2);
        expect((e as Error).message).toMatch(msg);
        return;
      }
      throw new Error(`no error for ${msg}`);
    };
    usage(() => parseSpan('--before', '2026-03-02', now), /--before: '2026-03-02' is not a range/);
    usage(() => parseSpan('--before', '2026-03-10..2026-03-02', now), /--before: 2026-03-10 is after 2026-03-02/);
    usage(() => parseSpan('--after', '2026-03-10..soon', now), /--after: 'soon' is not a date/);
    usage(() => parseReleaseVersion('banana'), /--release: 'banana' is not a version/);
    expect(parseReleaseVersion('v16.2')).toBe('16.2.0');
    expect(parseSpan('--before', '-60d..-31d', now)).toEqual({ date_from: '-60d', date_to: '-31d' });
  });

  it('says so on the command line, with nothing on stdout', async () => {
    const cases: [string[], RegExp][] = [
      [['--before', '2026-03-02..2026-03-08'], /--after missing/],
      [['--release', '99', '--from', '2026-03-01', '--to', '2026-03-20'], /no event .* 99\.0\.0 or later/],
      [['--release', '16.1', '--from', '2026-03-02', '--to', '2026-03-20'], /already out on 2026-03-02/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(['--store', store, 'compare', '--resource', 'server', ...args, ...NOW]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).toBe('');
    }
  });
});

