// The lifecycle, retention and stickiness peer cases end to end, as hidden cases are checked:
// PostHog-shaped JSONL -> `discover-metrics load` -> `discover-metrics query run --format json`.
import { describe, expect, it } from 'vitest';
import { loadCaseViaCli, loadPeerCases } from './harness.js';
import { checkInsight, type InsightExpected } from './insight-check.js';

const KINDS = ['LifecycleQuery', 'RetentionQuery', 'StickinessQuery'];
const cases = loadPeerCases().cases.filter((c) => KINDS.includes(c.query.kind));

describe.concurrent('PostHog lifecycle / retention / stickiness peer cases through the CLI', () => {
  it('has cases of every kind', () => {
    for (const k of KINDS) expect(cases.filter((c) => c.query.kind === k).length, k).toBeGreaterThan(2);
  });
  for (const c of cases) {
    it(c.id, async () => {
      const run = await loadCaseViaCli(c);
      try {
        const [res] = await run.runMany([c.query]);
        expect(checkInsight(c.expected as unknown as InsightExpected, res!.results as Record<string, unknown>[])).toEqual([]);
      } finally {
        run.cleanup();
      }
    });
  }
});
