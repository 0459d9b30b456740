import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, formatBytes, type ProgressOptions } from '../../src/output/progress.js';

function fake(o: Partial<ProgressOptions> & Pick<ProgressOptions, 'tty'>) {
  const clock = { t: 0 };
  const out: string[] = [];
  const p = createProgress({ label: 'replay', unit: 'events', quiet: false, write: (s) => out.push(s), now: () => clock.t, ...o });
  return { p, out, clock };
}

describe('progress line', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.useRealTimers();
  });

  it('prints plain lines at most once per interval (and the final state) when not on a terminal', () => {
    const { p, out, clock } = fake({ tty: false, total: 1000, intervalMs: 5000 });
    for (let d = 0; d <= 1000; d += 10) {
      clock.t += 210; // 100 updates over 21 s
      p.update(d);
    }
    p.done(1000);
    expect(out.every((l) => l.startsWith('replay: ') && l.endsWith('\n'))).toBe(true);
    // the first update (0.21 s), then one per 5 s at most (5.25, 10.29, 15.33, 20.37 s), and done
    expect(out).toHaveLength(6);
    expect(out[1]).toBe('replay: 240/1,000 events (24%), 46 events/s, ETA 17s\n');
    expect(out.at(-1)).toBe('replay: 1,000/1,000 events (100%), 47 events/s\n');
  });

  it('takes the plain interval from DISCOVER_METRICS_PROGRESS_INTERVAL', () => {
    vi.stubEnv('DISCOVER_METRICS_PROGRESS_INTERVAL', '1000');
    const { p, out, clock } = fake({ tty: false, total: 100 });
    for (let d = 1; d <= 100; d++) {
      clock.t += 100; // 10 s
      p.update(d);
    }
    expect(out).toHaveLength(10);
  });

  it('redraws one bar with the rate and an ETA on a terminal, at most every 100 ms', () => {
    const { p, out, clock } = fake({ tty: true, total: 200, start: 100, columns: 200 });
    clock.t = 1500;
    p.update(150);
    clock.t = 1550;
    p.update(160); // too soon, skipped
    clock.t = 2000;
    p.done(200);
    expect(out).toHaveLength(3);
    // the rate excludes the 100 events done before this run (a resumed replay)
    expect(out[0]).toBe('\r\x1b[2Kreplay [#{23}.{7}] 150/200 events (75%), 33 events/s, ETA 2s'.replace('#{23}', '#'.repeat(23)).replace('.{7}', '.'.repeat(7)));
    expect(out[1]).toBe('\r\x1b[2Kreplay [' + '#'.repeat(30) + '] 200/200 events (100%), 50 events/s');
    expect(out[2]).toBe('\n');
  });

  it('counts bytes with a second count, or only counts and a rate when the total is unknown', () => {
    const known = fake({ tty: false, unit: 'bytes', total: 50_000_000, label: 'load' });
    known.clock.t = 2000;
    known.p.update(12_500_000, '~20,000 events');
    expect(known.out).toEqual(['load: 12.5 MB/50.0 MB (25%) · ~20,000 events, 6.25 MB/s, ETA 6s\n']);
    const stdin = fake({ tty: false, unit: 'bytes', label: 'load' });
    stdin.clock.t = 4000;
    stdin.p.update(2_000_000, '3,000 lines from stdin');
    expect(stdin.out).toEqual(['load: 2.00 MB · 3,000 lines from stdin, 500 kB/s\n']);
  });

  it('says what a phase is doing and for how long, and keeps the line alive while it lasts', () => {
    vi.useFakeTimers();
    const { p, out, clock } = fake({ tty: true, label: 'load', unit: 'bytes', total: 10 });
    p.update(10);
    clock.t = 100;
    p.phase('removing duplicate uuids');
    expect(out.at(-1)).toBe('\r\x1b[2Kload removing duplicate uuids…');
    clock.t = 3200;
    vi.advanceTimersByTime(3000);
    expect(out.at(-1)).toBe('\r\x1b[2Kload removing duplicate uuids… 3s');
    p.done();
    expect(out.at(-2)).toMatch(/^\r\x1b\[2Kload \[#+\] 10 B\/10 B \(100%\)/);
    const drawn = out.length;
    vi.advanceTimersByTime(5000);
    expect(out).toHaveLength(drawn); // the ticker stopped
  });

  it('cuts the terminal line to the width of the terminal', () => {
    const { p, out } = fake({ tty: true, total: 10, columns: 20 });
    p.update(5);
    expect(out[0]).toBe('\r\x1b[2K' + 'replay [###############'.slice(0, 19));
  });

  it('is silent with --quiet', () => {
    const out: string[] = [];
    const p = createProgress({ label: 'x', unit: 'events', total: 10, tty: true, quiet: true, write: (s) => out.push(s) });
    p.update(5);
    p.phase('x');
    p.done(10);
    expect(out).toEqual([]);
  });

  it('formats bytes in decimal units', () => {
    expect([0, 999, 1000, 45_200_000, 1_300_000_000].map(formatBytes)).toEqual(['0 B', '999 B', '1.00 kB', '45.2 MB', '1.30 GB']);
  });
});
