// `load` shows its progress on stderr: a redrawn line under a terminal (a pseudo-terminal made by
// util-linux's script), plain lines at most once per interval otherwise, nothing with --quiet;
// stdout keeps only the report.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, run, tmpDir } from '../commands/cli.js';

const EVENTS = 3000;
let dir: string;
let file: string;

function events(): string {
  const lines: string[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
    lines.push(JSON.stringify({ event: i % 3 ? 'app.opened' : '$pageview', distinct_id: `u${i % 97}`, timestamp: ts, properties: { n: i, $set: { plan: i % 2 ? 'a' : 'b' } } }));
  }
  return lines.join('\n') + '\n';
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

beforeAll(() => {
  dir = tmpDir('dm-load-progress-');
  file = join(dir, 'events.jsonl');
  writeFileSync(file, events());
});

describe('load progress', () => {
  it('redraws one line on a terminal: 0%, the phases, then 100% with the events read', () => {
    const out = join(dir, 'tty.json');
    const cmd = [process.execPath, BIN, '--store', join(dir, 'tty.duckdb'), '--format', 'json', 'load', file].map(quote).join(' ');
    // the CLI's stderr is the pseudo-terminal (what script prints); its stdout goes to a file
    const r = spawnSync('script', ['-qfec', `${cmd} > ${quote(out)}`, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const frames = r.stdout.split('\r\x1b[2K').filter((f) => f.trim() !== '');
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames[0]).toMatch(/^load \[\.{30}\] 0 B\/[\d.]+ kB \(0%\) · ~0 events, /);
    expect(frames).toContain('load removing duplicate uuids…');
    expect(frames).toContain('load resolving persons…');
    expect(frames.at(-1)).toMatch(/^load \[#{30}\] ([\d.]+ kB)\/\1 \(100%\) · 3,000 events, [\d.]+ [kM]?B\/s\r?\n$/);
    // no line of its own: every frame redraws the same line, and only the last ends it
    expect(frames.slice(0, -1).every((f) => !f.includes('\n'))).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ read: EVENTS, inserted: EVENTS });
  });

  it('prints plain lines when stderr is not a terminal, at most once per interval', async () => {
    const every = await run(['--store', join(dir, 'plain.duckdb'), '--format', 'json', 'load', file], { env: { DISCOVER_METRICS_PROGRESS_INTERVAL: '0' } });
    expect(every.code, every.stderr).toBe(0);
    expect(JSON.parse(every.stdout)).toMatchObject({ read: EVENTS });
    const lines = every.stderr.split('\n').filter(Boolean);
    expect(lines.every((l) => l.startsWith('load: ') && !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
    expect(lines[0]).toMatch(/^load: 0 B\/[\d.]+ kB \(0%\) · ~0 events, /);
    expect(lines).toContain('load: removing duplicate uuids…');
    expect(lines.at(-1)).toMatch(/^load: ([\d.]+ kB)\/\1 \(100%\) · 3,000 events, /);

    // a long interval: the first line and the final one, nothing in between
    const rare = await run(['--store', join(dir, 'rare.duckdb'), 'load', file], { env: { DISCOVER_METRICS_PROGRESS_INTERVAL: '600000' } });
    expect(rare.code, rare.stderr).toBe(0);
    const progress = rare.stderr.split('\n').filter((l) => l.startsWith('load'));
    expect(progress).toHaveLength(2);
    expect(progress[0]).toMatch(/\(0%\)/);
    expect(progress[1]).toMatch(/\(100%\) · 3,000 events/);
  });

  it('shows counts and a rate for stdin, whose size is not known', async () => {
    const r = await run(['--store', join(dir, 'stdin.duckdb'), 'load', '-'], { input: events(), env: { DISCOVER_METRICS_PROGRESS_INTERVAL: '0' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^load: [\d.]+ [kM]B · 3,000 lines from stdin, [\d.]+ [kM]?B\/s$/m);
    expect(r.stderr).toMatch(/^load: ([\d.]+ kB)\/\1 \(100%\) · 3,000 events, /m);
  });

  it('is silent with --quiet', async () => {
    const r = await run(['--store', join(dir, 'quiet.duckdb'), '--quiet', 'load', file], { env: { DISCOVER_METRICS_PROGRESS_INTERVAL: '0' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // the summary is what the command did, not an answer: no title over an empty table frame
    expect(r.stdout).toBe('');
    const j = await run(['--store', join(dir, 'quiet-json.duckdb'), '--quiet', '--format', 'json', 'load', file]);
    expect(JSON.parse(j.stdout)).toMatchObject({ read: 3000, inserted: 3000 });
  });
});
