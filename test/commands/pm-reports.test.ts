// Issue 15, "Ranges and periods": every report states its resolved range, one default range,
// incomplete periods marked and left out of comparisons, ranges that miss the data refused with
// the store's span, reports starting at the first day with data, relative dates everywhere.
// And "CI and scripting": thresholds, --quiet, did-you-mean by prefix, npm run bench.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, json, run, tmpDir } from './cli.js';

const dir = tmpDir('dm-ranges-');
const fixture = join(dir, 'events.jsonl');
const store = join(dir, 'store.duckdb');
const cdn = join(dir, 'cdn');
// the fixture spans 2026-10-27 … 2026-11-15 (20 days before 2026-11-16); --now is mid-day
const NOW = ['--now', '2026-11-15T12:00:00Z'];
const dm = (...args: string[]) => run(['--store', store, ...args]);

beforeAll(async () => {
  const g = await run(['fixtures', 'generate', '--seed', '5', '--accounts', '60', '--installations', '40', '--days', '20', '--out', fixture, '--cdn-logs', cdn]);
  expect(g.code, g.stderr).toBe(0);
  const l = await dm('load', fixture);
  expect(l.code, l.stderr).toBe(0);
});

// a table run of some reports and a JSON run of the others: every one goes through the same output layer
const TABLES: string[][] = [
  ['funnel', '--resource', 'all'],
  ['funnel', '--resource', 'server', '--interval', 'week'],
  ['steps'],
  ['failures'],
  ['ttfr'],
  ['dau'],
  ['adoption'],
  ['lifecycle'],
];
const JSONS: string[][] = [
  ['funnel', '--resource', 'server'],
  ['ttfr', '--wizard'],
  ['demand'],
  ['dropoffs', '--resource', 'server', '--step', 'deployService'],
  ['features'],
  ['platforms'],
  ['connect-share'],
];

describe('every report states its resolved range', () => {
  it('as dates in the table footer, with the relative input beside them', async () => {
    for (const args of TABLES) {
      const r = await dm(...args, ...NOW, '--from', '-10d');
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toContain('Range: 2026-11-05 → 2026-11-15, UTC (-10d → today; 2026-11-15 is not over)');
    }
  });

  it('as resolved date_from/date_to next to the input in JSON (never "date_to": null) and CSV', async () => {
    for (const args of JSONS) {
      const r = json(await dm(...args, ...NOW, '--format', 'json'));
      expect(r.dateRange, args.join(' ')).toMatchObject({ from: args[0] === 'connect-share' ? '-12w' : '-30d', to: 'today', timezone: 'UTC', incomplete: true, date_to: '2026-11-15T23:59:59.999999+00:00' });
      // the range starts before the store's first event: the report starts on that day
      expect(r.dateRange.date_from, args.join(' ')).toBe('2026-10-27T00:00:00+00:00');
      expect(r.dateRange.startsAtData).toBe('2026-10-27');
    }
    const csv = (await dm('funnel', '--resource', 'server', ...NOW, '--from', '2026-11-01', '--to', '2026-11-10', '--format', 'csv')).stdout.trim().split('\n');
    expect(csv[0]).toMatch(/,range_from,range_to,date_from,date_to$/);
    expect(csv[1]).toMatch(/,2026-11-01,2026-11-10,2026-11-01T00:00:00\+00:00,2026-11-10T23:59:59\.999999\+00:00$/);
  });

  it('retention states the days its cohorts cover (counted back from --to), and takes --to alone', async () => {
    const r = json(await dm('retention', '--period', 'day', '--intervals', '5', ...NOW, '--to', '2026-11-10', '--format', 'json'));
    expect(r.cohorts[0].period).toBe('2026-11-06');
    expect(r.dateRange).toMatchObject({ date_from: '2026-11-06T00:00:00+00:00', date_to: '2026-11-10T23:59:59.999999+00:00', to: '2026-11-10', incomplete: false });
    const t = await dm('retention', '--period', 'day', '--intervals', '5', ...NOW);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('Range: 2026-11-11 → 2026-11-15, UTC');
  });

  it('uses one default range: ttfr --wizard and funnel cover the same days', async () => {
    const ttfr = json(await dm('ttfr', '--wizard', '--now', '2026-11-16T12:00:00Z', '--format', 'json'));
    const funnel = json(await dm('funnel', '--resource', 'server', '--now', '2026-11-16T12:00:00Z', '--format', 'json'));
    expect(ttfr.dateRange.from).toBe('-30d');
    expect(ttfr.dateRange).toEqual(funnel.dateRange);
    const adoption = json(await dm('adoption', '--now', '2026-11-16T12:00:00Z', '--format', 'json'));
    expect(adoption.dateRange).toEqual(funnel.dateRange);
  });

  it('compare states both sides as dates', async () => {
    const r = await dm('compare', '--resource', 'server', '--before', '-20d..-11d', '--after', '-10d..-1d', ...NOW);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Before 2026-10-26 → 2026-11-04 (-20d → -11d) · after 2026-11-05 → 2026-11-14 (-10d → -1d), UTC');
  });
});

describe('incomplete periods', () => {
  it('dau marks the day not over in the table, the chart and JSON, and leaves it out of Change and Latest', async () => {
    const t = await dm('dau', '--from', '-7d', ...NOW, '--compare');
    expect(t.code, t.stderr).toBe(0);
    const last = t.stdout.split('\n').find((l) => l.includes('15-Nov-2026'))!;
    expect(last).toContain('15-Nov-2026 *');
    // the running day's change is not a −100% drop
    expect(last).not.toMatch(/−\d/);
    // Day, Active installations, Previous period, Installations, Change, bar
    expect(last.split('│').map((x) => x.trim())[5]).toBe('–');
    expect(t.stdout).toContain('not over yet (incomplete period)');
    const j = json(await dm('dau', '--from', '-7d', ...NOW, '--format', 'json'));
    expect(j.periods.at(-1)).toMatchObject({ date: '2026-11-15', incomplete: true });
    expect(j.periods.at(-2)).toMatchObject({ date: '2026-11-14', incomplete: false });
    const by = json(await dm('dau', '--from', '-7d', ...NOW, '--breakdown', 'os', '--format', 'json'));
    const csv = (await dm('dau', '--from', '-7d', ...NOW, '--breakdown', 'os', '--format', 'csv')).stdout;
    expect(csv.split('\n')[0]).toContain(',incomplete,');
    const table = await dm('dau', '--from', '-7d', ...NOW, '--breakdown', 'os', '--interval', 'day');
    expect(by.results.length).toBeGreaterThan(0);
    if (by.results.length > 4) {
      // summary layout: Latest is the last complete day, not the running one
      expect(table.stdout).toContain('Latest complete');
      const s = by.results[0];
      const row = table.stdout.split('\n').find((l) => l.includes(`│ ${String(s.breakdown_value)} `))!;
      expect(row.trim().split(/\s*│\s*/).filter(Boolean)[3]).toBe(String(s.data.at(-2)));
    }
  });

  it('funnel --interval uses the same definition (the week holding --now is incomplete)', async () => {
    const j = json(await dm('funnel', '--resource', 'server', '--interval', 'week', '--from', '-14d', ...NOW, '--format', 'json'));
    expect(j.trend.at(-1).incomplete).toBe(true);
    expect(j.trend.at(-1).period).toBe('2026-11-15');
  });
});

describe('a range that misses the data', () => {
  it('is refused with the store span on stderr, exit 2, nothing on stdout', async () => {
    for (const args of [['dau'], ['funnel', '--resource', 'all'], ['adoption'], ['ttfr']]) {
      const r = await dm(...args, '--from', '2025-01-01', '--to', '2025-03-01', ...NOW);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('no events between 2025-01-01 → 2025-03-01 (UTC); the store holds 2026-10-27 … 2026-11-15');
    }
    const after = await dm('dau', '--from', '-3d', '--now', '2027-02-01T00:00:00Z');
    expect(after.code).toBe(2);
    expect(after.stderr).toContain('the store holds 2026-10-27 … 2026-11-15');
  });

  it('reports start at the first day with data: adoption has no leading all-zero weeks', async () => {
    const j = json(await dm('adoption', '--from', '-365d', ...NOW, '--format', 'json'));
    expect(j.rows[0].period).toBe('2026-10-25');
    expect(j.dateRange.startsAtData).toBe('2026-10-27');
    const t = await dm('adoption', '--from', '-365d', ...NOW);
    expect(t.stdout).toContain("Range: 2026-10-27 → 2026-11-15, UTC (-365d → today, from the store's first event; 2026-11-15 is not over)");
  });
});

describe('relative dates everywhere', () => {
  it('downloads --from -30d counts back from --now in --timezone', async () => {
    const rel = json(await run(['downloads', cdn, '--by', 'period', '--from', '-5d', '--now', '2026-11-15T12:00:00Z', '--format', 'json']));
    const abs = json(await run(['downloads', cdn, '--by', 'period', '--from', '2026-11-10', '--now', '2026-11-15T12:00:00Z', '--format', 'json']));
    expect(rel).toEqual(abs);
    const bad = await run(['downloads', cdn, '--from', '-5x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--from: '-5x' is not a date");
  });
});

describe('CI thresholds', () => {
  it('funnel --fail-under exits 1 naming the tracks below the rate, after printing the report', async () => {
    const all = json(await dm('funnel', ...NOW, '--format', 'json'));
    const rates = all.resources.filter((r: any) => r.sessions > 0).map((r: any) => r.completionRate).sort((a: number, b: number) => a - b);
    const lowest = all.resources.find((r: any) => r.sessions > 0 && r.completionRate === rates[0]);
    const cut = (rates[0] + rates[rates.length - 1]) / 2;
    const failing = await dm('funnel', ...NOW, '--fail-under', String(cut));
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('Discover funnels by resource');
    expect(failing.stderr).toContain(`funnel: completion below ${(cut * 100).toFixed(1)}%`);
    expect(failing.stderr).toContain(`${lowest.slug} ${(lowest.completionRate * 100).toFixed(1)}% (${lowest.completed} of ${lowest.sessions} sessions)`);
    const passing = await dm('funnel', ...NOW, '--fail-under', `${Math.floor(rates[0] * 100)}%`);
    expect(passing.code, passing.stderr).toBe(0);
    const bad = await dm('funnel', ...NOW, '--fail-under', '140%');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--fail-under: '140%' is not a rate");
  });

  it('compare and funnel --interval take --fail-under too', async () => {
    const c = await dm('compare', '--resource', 'server', '--before', '-20d..-11d', '--after', '-10d..-1d', ...NOW, '--fail-under', '100%');
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/compare: completion after below 100\.0% for 1 of 1: server \d/);
    const t = await dm('funnel', '--resource', 'server', '--interval', 'day', '--from', '-10d', ...NOW, '--fail-under', '100%', '--format', 'json');
    expect(t.code).toBe(1);
    // the day not over (2026-11-15) is not judged
    expect(t.stderr).toMatch(/funnel server: completion per day below 100\.0%/);
    expect(t.stderr).not.toContain('2026-11-15');
    expect(json(t).trend.length).toBeGreaterThan(0);
  });

  it('dau --max-drop compares the last complete period, not the running one', async () => {
    const j = json(await dm('dau', '--from', '-7d', ...NOW, '--format', 'json'));
    const data: number[] = j.results[0].data;
    // the running day (index 7) would be a huge drop; the check looks at 14-Nov against 13-Nov
    const [before, after] = [data[5]!, data[6]!];
    const drop = before > 0 ? (before - after) / before : 0;
    const ok = await dm('dau', '--from', '-7d', ...NOW, '--max-drop', String(Math.min(1, Math.max(0, drop) + 0.01)));
    expect(ok.code, ok.stderr).toBe(0);
    if (drop > 0.02) {
      const fail = await dm('dau', '--from', '-7d', ...NOW, '--max-drop', String(drop - 0.01));
      expect(fail.code).toBe(1);
      expect(fail.stderr).toContain(`dau: dropped more than`);
      expect(fail.stderr).toContain(`Active installations ${before} → ${after}`);
      expect(fail.stderr).toContain('13-Nov-2026 → 14-Nov-2026');
    }
  });
});

describe('scripting', () => {
  it('--quiet leaves out the fixtures generate summary (JSON still prints)', async () => {
    const out = join(dir, 'q.jsonl');
    const q = await run(['--quiet', 'fixtures', 'generate', '--seed', '2', '--accounts', '3', '--installations', '3', '--days', '2', '--out', out]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toBe('');
    expect(q.stderr).toBe('');
    const j = await run(['--quiet', '--format', 'json', 'fixtures', 'generate', '--seed', '2', '--accounts', '3', '--installations', '3', '--days', '2', '--out', out]);
    expect(json(j).events).toBeGreaterThan(0);
  });

  it('did-you-mean lists every resource a prefix starts', async () => {
    const r = await dm('funnel', '--resource', 'rds', ...NOW);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean 'rds-mysql' or 'rds-postgres'?");
    const b = await dm('dau', '--breakdown', 'os_', ...NOW);
    expect(b.stderr).toContain("did you mean 'os_version'?");
  });

  it('npm run bench points at a runner that knows every bench script', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const script = /^node (\S+)/.exec(pkg.scripts.bench)![1]!;
    expect(existsSync(join(ROOT, script))).toBe(true);
    const r = spawnList(join(ROOT, script));
    const benches = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4));
    for (const b of benches) expect(r).toMatch(new RegExp(`^${b} `, 'm'));
  });
});

function spawnList(script: string): string {
  const r = spawnSync(process.execPath, [script, '--list'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}
