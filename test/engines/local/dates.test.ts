import { describe, expect, it } from 'vitest';
import { formatResolvedDateRange, resolveDateRange } from '../../../src/time/index.js';
import type { QueryContext } from '../../../src/engines/types.js';

const ctx = (now: string, timezone = 'UTC', weekStart: 0 | 1 = 0): QueryContext => ({ now: new Date(now), timezone, weekStart });
const iso = (r: { from: Date; to: Date }) => [r.from.toISOString(), r.to.toISOString()];

describe('resolveDateRange (PostHog QueryDateRange)', () => {
  it('defaults to -7d at start of day through the end of today (test_smoke)', () => {
    const r = resolveDateRange(undefined, 'day', ctx('2024-01-10T12:01:00Z'));
    expect(iso(r)).toEqual(['2024-01-03T00:00:00.000Z', '2024-01-10T23:59:59.999Z']);
    expect(r.toUs).toBe(1704931199999999n);
  });
  it('widens an absolute date_to to 23:59:59.999999 even with a time, unless explicitDate', () => {
    expect(iso(resolveDateRange({ date_from: '2021-05-01 00:00:00', date_to: '2021-05-14 00:00:00' }, 'day', ctx('2024-01-01T00:00:00Z')))).toEqual([
      '2021-05-01T00:00:00.000Z',
      '2021-05-14T23:59:59.999Z',
    ]);
    const r = resolveDateRange({ date_from: '2021-05-01T10:30:00Z', date_to: '2021-05-14T08:00:00Z', explicitDate: true }, 'day', ctx('2024-01-01T00:00:00Z'));
    expect(iso(r)).toEqual(['2021-05-01T10:30:00.000Z', '2021-05-14T08:00:00.000Z']);
  });
  it('interprets absolute dates in the team timezone', () => {
    const r = resolveDateRange({ date_from: '2020-01-01', date_to: '2020-01-14' }, 'day', ctx('2024-01-01T00:00:00Z', 'US/Pacific'));
    expect(iso(r)).toEqual(['2020-01-01T08:00:00.000Z', '2020-01-15T07:59:59.999Z']);
    expect(formatResolvedDateRange(r, 'US/Pacific')).toEqual({ date_from: '2020-01-01T00:00:00-08:00', date_to: '2020-01-14T23:59:59.999999-08:00' });
  });
  it('truncates relative hours to the hour for hourly intervals and keeps an absolute hourly date_to as is', () => {
    expect(iso(resolveDateRange({ date_from: '-48h' }, 'hour', ctx('2024-01-10T12:31:00Z')))).toEqual(['2024-01-08T12:00:00.000Z', '2024-01-10T12:59:59.999Z']);
    expect(iso(resolveDateRange({ date_from: '2024-01-10 05:00:00', date_to: '2024-01-10 07:00:00' }, 'hour', ctx('2024-02-01T00:00:00Z')))).toEqual([
      '2024-01-10T05:00:00.000Z',
      '2024-01-10T07:00:00.000Z',
    ]);
  });
  it('handles dStart, mStart, yStart and month arithmetic with day clamping', () => {
    expect(iso(resolveDateRange({ date_from: 'dStart' }, 'day', ctx('2024-03-31T22:31:00Z')))[0]).toBe('2024-03-31T00:00:00.000Z');
    expect(iso(resolveDateRange({ date_from: 'mStart' }, 'day', ctx('2024-03-31T22:31:00Z', 'Europe/Warsaw')))[0]).toBe('2024-03-31T22:00:00.000Z');
    expect(iso(resolveDateRange({ date_from: 'yStart' }, 'day', ctx('2024-03-31T12:00:00Z')))[0]).toBe('2024-01-01T00:00:00.000Z');
    expect(iso(resolveDateRange({ date_from: '-1m', date_to: '-1d' }, 'day', ctx('2024-03-31T12:31:00Z')))).toEqual(['2024-02-29T00:00:00.000Z', '2024-03-30T23:59:59.999Z']);
    expect(iso(resolveDateRange({ date_from: '-2w' }, 'day', ctx('2024-03-31T12:31:00Z')))[0]).toBe('2024-03-17T00:00:00.000Z');
    expect(iso(resolveDateRange({ date_from: '-1y' }, 'day', ctx('2024-02-29T12:31:00Z')))[0]).toBe('2023-02-28T00:00:00.000Z');
  });
  it('uses the earliest event for "all"', () => {
    const r = resolveDateRange({ date_from: 'all' }, 'day', ctx('2024-03-31T12:00:00Z'), { earliest: new Date('2023-05-06T07:08:09Z') });
    expect(r.from.toISOString()).toBe('2023-05-06T00:00:00.000Z');
  });
  it('rejects dates it cannot read, naming the field', () => {
    expect(() => resolveDateRange({ date_from: 'yesterday' }, 'day', ctx('2024-03-31T12:00:00Z'))).toThrow(/query\.dateRange\.date_from: 'yesterday'/);
    expect(() => resolveDateRange({ date_to: '2024-02-30' }, 'day', ctx('2024-03-31T12:00:00Z'))).toThrow(/date_to: '2024-02-30' is not a valid date/);
  });
});
