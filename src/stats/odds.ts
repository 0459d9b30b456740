/**
 * Funnel correlation as PostHog computes it (FunnelCorrelationQuery): for each event or property
 * value, the sessions (actors) that had it and succeeded or failed, against the totals, give an
 * odds ratio with a prior of 1 added to every cell; values seen by fewer than min(25, 2% of all)
 * actors are dropped; the ten strongest each way are kept. A `significant` flag is added here (a
 * two-proportion test of success with vs without the value), which PostHog does not compute.
 * Pure functions.
 */
import { compareProportions } from './proportions.js';

export const MIN_ACTOR_COUNT = 25;
export const MIN_ACTOR_SHARE = 0.02;
export const PRIOR_COUNT = 1;
export const TOP_N = 10;

export interface ContingencyRow<K> {
  key: K;
  /** actors with the value that succeeded / failed */
  successCount: number;
  failureCount: number;
}

export interface OddsRow<K> extends ContingencyRow<K> {
  oddsRatio: number;
  correlation: 'success' | 'failure';
  significant: boolean;
  pValue: number | null;
}

export function oddsRatio(s: number, f: number, successTotal: number, failureTotal: number, prior = PRIOR_COUNT): number {
  return ((s + prior) * (failureTotal - f + prior)) / ((successTotal - s + prior) * (f + prior));
}

export function isInsignificant(s: number, f: number, successTotal: number, failureTotal: number): boolean {
  return s + f < Math.min(MIN_ACTOR_COUNT, MIN_ACTOR_SHARE * (successTotal + failureTotal));
}

export interface Correlations<K> {
  rows: OddsRow<K>[];
  /** one outcome outnumbers the other more than 10 to 1 */
  skewed: boolean;
}

export function correlate<K>(rows: ContingencyRow<K>[], successTotal: number, failureTotal: number): Correlations<K> {
  if (!successTotal || !failureTotal) return { rows: [], skewed: true };
  const skewed = successTotal / failureTotal > 10 || failureTotal / successTotal > 10;
  const scored = rows
    .filter((r) => !isInsignificant(r.successCount, r.failureCount, successTotal, failureTotal))
    .map((r): OddsRow<K> => {
      const ratio = oddsRatio(r.successCount, r.failureCount, successTotal, failureTotal);
      const withIt = { x: r.successCount, n: r.successCount + r.failureCount };
      const without = { x: successTotal - r.successCount, n: successTotal + failureTotal - withIt.n };
      const test = compareProportions(without, withIt);
      return { ...r, oddsRatio: ratio, correlation: ratio > 1 ? 'success' : 'failure', significant: test.significant, pValue: test.pValue };
    });
  const success = scored.filter((r) => r.correlation === 'success').sort((a, b) => b.oddsRatio - a.oddsRatio);
  const failure = scored.filter((r) => r.correlation === 'failure').sort((a, b) => a.oddsRatio - b.oddsRatio);
  return { rows: [...success.slice(0, TOP_N), ...failure.slice(0, TOP_N)], skewed };
}
