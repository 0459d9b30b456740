import { describe, expect, it } from 'vitest';
import { correlate, isInsignificant, oddsRatio } from '../../src/stats/odds.js';

describe('funnel correlation odds ratios (PostHog formula)', () => {
  it("gives PostHog's docstring example with the prior of 1", () => {
    // watched video: 5 succeeded, 1 failed; totals 7 successes, 11 failures
    // (5 + 1)(11 − 1 + 1) / ((7 − 5 + 1)(1 + 1)) = 66 / 6 = 11
    expect(oddsRatio(5, 1, 7, 11)).toBe(11);
    // without the prior it is the textbook 25
    expect(oddsRatio(5, 1, 7, 11, 0)).toBe(25);
  });

  it('drops values seen by fewer than min(25, 2% of actors)', () => {
    expect(isInsignificant(10, 14, 500, 500)).toBe(false); // 24 ≥ min(25, 20)
    expect(isInsignificant(10, 9, 500, 500)).toBe(true); // 19 < 20
    expect(isInsignificant(3, 2, 100, 100)).toBe(false); // 5 ≥ min(25, 4)
    expect(isInsignificant(24, 0, 5000, 5000)).toBe(true); // 24 < 25
  });

  it('sorts success correlations strongest first, failures weakest ratio first, ten each', () => {
    const rows = Array.from({ length: 30 }, (_, i) => ({ key: `v${i}`, successCount: i * 3, failureCount: (29 - i) * 3 }));
    const r = correlate(rows, 300, 300);
    const success = r.rows.filter((x) => x.correlation === 'success');
    const failure = r.rows.filter((x) => x.correlation === 'failure');
    expect(success).toHaveLength(10);
    expect(failure).toHaveLength(10);
    expect(success[0]!.key).toBe('v29');
    expect(failure[0]!.key).toBe('v0');
    for (let i = 1; i < 10; i++) {
      expect(success[i]!.oddsRatio).toBeLessThanOrEqual(success[i - 1]!.oddsRatio);
      expect(failure[i]!.oddsRatio).toBeGreaterThanOrEqual(failure[i - 1]!.oddsRatio);
    }
    expect(r.skewed).toBe(false);
  });

  it('marks significance with a test of success with vs without the value', () => {
    // 40 of 50 sessions with the value succeed, 60 of 150 without it do
    const [row] = correlate([{ key: 'x', successCount: 40, failureCount: 10 }], 100, 100).rows;
    expect(row!.correlation).toBe('success');
    expect(row!.significant).toBe(true);
    const [flat] = correlate([{ key: 'y', successCount: 25, failureCount: 25 }], 100, 100).rows;
    expect(flat!.significant).toBe(false);
  });

  it('returns nothing, skewed, when one outcome is missing; flags a 10:1 skew', () => {
    expect(correlate([{ key: 'x', successCount: 5, failureCount: 0 }], 50, 0)).toEqual({ rows: [], skewed: true });
    expect(correlate([], 110, 10).skewed).toBe(true);
  });
});
