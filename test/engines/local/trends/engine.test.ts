// Trends engine behaviour beyond the transcribed peer cases, with hand-computed expectations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrends } from '../../../../src/engines/local/trends/index.js';
import type { TrendsQuery } from '../../../../src/query/schema.js';
import type { Store } from '../../../../src/store/store.js';
import { storeWith, type TestEvent } from './helpers.js';
import { BREAKDOWN_NULL, BREAKDOWN_OTHER } from '../../../../src/engines/local/trends/breakdown.js';
import { QueryValidationError } from '../../../../src/errors.js';

const utc = (now = '2024-03-10T12:00:00Z', over: Partial<{ timezone: string; weekStart: 0 | 1 }> = {}) => ({
  timezone: 'UTC',
  weekStart: 0 as 0 | 1,
  now: new Date(now),
  ...over,
});
const q = (o: Record<string, unknown>): TrendsQuery => ({ kind: 'TrendsQuery', ...o }) as TrendsQuery;
type R = Record<string, any>;
const results = async (store: Store, query: TrendsQuery, ctx = utc()) => (await runTrends(store, query, ctx)).results as R[];

describe('breakdowns', () => {
  let store: Store;
  beforeAll(async () => {
    const events: TestEvent[] = [];
    // 30 values v00..v29; value vNN gets NN+1 events (v29 most); plus 3 events without the property
    for (let v = 0; v < 30; v++) {
      for (let k = 0; k <= v; k++) events.push({ event: 'e', distinct_id: `u${k}`, timestamp: '2024-03-05T10:00:00Z', properties: { val: `v${String(v).padStart(2, '0')}` } });
    }
    for (let k = 0; k < 3; k++) events.push({ event: 'e', distinct_id: `n${k}`, timestamp: '2024-03-06T10:00:00Z', properties: { val: '' } });
    store = await storeWith(events, []);
  });
  afterAll(() => store.close());

  it('keeps the top 25 values, folds the rest into other, null after the values', async () => {
    const res = await runTrends(store, q({ series: [{ kind: 'EventsNode', event: 'e' }], dateRange: { date_from: '-7d' }, breakdownFilter: { breakdown: 'val' } }), utc());
    const rs = res.results as R[];
    expect(res.hasMore).toBe(true);
    expect(rs.length).toBe(26);
    expect(rs[0]!.breakdown_value).toBe('v29');
    expect(rs[0]!.count).toBe(30);
    expect(rs[24]!.breakdown_value).toBe('v05');
    // ranks 26..31: v04..v00 (5+4+3+2+1 = 15 events) and the null value (3) → other = 18
    expect(rs[25]!.breakdown_value).toBe(BREAKDOWN_OTHER);
    expect(rs[25]!.count).toBe(18);
    expect(rs.map((r) => r.label)).not.toContain(BREAKDOWN_NULL);
  });

  it('shows the null value when it fits in the limit (ranked after real values)', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'e' }], dateRange: { date_from: '-7d' }, breakdownFilter: { breakdown: 'val', breakdown_limit: 40 } }));
    expect(rs.length).toBe(31);
    expect(rs[30]!.breakdown_value).toBe(BREAKDOWN_NULL);
    expect(rs[30]!.count).toBe(3);
    expect(rs[29]!.breakdown_value).toBe('v00');
  });

  it('hides other when asked but still reports hasMore', async () => {
    const res = await runTrends(store, q({ series: [{ kind: 'EventsNode', event: 'e' }], dateRange: { date_from: '-7d' }, breakdownFilter: { breakdown: 'val', breakdown_limit: 3, breakdown_hide_other_aggregation: true } }), utc());
    expect(res.hasMore).toBe(true);
    expect((res.results as R[]).map((r) => r.breakdown_value)).toEqual(['v29', 'v28', 'v27']);
  });

  it('total value displays rank by aggregated value and sum the rest into other', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'e', math: 'dau' }], dateRange: { date_from: '-7d' }, trendsFilter: { display: 'ActionsPie' }, breakdownFilter: { breakdown: 'val', breakdown_limit: 2 } }));
    expect(rs.map((r) => [r.breakdown_value, r.aggregated_value])).toEqual([
      ['v29', 30],
      ['v28', 29],
      [BREAKDOWN_OTHER, 3 + [...Array(28).keys()].reduce((a, v) => a + v + 1, 0)],
    ]);
    expect(rs[0]!.data).toEqual([]);
    expect(rs[0]!.days).toEqual([]);
  });
});

describe('math', () => {
  let store: Store;
  beforeAll(async () => {
    store = await storeWith(
      [
        { event: 'open', distinct_id: 'a', timestamp: '2024-03-01T09:00:00Z', properties: { $session_id: 's1', n: 5 } },
        { event: 'open', distinct_id: 'a', timestamp: '2024-03-04T09:00:00Z', properties: { $session_id: 's2', n: 1 } },
        { event: 'open', distinct_id: 'b', timestamp: '2024-03-04T10:00:00Z', properties: { $session_id: 's2', n: 2 } },
        { event: 'open', distinct_id: 'b', timestamp: '2024-03-05T10:00:00Z', properties: { n: 'x' } },
        { event: 'open', distinct_id: 'c', timestamp: '2024-03-05T11:00:00Z', properties: { $session_id: 's3', n: 10 } },
        { event: 'open', distinct_id: 'c', timestamp: '2024-03-05T12:00:00Z', properties: { $session_id: 's3', os: 'linux' } },
      ],
      [{ distinct_ids: ['a'], properties: { os: 'darwin' } }, { distinct_ids: ['b'], properties: { os: 'linux' } }],
    );
  });
  afterAll(() => store.close());
  const range = { date_from: '2024-03-03', date_to: '2024-03-05' };
  const run = (series: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    results(store, q({ series: [{ kind: 'EventsNode', event: 'open', ...series }], dateRange: range, ...extra }));

  it('total, dau, unique_session per day', async () => {
    expect((await run({}))[0]!.data).toEqual([0, 2, 3]);
    expect((await run({ math: 'dau' }))[0]!.data).toEqual([0, 2, 2]);
    // missing $session_id counts as the empty session, like PostHog's non-nullable column
    expect((await run({ math: 'unique_session' }))[0]!.data).toEqual([0, 1, 2]);
  });

  it('property math ignores non-numeric values', async () => {
    expect((await run({ math: 'sum', math_property: 'n' }))[0]!.data).toEqual([0, 3, 10]);
    expect((await run({ math: 'max', math_property: 'n' }))[0]!.data).toEqual([0, 2, 10]);
    expect((await run({ math: 'median', math_property: 'n' }))[0]!.data).toEqual([0, 1.5, 10]);
  });

  it('count per actor', async () => {
    expect((await run({ math: 'avg_count_per_actor' }))[0]!.data).toEqual([0, 1, 1.5]);
    expect((await run({ math: 'max_count_per_actor' }))[0]!.data).toEqual([0, 1, 2]);
  });

  it('first_time_for_user counts a person on the day of their first ever event only', async () => {
    // a: first ever 03-01 (before range) → never; b: 03-04; c: 03-05
    expect((await run({ math: 'first_time_for_user' }))[0]!.data).toEqual([0, 1, 1]);
    // with a filter the first ever event must itself match: c's first event has no os property
    expect((await run({ math: 'first_time_for_user', properties: [{ key: 'os', value: 'linux', type: 'event' }] }))[0]!.data).toEqual([0, 0, 0]);
    // first_matching_event_for_user looks at the first *matching* event
    expect((await run({ math: 'first_matching_event_for_user', properties: [{ key: 'os', value: 'linux', type: 'event' }] }))[0]!.data).toEqual([0, 0, 1]);
  });

  it('monthly_active at day interval looks back 30 days', async () => {
    expect((await run({ math: 'monthly_active' }))[0]!.data).toEqual([1, 2, 3]);
  });

  it('person property breakdown with the null bucket for persons without it', async () => {
    const rs = await run({ math: 'dau' }, { breakdownFilter: { breakdown: 'os', breakdown_type: 'person' } });
    expect(rs.map((r) => [r.breakdown_value, r.data])).toEqual([
      ['linux', [0, 1, 1]],
      ['darwin', [0, 1, 0]],
      [BREAKDOWN_NULL, [0, 0, 1]], // null ranks after real values even when it ties
    ]);
  });

  it('cumulative dau counts distinct users so far', async () => {
    const rs = await run({ math: 'dau' }, { trendsFilter: { display: 'ActionsLineGraphCumulative' } });
    expect(rs[0]!.data).toEqual([0, 2, 3]);
    expect(rs[0]!.count).toBe(3);
  });

  it('several series are labelled "event - value" with a breakdown', async () => {
    const rs = await results(
      store,
      q({
        series: [{ kind: 'EventsNode', event: 'open' }, { kind: 'EventsNode', event: 'open', math: 'dau' }],
        dateRange: range,
        breakdownFilter: { breakdown: 'os', breakdown_type: 'person' },
      }),
    );
    expect(rs.map((r) => r.label)).toEqual([
      'open - linux', // 2 events
      'open - darwin', // 1 event
      'open - $$_posthog_breakdown_null_$$', // 2 events, but null sorts after real values
      'open - linux',
      'open - darwin',
      'open - $$_posthog_breakdown_null_$$',
    ]);
    expect(rs[3]!.action.order).toBe(1);
  });

  it('hogql math: simple aggregations', async () => {
    expect((await run({ math: 'hogql', math_hogql: 'count()' }))[0]!.data).toEqual([0, 2, 3]);
    expect((await run({ math: 'hogql', math_hogql: 'sum(properties.n)' }))[0]!.data).toEqual([0, 3, 10]);
    expect((await run({ math: 'hogql', math_hogql: 'count(distinct person_id)' }))[0]!.data).toEqual([0, 2, 2]);
  });

  it('rejects unsupported math with the JSON path', async () => {
    await expect(run({ math: 'unique_group', math_group_type_index: 0 })).rejects.toThrow(QueryValidationError);
    await expect(run({ math: 'unique_group' })).rejects.toThrow(/query\.series\[0\]\.math/);
    await expect(run({ math: 'hogql' })).rejects.toThrow(/query\.series\[0\]\.math_hogql/);
    await expect(run({ math: 'hogql', math_hogql: 'quantile(0.5)(properties.n)' })).rejects.toThrow(/simple HogQL aggregations/);
  });
});

describe('dates, intervals and labels', () => {
  let store: Store;
  beforeAll(async () => {
    store = await storeWith([
      // 2024-03-31 01:30 UTC = 03:30 CEST (after the spring-forward gap) in Europe/Warsaw
      { event: 'x', distinct_id: 'a', timestamp: '2024-03-30T22:30:00Z' }, // 23:30 CET Mar 30
      { event: 'x', distinct_id: 'a', timestamp: '2024-03-30T23:30:00Z' }, // 00:30 CET Mar 31
      { event: 'x', distinct_id: 'b', timestamp: '2024-03-31T21:59:00Z' }, // 23:59 CEST Mar 31
      { event: 'x', distinct_id: 'b', timestamp: '2024-03-31T22:01:00Z' }, // 00:01 CEST Apr 1
      { event: 'x', distinct_id: 'c', timestamp: '2024-12-30T10:00:00Z' },
      { event: 'x', distinct_id: 'c', timestamp: '2025-01-02T10:00:00Z' },
    ]);
  });
  afterAll(() => store.close());

  it('buckets days in the team timezone across DST', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'x' }], dateRange: { date_from: '2024-03-30', date_to: '2024-04-01' } }), utc('2024-04-02T00:00:00Z', { timezone: 'Europe/Warsaw' }));
    expect(rs[0]!.days).toEqual(['2024-03-30', '2024-03-31', '2024-04-01']);
    expect(rs[0]!.data).toEqual([1, 2, 1]);
    expect(rs[0]!.labels).toEqual(['30-Mar-2024', '31-Mar-2024', '1-Apr-2024']);
  });

  it('hourly labels and days', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'x' }], interval: 'hour', dateRange: { date_from: '2024-03-30 22:00:00', date_to: '2024-03-31 00:00:00' } }));
    expect(rs[0]!.days).toEqual(['2024-03-30 22:00:00', '2024-03-30 23:00:00', '2024-03-31 00:00:00']);
    expect(rs[0]!.labels).toEqual(['30-Mar 22:00', '30-Mar 23:00', '31-Mar 00:00']);
    expect(rs[0]!.data).toEqual([1, 1, 0]);
  });

  it('week labels across months and years are clipped to the range', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'x' }], interval: 'week', dateRange: { date_from: '2024-12-26', date_to: '2025-01-08' } }), utc('2025-02-01T00:00:00Z', { weekStart: 1 }));
    expect(rs[0]!.days).toEqual(['2024-12-23', '2024-12-30', '2025-01-06']);
    expect(rs[0]!.labels).toEqual(['26–29 Dec', '30-Dec-2024 – 5-Jan-2025', '6–8 Jan']);
    expect(rs[0]!.data).toEqual([0, 2, 0]);
  });

  it('compare_to shifts the range by a fixed offset', async () => {
    const rs = await results(
      store,
      q({ series: [{ kind: 'EventsNode', event: 'x' }], dateRange: { date_from: '2025-01-02', date_to: '2025-01-03' }, compareFilter: { compare: true, compare_to: '-3d' } }),
    );
    expect(rs.map((r) => [r.compare_label, r.days, r.data])).toEqual([
      ['current', ['2025-01-02', '2025-01-03'], [1, 0]],
      ['previous', ['2024-12-30', '2024-12-31'], [1, 0]],
    ]);
  });

  it('BoldNumber counts up to now exactly', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'x' }], dateRange: { date_from: '-1d' }, trendsFilter: { display: 'BoldNumber' } }), utc('2024-03-31T22:00:00Z'));
    // from 2024-03-30T22:00 to now exactly: the 22:30, 23:30 and 21:59 events, not 22:01
    expect(rs[0]!.aggregated_value).toBe(3);
  });

  it('"all" starts at the first event', async () => {
    const res = await runTrends(store, q({ series: [{ kind: 'EventsNode', event: 'x' }], interval: 'month', dateRange: { date_from: 'all' } }), utc('2025-01-15T00:00:00Z'));
    const r = (res.results as R[])[0]!;
    expect(r.days[0]).toBe('2024-03-01');
    expect(r.days.length).toBe(11);
    expect(r.count).toBe(6);
  });
});

describe('dau at scale of buckets (bitmask counting)', () => {
  // 40 people, events every few hours over 14 days: 336 hourly buckets (6 mask words)
  const events: TestEvent[] = [];
  for (let i = 0; i < 40; i++) {
    for (let h = 0; h < 14 * 24; h += 1 + ((i * 7 + h) % 11)) {
      const t = Date.UTC(2024, 5, 1) + h * 3_600_000 + ((i * 13) % 60) * 60_000;
      events.push({ event: 'x', distinct_id: `p${i}`, timestamp: new Date(t).toISOString(), properties: { tier: i % 3 === 0 ? 'pro' : 'free' } });
      if ((i + h) % 5 === 0) events.push({ event: 'x', distinct_id: `p${i}`, timestamp: new Date(t + 60_000).toISOString(), properties: { tier: 'pro' } });
    }
  }
  const persons = Array.from({ length: 40 }, (_, i) => ({ distinct_ids: [`p${i}`], properties: i % 4 === 0 ? {} : { team: `t${i % 4}` } }));
  let store: Store;
  beforeAll(async () => {
    store = await storeWith(events, persons);
  });
  afterAll(() => store.close());

  const expected = (interval: 'hour' | 'day', key: (e: TestEvent) => string | null) => {
    const m = new Map<string, Set<string>>();
    for (const e of events) {
      const b = interval === 'hour' ? e.timestamp.slice(0, 13) : e.timestamp.slice(0, 10);
      const k = `${key(e)}|${b}`;
      if (!m.has(k)) m.set(k, new Set());
      m.get(k)!.add(e.distinct_id);
    }
    return m;
  };

  for (const interval of ['hour', 'day'] as const) {
    it(`${interval}: event and person breakdowns equal distinct people per bucket`, async () => {
      const base = { series: [{ kind: 'EventsNode', event: 'x', math: 'dau' }], interval, dateRange: { date_from: '2024-06-01', date_to: '2024-06-14' } };
      const ev = await results(store, q({ ...base, breakdownFilter: { breakdown: 'tier' } }));
      const exp = expected(interval, (e) => String(e.properties!.tier));
      for (const r of ev) {
        r.days.forEach((d: string, i: number) => {
          const k = `${r.breakdown_value}|${interval === 'hour' ? d.slice(0, 13).replace(' ', 'T') : d}`;
          expect(r.data[i], k).toBe(exp.get(k)?.size ?? 0);
        });
      }
      // an absolute date_to is not widened at hour interval: the last bucket is 2024-06-14 00:00
      expect(ev[0]!.days.length).toBe(interval === 'hour' ? 13 * 24 + 1 : 14);
      const pr = await results(store, q({ ...base, breakdownFilter: { breakdown: 'team', breakdown_type: 'person' } }));
      const team = (d: string) => (Number(d.slice(1)) % 4 === 0 ? BREAKDOWN_NULL : `t${Number(d.slice(1)) % 4}`);
      const exp2 = expected(interval, (e) => team(e.distinct_id));
      for (const r of pr) {
        r.days.forEach((d: string, i: number) => {
          const k = `${r.breakdown_value}|${interval === 'hour' ? d.slice(0, 13).replace(' ', 'T') : d}`;
          expect(r.data[i], k).toBe(exp2.get(k)?.size ?? 0);
        });
      }
      const plain = await results(store, q(base));
      const all = expected(interval, () => 'all');
      plain[0]!.days.forEach((d: string, i: number) => expect(plain[0]!.data[i]).toBe(all.get(`all|${interval === 'hour' ? d.slice(0, 13).replace(' ', 'T') : d}`)?.size ?? 0));
    });
  }

  for (const [math, n] of [['weekly_active', 7], ['monthly_active', 30]] as const) {
    it(`${math} per day (bitmask windows) equals distinct people active in the ${n} days ending each day`, async () => {
      const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'x', math }], dateRange: { date_from: '2024-06-03', date_to: '2024-06-14' }, breakdownFilter: { breakdown: 'tier' } }));
      const day = (iso: string) => Math.floor(Date.parse(iso.slice(0, 10)) / 86_400_000);
      for (const r of rs) {
        r.days.forEach((d: string, i: number) => {
          const ids = new Set(events.filter((e) => String(e.properties!.tier) === r.breakdown_value && day(e.timestamp) <= day(d) && day(e.timestamp) > day(d) - n).map((e) => e.distinct_id));
          expect(r.data[i], `${r.breakdown_value} ${d}`).toBe(ids.size);
        });
      }
      expect(rs.map((r) => r.breakdown_value).sort()).toEqual(['free', 'pro']);
    });
  }

  it('weekly_active per hour (bitmask windows across mask words) equals people active in the 168 hours ending each hour', async () => {
    const rs = await results(store, q({ series: [{ kind: 'EventsNode', event: 'x', math: 'weekly_active' }], interval: 'hour', dateRange: { date_from: '2024-06-08', date_to: '2024-06-11 12:00:00' } }));
    const hour = (iso: string) => Math.floor(Date.parse(iso.replace(' ', 'T') + (iso.length === 19 ? 'Z' : '')) / 3_600_000);
    const r = rs[0]!;
    expect(r.days.length).toBe(3 * 24 + 13);
    r.days.forEach((d: string, i: number) => {
      const h = hour(d);
      const ids = new Set(events.filter((e) => hour(e.timestamp) <= h && hour(e.timestamp) > h - 168).map((e) => e.distinct_id));
      expect(r.data[i], d).toBe(ids.size);
    });
  });
});
