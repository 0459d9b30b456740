// Every table report fits an 80-column terminal: no line of stdout or stderr is wider than 80.
// Each report runs in-process with stdout and stderr as 80-column terminals (isTTY, columns);
// two of them also run the real binary under a pseudo-terminal (util-linux `script`) sized to 80
// columns, so the width is the one a real terminal reports (spawning all 13 took ~13 s).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { BIN, run, tmpDir } from '../commands/cli.js';

const dir = tmpDir('dm-width-');
const store = join(dir, 's.duckdb');
const fixture = join(dir, 'f.jsonl');
const NOW = ['--now', '2026-11-20T12:00:00Z'];

/** Each report's arguments (the table reports on Discover and Connect data). */
const REPORTS: string[][] = [
  ['funnel', '--resource', 'all', '--from', '-60d'],
  ['funnel', '--resource', 'rds-postgres', '--from', '-60d'],
  ['funnel', '--resource', 'server', '--from', '-60d', '--breakdown', 'tp.cluster_name'],
  ['steps', '--resource', 'all', '--from', '-60d'],
  ['failures', '--resource', 'all', '--from', '-60d'],
  ['ttfr', '--from', '-60d'],
  ['features', '--from', '-60d'],
  ['platforms', '--from', '-60d'],
  ['dau', '--interval', 'week', '--breakdown', 'os', '--compare', '--from', '-60d'],
  ['adoption', '--from', '-60d'],
  ['compare', '--before', '2026-09-22..2026-10-21', '--after', '2026-10-22..2026-11-20'],
  ['correlation', '--resource', 'server', '--from', '-60d'],
  ['retention', '--recurring', '--period', 'day', '--intervals', '10'],
];
/** The reports that also run under a real pseudo-terminal (a Discover and a Connect one). */
const UNDER_PTY = [0, 8];

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let ptyOutputs: string[] = [];

beforeAll(async () => {
  const g = await run(['fixtures', 'generate', '--seed', '5', '--accounts', '100', '--installations', '100', '--days', '60', '--start', '2026-09-21', '--out', fixture]);
  expect(g.code, g.stderr).toBe(0);
  const l = await run(['--store', store, 'load', fixture]);
  expect(l.code, l.stderr).toBe(0);
  if (!hasScript) return;
  // one terminal session runs the reports, a marker line between them
  const body = UNDER_PTY.map((i) => `echo @@@; ${quote(process.execPath)} ${quote(BIN)} --store ${quote(store)} ${[...REPORTS[i]!, ...NOW].map(quote).join(' ')}`).join('; ');
  const r = spawnSync('script', ['-qfec', `stty cols 80 rows 40; ${body}`, '/dev/null'], {
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(r.status, r.stderr).toBe(0);
  ptyOutputs = r.stdout.replace(/\r/g, '').split('@@@\n').slice(1);
}, 120_000);

function expectFits(out: string): void {
  expect(out.trim().length).toBeGreaterThan(0);
  expect(out).not.toMatch(/^(internal error|error):/m);
  const wide = out.split('\n').filter((line) => stringWidth(line) > 80);
  expect(wide, out).toEqual([]);
}

describe('at 80 columns', () => {
  it.each(REPORTS.map((args) => [args.join(' '), args] as const))('%s: no line is wider than 80', async (_name, args) => {
    const r = await run(['--store', store, ...args, ...NOW], { terminalColumns: 80, env: { COLUMNS: '' } });
    expect(r.code, r.stderr).toBe(0);
    expectFits(r.stdout + r.stderr);
  });

  it.skipIf(!hasScript).each(UNDER_PTY.map((i) => [REPORTS[i]!.join(' '), UNDER_PTY.indexOf(i)] as const))('%s, under a real 80-column terminal: no line is wider than 80', (_name, k) => {
    expectFits(ptyOutputs[k] ?? '');
  });
});
