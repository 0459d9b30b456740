import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempStore, type TempStore } from './helpers.js';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import type { QueryContext } from '../../../src/engines/types.js';

const ctx: QueryContext = { timezone: 'UTC', weekStart: 0, now: new Date('2024-02-01T00:00:00Z') };
type Step = { count: number; median_conversion_time: number | null };

let t: TempStore;
beforeAll(async () => {
  t = await tempStore(
    [
      // a: first seen Jan 2, keeps visiting, converts Jan 5 -> 3 days from FIRST seen
      { event: 'visit', distinct_id: 'a', timestamp: '2024-01-02T00:00:00Z', properties: { kind: 'web' } },
      { event: 'visit', distinct_id: 'a', timestamp: '2024-01-04T00:00:00Z', properties: { kind: 'app' } },
      { event: 'visit', distinct_id: 'a', timestamp: '2024-01-04T23:00:00Z', properties: { kind: 'app' } },
      { event: 'convert', distinct_id: 'a', timestamp: '2024-01-05T00:00:00Z', properties: {} },
      // b: first seen before the range -> never enters a first-time funnel in range
      { event: 'visit', distinct_id: 'b', timestamp: '2023-12-20T00:00:00Z', properties: { kind: 'web' } },
      { event: 'visit', distinct_id: 'b', timestamp: '2024-01-10T00:00:00Z', properties: { kind: 'app' } },
      { event: 'convert', distinct_id: 'b', timestamp: '2024-01-11T00:00:00Z', properties: {} },
    ],
    [],
  );
});
afterAll(async () => t.cleanup());

describe('series math first_time_for_user in funnels', () => {
  it('matches only the first-ever event, so later events do not restart the attempt', async () => {
    const e = localEngineForStore(t.store);
    const dateRange = { date_from: '2024-01-01', date_to: '2024-01-31' };
    const plain = await e.run({ kind: 'FunnelsQuery', dateRange, series: [{ kind: 'EventsNode', event: 'visit' }, { kind: 'EventsNode', event: 'convert' }] }, ctx);
    // without the math every visit starts a new attempt: a converts 1 hour after its last visit
    expect((plain.results as Step[]).map((s) => s.count)).toEqual([2, 2]);
    const first = await e.run(
      { kind: 'FunnelsQuery', dateRange, series: [{ kind: 'EventsNode', event: 'visit', math: 'first_time_for_user' }, { kind: 'EventsNode', event: 'convert' }] },
      ctx,
    );
    const steps = first.results as Step[];
    expect(steps.map((s) => s.count)).toEqual([1, 1]);
    expect(steps[1]!.median_conversion_time).toBe(3 * 86400);
  });

  it('with_filters: the first event that also passes the step filters', async () => {
    const e = localEngineForStore(t.store);
    const dateRange = { date_from: '2024-01-01', date_to: '2024-01-31' };
    const r = await e.run(
      {
        kind: 'FunnelsQuery',
        dateRange,
        series: [
          { kind: 'EventsNode', event: 'visit', math: 'first_time_for_user_with_filters', properties: [{ key: 'kind', value: ['app'], operator: 'exact', type: 'event' }] },
          { kind: 'EventsNode', event: 'convert' },
        ],
      },
      ctx,
    );
    // a's first app visit is Jan 4 (1 day before converting); b's first app visit is Jan 10
    const steps = r.results as Step[];
    expect(steps.map((s) => s.count)).toEqual([2, 2]);
    expect(steps[1]!.median_conversion_time).toBe(86400);
  });
});
