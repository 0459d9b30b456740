/**
 * Comparing two proportions (a conversion rate before and after a change). Pure functions.
 *
 *  - difference: after − before, with Newcombe's hybrid score interval (his method 10, built
 *    from two Wilson intervals): it keeps its coverage for small counts and rates near 0 or 1,
 *    where the textbook Wald interval does not.
 *  - p-value: the pooled two-proportion z-test (the same as a χ² test without continuity
 *    correction) when every expected cell count is at least 5, else Fisher's exact test
 *    (two-sided: the sum of the tables no more likely than the one observed).
 *  - the minimum detectable change: the smallest difference the same sample sizes would find
 *    significant with 80% power.
 * The distribution functions come from stdlib; what it lacks (these tests) is written here.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import hypergeometricPmf from '@stdlib/stats-base-dists-hypergeometric-pmf';

export const ALPHA = 0.05;
export const POWER = 0.8;

export interface Proportion {
  /** successes */
  x: number;
  /** trials */
  n: number;
}

export interface ProportionTest {
  /** after.rate − before.rate (0 when either has no trials) */
  difference: number;
  /** confidence interval of the difference; null when either group is empty */
  ci: [number, number] | null;
  /** two-sided p-value; null when either group is empty or no test is possible */
  pValue: number | null;
  method: 'z-test' | 'fisher-exact' | 'none';
  significant: boolean;
}

/** z such that P(|Z| ≤ z) = 1 − alpha. */
export function zCritical(alpha = ALPHA): number {
  return normalQuantile(1 - alpha / 2, 0, 1);
}

/** Wilson score interval of one proportion. */
export function wilsonInterval(p: Proportion, alpha = ALPHA): [number, number] {
  if (p.n <= 0) return [0, 1];
  const z = zCritical(alpha);
  const phat = p.x / p.n;
  const z2 = z * z;
  const centre = (phat + z2 / (2 * p.n)) / (1 + z2 / p.n);
  const half = (z / (1 + z2 / p.n)) * Math.sqrt((phat * (1 - phat)) / p.n + z2 / (4 * p.n * p.n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Newcombe's hybrid score interval for after − before. */
export function newcombeInterval(before: Proportion, after: Proportion, alpha = ALPHA): [number, number] {
  const p1 = before.x / before.n;
  const p2 = after.x / after.n;
  const [l1, u1] = wilsonInterval(before, alpha);
  const [l2, u2] = wilsonInterval(after, alpha);
  const d = p2 - p1;
  const lo = d - Math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2);
  const hi = d + Math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2);
  return [Math.max(-1, lo), Math.min(1, hi)];
}

/** Pooled two-proportion z-test, two-sided. */
export function zTestPValue(before: Proportion, after: Proportion): number {
  const pooled = (before.x + after.x) / (before.n + after.n);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / before.n + 1 / after.n));
  if (se === 0) return 1; // both rates 0 or both 1: no evidence of a difference
  const z = Math.abs(after.x / after.n - before.x / before.n) / se;
  return Math.min(1, 2 * (1 - normalCdf(z, 0, 1)));
}

/** Fisher's exact test on the 2×2 table [before.x, before.n−x; after.x, after.n−x], two-sided. */
export function fisherExactPValue(before: Proportion, after: Proportion): number {
  const total = before.n + after.n;
  const successes = before.x + after.x;
  const lo = Math.max(0, before.n - (total - successes));
  const hi = Math.min(before.n, successes);
  const observed = hypergeometricPmf(before.x, total, successes, before.n);
  let p = 0;
  // R's rule: tables within a relative 1e-7 of the observed probability count as "as extreme"
  for (let k = lo; k <= hi; k++) {
    const pk = hypergeometricPmf(k, total, successes, before.n);
    if (pk <= observed * (1 + 1e-7)) p += pk;
  }
  return Math.min(1, p);
}

/** Smallest expected cell count of the 2×2 table under the null hypothesis. */
export function minExpectedCount(before: Proportion, after: Proportion): number {
  const total = before.n + after.n;
  const successes = before.x + after.x;
  const failures = total - successes;
  return Math.min(before.n, after.n) * Math.min(successes, failures) / total;
}

export function compareProportions(before: Proportion, after: Proportion, alpha = ALPHA): ProportionTest {
  for (const [name, p] of [['before', before], ['after', after]] as const) {
    if (!Number.isInteger(p.x) || !Number.isInteger(p.n) || p.x < 0 || p.n < 0 || p.x > p.n) {
      throw new RangeError(`${name}: ${p.x} of ${p.n} is not a proportion`);
    }
  }
  if (before.n === 0 || after.n === 0) {
    return { difference: 0, ci: null, pValue: null, method: 'none', significant: false };
  }
  const difference = after.x / after.n - before.x / before.n;
  const exact = minExpectedCount(before, after) < 5;
  const pValue = exact ? fisherExactPValue(before, after) : zTestPValue(before, after);
  return {
    difference,
    ci: newcombeInterval(before, after, alpha),
    pValue,
    method: exact ? 'fisher-exact' : 'z-test',
    significant: pValue < alpha,
  };
}

/** Power of the two-sided pooled z-test to detect after = before + delta. */
export function zTestPower(p1: number, n1: number, n2: number, delta: number, alpha = ALPHA): number {
  const p2 = p1 + delta;
  if (p2 < 0 || p2 > 1 || n1 <= 0 || n2 <= 0) return 0;
  const pbar = (n1 * p1 + n2 * p2) / (n1 + n2);
  const se0 = Math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2));
  const se1 = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  if (se1 === 0) return se0 === 0 ? 0 : 1;
  const z = zCritical(alpha);
  const d = Math.abs(delta);
  return normalCdf((d - z * se0) / se1, 0, 1) + normalCdf((-d - z * se0) / se1, 0, 1);
}

/**
 * The smallest change of the rate (in either direction, as a positive number) that these sample
 * sizes detect with the given power, from a baseline rate p1; null when no change within [0, 1]
 * reaches that power.
 */
export function minimumDetectableChange(p1: number, n1: number, n2: number, alpha = ALPHA, power = POWER): number | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const solve = (sign: 1 | -1): number | null => {
    const room = sign === 1 ? 1 - p1 : p1;
    if (room <= 0 || zTestPower(p1, n1, n2, sign * room, alpha) < power) return null;
    let lo = 0;
    let hi = room;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (zTestPower(p1, n1, n2, sign * mid, alpha) >= power) hi = mid;
      else lo = mid;
    }
    return hi;
  };
  const up = solve(1);
  const down = solve(-1);
  if (up === null) return down;
  if (down === null) return up;
  return Math.min(up, down);
}
