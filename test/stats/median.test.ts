import { describe, expect, it } from 'vitest';
import { medianInterval, medianIntervalFromHistogram, medianRankInterval } from '../../src/stats/median.js';

/** Reference: binomial tail by exact summation of C(n, k) / 2^n with BigInt. */
function tail(n: number, k: number): number {
  let c = 1n;
  let sum = 0n;
  for (let i = 0; i <= k; i++) {
    sum += c;
    c = (c * BigInt(n - i)) / BigInt(i + 1);
  }
  return Number(sum) / 2 ** n;
}

describe('median rank interval', () => {
  it('gives the tabled ranks: n = 6 → (1, 6), n = 20 → (6, 15), n = 100 → (40, 61)', () => {
    expect(medianRankInterval(6)).toEqual([1, 6]);
    expect(medianRankInterval(20)).toEqual([6, 15]);
    expect(medianRankInterval(100)).toEqual([40, 61]);
  });

  it('has none below 6 samples', () => {
    expect(medianRankInterval(5)).toBeNull();
    expect(medianRankInterval(0)).toBeNull();
  });

  it('covers ≥ 95% and is the tightest that does (exact binomial reference)', () => {
    for (let n = 6; n <= 300; n++) {
      const [l, u] = medianRankInterval(n)!;
      expect(u).toBe(n - l + 1);
      expect(1 - 2 * tail(n, l - 1)).toBeGreaterThanOrEqual(0.95);
      expect(1 - 2 * tail(n, l)).toBeLessThan(0.95);
    }
  });
});

describe('median interval', () => {
  it('reads the order statistics of sorted samples', () => {
    const xs = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(medianInterval(xs)).toEqual({ median: 105, ci: [60, 150] });
    expect(medianInterval([3])).toEqual({ median: 3, ci: null });
  });

  it('widens to bin edges in a histogram', () => {
    // 20 samples: ranks 6 and 15. Bins of 60 s: 5 in [0,60), 5 in [60,120), 10 in [120,180)
    expect(medianIntervalFromHistogram([[0, 5], [60, 5], [120, 10]])).toEqual([60, 180]);
    // the rank falls exactly at a bin's last sample
    expect(medianIntervalFromHistogram([[0, 6], [60, 9], [120, 5]])).toEqual([0, 120]);
    expect(medianIntervalFromHistogram([[0, 3]])).toBeNull();
  });
});
