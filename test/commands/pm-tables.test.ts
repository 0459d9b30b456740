// Issue 15 on a generated fixture: funnel breakdowns as one matrix (and the warning when the
// property is missing where its value is read), `funnel --resource all --breakdown`, failures'
// error rate and message ranking, ttfr's log-spaced bins for a long-tailed histogram.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { json, run, tmpDir } from './cli.js';

const dir = tmpDir('dm-pmt-');
const store = join(dir, 's.duckdb');
const fixture = join(dir, 'f.jsonl');
const RANGE = ['--from', '-60d', '--now', '2026-11-16T12:00:00Z'];

beforeAll(async () => {
  const g = await run(['fixtures', 'generate', '--seed', '21', '--accounts', '120', '--installations', '10', '--days', '60', '--out', fixture]);
  expect(g.code, g.stderr).toBe(0);
  const l = await run(['--store', store, 'load', fixture]);
  expect(l.code, l.stderr).toBe(0);
});

describe('funnel --breakdown', () => {
  it('prints one matrix named by the property (values as rows, steps as columns), not a table per value', async () => {
    const r = await run(['--store', store, 'funnel', '--resource', 'server', '--breakdown', 'tp.discover.resource.name', ...RANGE]);
    expect(r.code, r.stderr).toBe(0);
    const titles = r.stdout.split('\n').filter((l) => /^Server/.test(l));
    expect(titles).toHaveLength(2);
    expect(titles[1]).toContain('by tp.discover.resource.name');
    expect(r.stdout).toMatch(/│ tp\.discover\.resource\.name\s+│ Sessions │\s+2 │\s+3 │/);
    expect(r.stdout).toMatch(/│ DISCOVER_RESOURCE_SERVER\s+│/);
  });

  it('warns when the property is missing on the step its value is read from, and labels those sessions None', async () => {
    const r = await run(['--store', store, 'funnel', '--resource', 'server', '--breakdown', 'tp.discover.deploy.method', ...RANGE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: tp\.discover\.deploy\.method is not set on "Resource selected".*they show as None/s);
    expect(r.stdout).toMatch(/│ None\s+│/);
    expect(r.stdout).not.toContain('$$_posthog');
  });

  it('--resource all --breakdown X shows X: completion per resource and value', async () => {
    const r = await run(['--store', store, 'funnel', '--resource', 'all', '--breakdown', 'tp.discover.resource.name', ...RANGE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Completion by resource and tp.discover.resource.name');
    expect(r.stdout).toMatch(/│ server\s+│ DISCOVER_RESOURCE_SERVER\s+│/);
  });
});

describe('failures', () => {
  it('gives each step its error rate: sessions that failed on it ÷ sessions that reached it', async () => {
    const r = json(await run(['--store', store, 'failures', '--resource', 'all', '--format', 'json', ...RANGE]));
    const steps = r.steps as { sessions: number; failedSessions: number; errors: number; errorRate: number | null }[];
    const withErrors = steps.filter((s) => s.errors > 0);
    expect(withErrors.length).toBeGreaterThan(0);
    for (const s of withErrors) {
      expect(s.sessions).toBeGreaterThan(0);
      expect(s.failedSessions).toBeGreaterThan(0);
      expect(s.failedSessions).toBeLessThanOrEqual(Math.min(s.errors, s.sessions));
      expect(s.errorRate).toBeCloseTo(s.failedSessions / s.sessions, 10);
    }
    const table = (await run(['--store', store, 'failures', '--resource', 'all', ...RANGE])).stdout;
    expect(table).toMatch(/│ Reached │/);
    expect(table).toMatch(/│ Error rate │/);
  });

  it('ranks real messages first: the catch-all buckets go last', async () => {
    const r = json(await run(['--store', store, 'failures', '--resource', 'all', '--top', '3', '--format', 'json', ...RANGE]));
    const msgs = (r.topErrors as { message: string; errors: number }[]).map((m) => m.message);
    expect(msgs.length).toBeGreaterThan(1);
    expect(msgs[0]).not.toMatch(/^\(/);
    const firstBucket = msgs.findIndex((m) => m.startsWith('('));
    if (firstBucket >= 0) expect(msgs.slice(firstBucket).every((m) => m.startsWith('('))).toBe(true);
    expect((r.topErrors as { errors: number }[]).every((m) => m.errors > 0)).toBe(true);
  });
});

describe('ttfr', () => {
  it('uses log-spaced bins when most accounts fall in the first of even bins', async () => {
    const r = json(await run(['--store', store, 'ttfr', '--format', 'json', ...RANGE]));
    expect(r.histogramScale).toBe('log');
    const bins = r.histogram as { fromSeconds: number; toSeconds: number; count: number }[];
    expect(bins.slice(0, 5).map((b) => b.toSeconds)).toEqual([60, 300, 900, 3600, 14400]);
    // no bin holds most of the accounts any more, and the bins add up to the conversions (within a fine bin's rounding)
    const total = bins.reduce((n, b) => n + b.count, 0);
    expect(Math.max(...bins.map((b) => b.count))).toBeLessThan(total / 2);
    expect(Math.abs(total - r.converted)).toBeLessThanOrEqual(Math.ceil(r.converted * 0.02));
    const text = (await run(['--store', store, 'ttfr', ...RANGE])).stdout;
    expect(text).toContain('Bins widen');
  });

  it('keeps even bins when --bins asks for them', async () => {
    const r = json(await run(['--store', store, 'ttfr', '--bins', '8', '--format', 'json', ...RANGE]));
    expect(r.histogramScale).toBe('linear');
  });
});
