// src/time: one PostHog date parser, one start of interval and one set of labels for the CLI,
// funnels, trends and downloads.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDay, formatLabel, isoNaive, periodOf, resolveDateRange, TrendsDateRange } from '../../src/time/index.js';
import { checkRelativeOrder, dateRangeFromOptions, parseDateOption } from '../../src/cli/range-options.js';
import { localEngineForStore } from '../../src/engines/local/index.js';
import { parseQuery } from '../../src/query/parse.js';
import { ROOT } from '../commands/cli.js';
import { tempStore } from '../engines/local/helpers.js';

const ctx = (now: string, timezone = 'UTC', weekStart: 0 | 1 = 0) => ({ now: new Date(now), timezone, weekStart });

describe('one parser for funnels and trends', () => {
  // Thursday 2024-03-14 15:30 in Warsaw; funnels used to read wStart as "today" and qStart as "today"
  const c = ctx('2024-03-14T14:30:00Z', 'Europe/Warsaw', 1);
  for (const [dateFrom, week, expected] of [
    ['wStart', 'monday', '2024-03-11T00:00:00+01:00'],
    ['qStart', 'monday', '2024-01-01T00:00:00+01:00'],
    ['-1mStart', 'monday', '2024-02-01T00:00:00+01:00'],
    ['-2w', 'monday', '2024-02-29T00:00:00+01:00'],
  ] as const) {
    it(`${dateFrom} starts on the same instant for a funnel and for trends (${week} weeks)`, () => {
      const funnel = resolveDateRange({ date_from: dateFrom }, 'day', c);
      const trends = new TrendsDateRange({ date_from: dateFrom }, 'day', c);
      expect(isoNaive(trends.dateFrom(), c.timezone)).toBe(expected);
      expect(funnel.from.getTime()).toBe(Date.parse(expected));
    });
  }
});

describe('the CLI reads --from/--to with the same parser', () => {
  it('accepts every form the engines accept, and names the option otherwise', () => {
    for (const v of ['2026-11-01', '2026-11-01 12:00', '2026-11-01T12:00:00.123456Z', '-30d', '-24h', '-4w', '-1mEnd', 'wStart', 'qStart', 'all']) {
      expect(parseDateOption('--from', v)).toBe(v);
    }
    expect(() => parseDateOption('--to', '2026-02-29')).toThrow(/--to: '2026-02-29' is not a date/);
    expect(() => parseDateOption('--from', 'last week')).toThrow(/--from: 'last week' is not a date/);
  });
  it('checks the order of relative dates by their calendar meaning', () => {
    const now = new Date('2026-11-20T12:00:00Z');
    // mStart is 2026-11-01; -25d is 2026-10-26: the range would be empty
    expect(() => checkRelativeOrder({ date_from: 'mStart', date_to: '-25d' }, now)).toThrow(/--from mStart is after --to -25d/);
    expect(() => checkRelativeOrder({ date_from: 'mStart', date_to: '-15d' }, now)).not.toThrow();
    expect(() => checkRelativeOrder({ date_from: '2026-12-01', date_to: null }, now)).toThrow(/--from 2026-12-01 is after today/);
    expect(() => dateRangeFromOptions('2026-11-02', '2026-11-01T23:00:00Z', '-30d')).toThrow(/after --to/);
    expect(dateRangeFromOptions('2026-11-01T10:00:00Z', '2026-11-01', '-30d')).toEqual({ date_from: '2026-11-01T10:00:00Z', date_to: '2026-11-01' });
  });
});

describe('buckets', () => {
  it('puts two events of one UTC hour in different days where the local day changes at half past', async () => {
    // Asia/Kolkata is UTC+5:30: 18:10Z is 23:40 on the 10th, 18:40Z is 00:10 on the 11th
    const events = [
      { event: 'a', distinct_id: 'u1', timestamp: '2024-01-10T18:10:00Z' },
      { event: 'b', distinct_id: 'u1', timestamp: '2024-01-10T18:11:00Z' },
      { event: 'a', distinct_id: 'u2', timestamp: '2024-01-10T18:40:00Z' },
    ];
    const t = await tempStore(events);
    try {
      const engine = localEngineForStore(t.store);
      const query = parseQuery(
        {
          kind: 'FunnelsQuery',
          series: [{ kind: 'EventsNode', event: 'a' }, { kind: 'EventsNode', event: 'b' }],
          interval: 'day',
          dateRange: { date_from: '2024-01-10', date_to: '2024-01-11' },
          funnelsFilter: { funnelVizType: 'trends' },
        },
        'q',
      );
      const [res] = await engine.runMany([query], ctx('2024-02-01T00:00:00Z', 'Asia/Kolkata'));
      const [row] = res!.results as { days: string[]; labels: string[]; data: number[] }[];
      expect(row!.days).toEqual(['2024-01-10', '2024-01-11']);
      expect(row!.labels).toEqual(['10-Jan-2024', '11-Jan-2024']);
      expect(row!.data).toEqual([100, 0]);
    } finally {
      await t.cleanup();
    }
  });
  it('labels download periods by their local first day, Monday or Sunday weeks', () => {
    const ts = Date.parse('2024-03-10T23:30:00Z'); // Monday 00:30 in Warsaw, still Sunday in UTC
    expect(periodOf(ts, { interval: 'week', timezone: 'Europe/Warsaw', weekStart: 1 })).toBe('2024-03-11');
    expect(periodOf(ts, { interval: 'week', timezone: 'UTC', weekStart: 1 })).toBe('2024-03-04');
    expect(periodOf(ts, { interval: 'week', timezone: 'UTC', weekStart: 0 })).toBe('2024-03-10');
    expect(periodOf(ts, { interval: 'month', timezone: 'Pacific/Kiritimati', weekStart: 0 })).toBe('2024-03-01');
  });
});

describe('labels', () => {
  it('do not depend on the machine timezone', () => {
    const c = ctx('2024-03-14T14:30:00Z', 'Europe/Warsaw', 1);
    const labels = () => {
      const r = new TrendsDateRange({ date_from: '-30d' }, 'week', c);
      return r.allValues().map((n) => `${formatLabel(n, r)} ${formatDay(n, 'week')} ${isoNaive(n, c.timezone)}`);
    };
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      const utc = labels();
      expect(utc[0]).toBe('13–18 Feb 2024-02-12 2024-02-12T00:00:00+01:00');
      expect(utc[2]).toBe('26-Feb – 3-Mar 2024-02-26 2024-02-26T00:00:00+01:00');
      for (const tz of ['America/New_York', 'Pacific/Chatham']) {
        process.env.TZ = tz;
        expect(labels()).toEqual(utc);
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe('layering', () => {
  it('src/time imports nothing from the CLI, the commands, the engines or the store', () => {
    const dir = join(ROOT, 'src', 'time');
    const bad = readdirSync(dir).flatMap((f) =>
      [...readFileSync(join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)]
        .map((m) => m[1]!)
        .filter((spec) => /^\.\.\/(cli|commands|engines|store)\//.test(spec))
        .map((spec) => `${f}: ${spec}`),
    );
    expect(bad).toEqual([]);
    expect(readdirSync(dir).length).toBeGreaterThan(0);
  });
});
