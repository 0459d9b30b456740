/**
 * The statistics against known answers: textbook cases (Fisher's tea tasting, R's documented
 * examples, Newcombe's 1998 worked examples) and reference implementations written here.
 */
import { describe, expect, it } from 'vitest';
import {
  compareProportions,
  fisherExactPValue,
  minimumDetectableChange,
  newcombeInterval,
  wilsonInterval,
  zTestPValue,
  zTestPower,
} from '../../src/stats/proportions.js';

/** Reference: Fisher's exact test from exact binomial coefficients over every table with these margins. */
function fisherReference(a: number, b: number, c: number, d: number): number {
  const choose = (n: number, k: number): bigint => {
    let r = 1n;
    for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
    return r;
  };
  const r1 = a + b;
  const r2 = c + d;
  const c1 = a + c;
  const all = choose(r1 + r2, c1);
  // P(X = x) = C(r1, x) · C(r2, c1 − x) / C(n, c1)
  const ways = (x: number) => choose(r1, x) * choose(r2, c1 - x);
  const obs = ways(a);
  let extreme = 0n;
  for (let x = Math.max(0, c1 - r2); x <= Math.min(r1, c1); x++) {
    const w = ways(x);
    if (Number(w) <= Number(obs) * (1 + 1e-7)) extreme += w;
  }
  return Number(extreme) / Number(all);
}

describe('Fisher exact test', () => {
  it("gives the tea-tasting answer (3 of 4 vs 1 of 4: p = 0.4857)", () => {
    expect(fisherExactPValue({ x: 3, n: 4 }, { x: 1, n: 4 })).toBeCloseTo(0.485714, 5);
  });

  it("gives R's fisher.test answer for [[1, 9], [11, 3]] (p = 0.002759)", () => {
    expect(fisherExactPValue({ x: 1, n: 10 }, { x: 11, n: 14 })).toBeCloseTo(0.002759, 6);
  });

  it('matches a reference enumeration over many small tables', () => {
    for (let n1 = 1; n1 <= 9; n1 += 2) {
      for (let n2 = 1; n2 <= 8; n2 += 3) {
        for (let x1 = 0; x1 <= n1; x1++) {
          for (let x2 = 0; x2 <= n2; x2++) {
            const ref = fisherReference(x1, n1 - x1, x2, n2 - x2);
            expect(fisherExactPValue({ x: x1, n: n1 }, { x: x2, n: n2 })).toBeCloseTo(ref, 9);
          }
        }
      }
    }
  });
});

describe('two-proportion z-test', () => {
  it('gives prop.test(c(50, 65), c(100, 100), correct = FALSE): X² = 4.6036, p = 0.0319', () => {
    // by hand: pooled 0.575, se = sqrt(0.575·0.425·0.02) = 0.069911, z = 0.15 / se = 2.14559
    expect(zTestPValue({ x: 50, n: 100 }, { x: 65, n: 100 })).toBeCloseTo(0.031904, 5);
  });

  it('is 1 when both rates are 0 or both are 1', () => {
    expect(zTestPValue({ x: 0, n: 50 }, { x: 0, n: 60 })).toBe(1);
    expect(zTestPValue({ x: 50, n: 50 }, { x: 60, n: 60 })).toBe(1);
  });
});

describe('confidence intervals', () => {
  it("Wilson's interval for 81 of 263 is 0.2553–0.3662 (Newcombe 1998)", () => {
    const [lo, hi] = wilsonInterval({ x: 81, n: 263 });
    expect(lo).toBeCloseTo(0.2553, 4);
    expect(hi).toBeCloseTo(0.3662, 4);
  });

  it("Newcombe's hybrid interval reproduces his worked examples", () => {
    const a = newcombeInterval({ x: 48, n: 80 }, { x: 56, n: 70 });
    expect(a[0]).toBeCloseTo(0.0524, 4);
    expect(a[1]).toBeCloseTo(0.3339, 4);
    const b = newcombeInterval({ x: 3, n: 10 }, { x: 9, n: 10 });
    expect(b[0]).toBeCloseTo(0.1705, 4);
    expect(b[1]).toBeCloseTo(0.809, 4);
    const c = newcombeInterval({ x: 0, n: 29 }, { x: 5, n: 56 });
    expect(c[0]).toBeCloseTo(-0.0381, 4);
    expect(c[1]).toBeCloseTo(0.1926, 4);
  });
});

describe('compareProportions', () => {
  it('uses the z-test for large counts and says the change is significant', () => {
    const r = compareProportions({ x: 50, n: 100 }, { x: 65, n: 100 });
    expect(r.method).toBe('z-test');
    expect(r.difference).toBeCloseTo(0.15, 12);
    expect(r.significant).toBe(true);
    expect(r.ci![0]).toBeGreaterThan(0);
  });

  it('switches to the exact test when an expected count is under 5', () => {
    // expected counts of [[1, 7], [7, 2]]: 8·8/17 = 3.8 < 5
    const r = compareProportions({ x: 1, n: 8 }, { x: 7, n: 9 });
    expect(r.method).toBe('fisher-exact');
    expect(r.pValue).toBeCloseTo(fisherReference(1, 7, 7, 2), 12);
    // [[1, 9], [11, 3]] has expected counts of exactly 5: the z-test still applies
    expect(compareProportions({ x: 1, n: 10 }, { x: 11, n: 14 }).method).toBe('z-test');
    expect(r.significant).toBe(true);
    const small = compareProportions({ x: 3, n: 4 }, { x: 1, n: 4 });
    expect(small.method).toBe('fisher-exact');
    expect(small.significant).toBe(false);
  });

  it('has no test when a period has no sessions, and rejects impossible counts', () => {
    expect(compareProportions({ x: 0, n: 0 }, { x: 3, n: 9 })).toMatchObject({ ci: null, pValue: null, significant: false, method: 'none' });
    expect(() => compareProportions({ x: 5, n: 4 }, { x: 1, n: 4 })).toThrow(/5 of 4/);
  });
});

describe('minimum detectable change', () => {
  it('is the textbook (z½α + zβ)·sqrt(2p(1−p)/n) for equal groups at p = 0.5', () => {
    // 2.80 · sqrt(0.25 · 2 / 1000) = 0.0626; the exact power equation moves it by < 0.001
    const mde = minimumDetectableChange(0.5, 1000, 1000)!;
    expect(mde).toBeCloseTo(0.0626, 3);
    expect(zTestPower(0.5, 1000, 1000, mde)).toBeCloseTo(0.8, 6);
  });

  it('shrinks as samples grow and is null for empty groups', () => {
    expect(minimumDetectableChange(0.3, 4000, 4000)!).toBeLessThan(minimumDetectableChange(0.3, 400, 400)!);
    expect(minimumDetectableChange(0.3, 0, 10)).toBeNull();
  });

  it('agrees with a simulation of the test on that change (reference)', () => {
    // a seeded LCG, then binomial draws: the share of significant results is the power
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const draw = (n: number, p: number) => {
      let x = 0;
      for (let i = 0; i < n; i++) if (rand() < p) x++;
      return x;
    };
    const mde = minimumDetectableChange(0.4, 300, 300)!;
    let hits = 0;
    const runs = 1000;
    for (let i = 0; i < runs; i++) {
      if (zTestPValue({ x: draw(300, 0.4), n: 300 }, { x: draw(300, 0.4 - mde), n: 300 }) < 0.05) hits++;
    }
    expect(hits / runs).toBeGreaterThan(0.75);
    expect(hits / runs).toBeLessThan(0.85);
  });
});
