/**
 * A distribution-free confidence interval for a median, from order statistics: with n samples,
 * the number below the true median is Binomial(n, ½), so [x(l), x(n−l+1)] covers the median
 * with probability 1 − 2·P(B ≤ l−1). The largest l that keeps that at ≥ 95% is used. Times to
 * complete arrive as PostHog's time-to-convert histogram, so the ranks are located in bins and
 * the interval widened to the bins' edges (never narrower than the exact one). Pure functions.
 */
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import { ALPHA } from './proportions.js';

/**
 * 1-based ranks [l, u] of the order statistics that bound the median with confidence ≥ 1 − alpha;
 * null when n is too small for any such interval (n < 6 at 95%).
 */
export function medianRankInterval(n: number, alpha = ALPHA): [number, number] | null {
  if (n < 1) return null;
  let l = 0;
  // largest l with P(B ≤ l − 1) ≤ alpha / 2
  while (l + 1 <= n && binomialCdf(l, n, 0.5) <= alpha / 2) l++;
  if (l < 1) return null;
  return [l, n - l + 1];
}

/** Median of sorted samples, and its rank interval applied to them. */
export function medianInterval(sorted: readonly number[], alpha = ALPHA): { median: number | null; ci: [number, number] | null } {
  const n = sorted.length;
  if (n === 0) return { median: null, ci: null };
  const m = (n - 1) / 2;
  const median = (sorted[Math.floor(m)]! + sorted[Math.ceil(m)]!) / 2;
  const r = medianRankInterval(n, alpha);
  return { median, ci: r ? [sorted[r[0] - 1]!, sorted[r[1] - 1]!] : null };
}

/** [bin start, count] pairs with equal widths, as PostHog's time_to_convert results hold them. */
export type Histogram = readonly (readonly [number, number])[];

/**
 * The median's rank interval located in a histogram: from the start of the bin holding rank l
 * to the end of the bin holding rank u. Null when the histogram is empty or too small.
 */
export function medianIntervalFromHistogram(bins: Histogram, alpha = ALPHA): [number, number] | null {
  const n = bins.reduce((s, [, c]) => s + c, 0);
  const r = medianRankInterval(n, alpha);
  if (!r) return null;
  const width = bins.length >= 2 ? bins[1]![0] - bins[0]![0] : 0;
  let cum = 0;
  let lo: number | null = null;
  let hi: number | null = null;
  for (const [start, count] of bins) {
    if (count === 0) continue;
    const next = cum + count;
    if (lo === null && next >= r[0]) lo = start;
    if (hi === null && next >= r[1]) hi = start + width;
    cum = next;
  }
  return lo === null || hi === null ? null : [lo, hi];
}
