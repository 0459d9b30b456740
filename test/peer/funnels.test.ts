// A few funnel cases from PostHog's test suite end to end through the CLI, as hidden cases are
// checked: PostHog-shaped JSONL -> `discover-metrics load` -> `discover-metrics query run --format json`.
// Each is picked for what the CLI adds on top of the engine (--timezone, --now, actors queries in
// one run, every visualisation); every funnel case runs in-process in test/engines/local/peer-inprocess.test.ts.
import { describe, expect, it } from 'vitest';
import { checkFunnelCase, loadCaseViaCli, loadPeerCases } from './harness.js';

const CLI_CASES = [
  'funnel_dst_does_not_change_window_us_pacific', // --timezone
  'funnel_tie_different_events_same_timestamp_convert', // --now, actors
  'funnel_breakdown_limit_with_null_value', // breakdown, actors by breakdown value
  'funnel_ttc_auto_bins', // time to convert
  'funnel_trends_daily_1_day_window', // funnel trends: days and labels
];
const cases = loadPeerCases().cases.filter((c) => CLI_CASES.includes(c.id));

describe.concurrent('PostHog funnel peer cases through the CLI', () => {
  it('finds every case it names', () => expect(cases.map((c) => c.id).sort()).toEqual([...CLI_CASES].sort()));
  for (const c of cases) {
    it(c.id, async () => {
      const run = await loadCaseViaCli(c);
      try {
        expect(await checkFunnelCase(c, (qs) => run.runMany(qs))).toEqual([]);
      } finally {
        run.cleanup();
      }
    });
  }
});
