import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/replay/progress.js';

describe('replay progress', () => {
  it('prints plain lines every 10% (and at the end) when not on a terminal', () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress({ total: 1000, start: 0, tty: false, quiet: false, write: (s) => out.push(s), now: () => t });
    for (let d = 0; d <= 1000; d += 50) {
      t += 100;
      p.update(d);
    }
    p.done(1000);
    expect(out.every((l) => l.startsWith('replay: ') && l.endsWith('\n'))).toBe(true);
    expect(out).toHaveLength(11);
    expect(out.at(-1)).toBe('replay: 1,000/1,000 events (100%), 476 events/s\n');
  });

  it('redraws one bar with events/s on a terminal, at most every 100 ms', () => {
    let t = 0;
    const out: string[] = [];
    const p = createProgress({ total: 200, start: 100, tty: true, quiet: false, write: (s) => out.push(s), now: () => t });
    t = 150;
    p.update(150);
    t = 200;
    p.update(160); // too soon, skipped
    t = 1000;
    p.done(200);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^\r\x1b\[2Kreplay \[#{23}\.{7}\] 150\/200 events \(75%\), 333 events\/s$/);
    expect(out[1]).toContain('200/200 events (100%), 100 events/s');
    expect(out[2]).toBe('\n');
  });

  it('is silent with --quiet', () => {
    const out: string[] = [];
    const p = createProgress({ total: 10, start: 0, tty: true, quiet: true, write: (s) => out.push(s) });
    p.update(5);
    p.done(10);
    expect(out).toEqual([]);
  });
});
