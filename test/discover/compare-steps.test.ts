/**
 * Step comparisons on a stream with an optional step: a session may skip an optional step, so the
 * step after it is a share of the previous REQUIRED step. Comparing with the optional step threw
 * "2 of 0 is not a proportion" (the digest exited 70) when no session showed the optional step.
 */
import { describe, expect, it } from 'vitest';
import { stepComparisons } from '../../src/discover/compare.js';
import type { FunnelStepRow, TrackFunnelReport } from '../../src/discover/funnel.js';

function step(i: number, key: string, count: number, optional = false): FunnelStepRow {
  return {
    step: i + 1,
    key,
    name: key,
    event: `tp.ui.discover.${key}`,
    count,
    optional,
    conversionFromPrevious: null,
    conversionFromFirst: 0,
    dropOff: 0,
    medianSeconds: null,
    averageSeconds: null,
  } as FunnelStepRow;
}

function report(counts: [number, number, number, number]): TrackFunnelReport {
  const steps = [
    step(0, 'started', counts[0]),
    step(1, 'mfaAuthentication', counts[1], true), // optional: only when per-session MFA is on
    step(2, 'deployService', counts[2]),
    step(3, 'completed', counts[3], true), // optional: lost when the tab closes on Finished
  ];
  return {
    slug: 'server',
    title: 'Server',
    resource: 'server',
    steps,
    sessions: counts[0],
    completed: counts[2],
    addedAt: 'deployService',
    completedEventSent: counts[3],
    completionRate: counts[0] ? counts[2] / counts[0] : 0,
    medianSecondsToComplete: null,
    averageSecondsToComplete: null,
    warnings: [],
  };
}

describe('stepComparisons with optional steps', () => {
  it('compares a required step with the previous required step, not with an optional one nobody showed', () => {
    const before = report([4, 0, 2, 1]);
    const after = report([5, 1, 4, 0]);
    const steps = stepComparisons(before, after);
    expect(steps.map((s) => s.key)).toEqual(['deployService']);
    const [s] = steps;
    expect(s!.before).toEqual({ entered: 4, reached: 2, rate: 0.5 });
    expect(s!.after).toEqual({ entered: 5, reached: 4, rate: 0.8 });
    expect(s!.verdict).toBe('no detectable change');
  });

  it('without optional steps compares each step with the one before', () => {
    const r = (n: number[]): TrackFunnelReport => ({ ...report([n[0]!, 0, 0, 0]), steps: n.map((c, i) => step(i, `s${i}`, c)) });
    const steps = stepComparisons(r([100, 80, 40]), r([100, 90, 81]));
    expect(steps.map((s) => [s.key, s.before.entered, s.before.reached, s.after.entered, s.after.reached])).toEqual([
      ['s1', 100, 80, 100, 90],
      ['s2', 80, 40, 90, 81],
    ]);
    expect(steps[1]!.verdict).toBe('improved');
  });
});
