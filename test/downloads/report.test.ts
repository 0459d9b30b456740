import { describe, expect, it } from 'vitest';
import { nextPeriod, periodOf, periodsBetween, startOfLocalDay } from '../../src/time/index.js';
import { buildReport, compareVersionsDesc, parseDimensions, skippedMessage } from '../../src/downloads/report.js';
import type { Download } from '../../src/downloads/count.js';
import type { ReadStats } from '../../src/downloads/logs.js';
import { UsageError } from '../../src/errors.js';

describe('periods', () => {
  const o = (interval: 'day' | 'week' | 'month', timezone = 'UTC', weekStart: 0 | 1 = 0) => ({ interval, timezone, weekStart });
  it('buckets in the timezone, with Sunday or Monday weeks', () => {
    const ts = Date.parse('2026-11-02T03:00:00Z'); // Monday 03:00 UTC, Sunday evening in New York
    expect(periodOf(ts, o('day'))).toBe('2026-11-02');
    expect(periodOf(ts, o('day', 'America/New_York'))).toBe('2026-11-01');
    expect(periodOf(ts, o('week'))).toBe('2026-11-01');
    expect(periodOf(ts, o('week', 'UTC', 1))).toBe('2026-11-02');
    expect(periodOf(ts, o('week', 'America/New_York', 1))).toBe('2026-10-26');
    expect(periodOf(ts, o('month', 'Pacific/Kiritimati'))).toBe('2026-11-01');
    expect(periodOf(Date.parse('2026-10-31T23:30:00Z'), o('month', 'Europe/Warsaw'))).toBe('2026-11-01');
  });
  it('walks periods across DST changes and month ends', () => {
    expect(periodsBetween(Date.parse('2026-10-30T12:00:00Z'), Date.parse('2026-11-03T12:00:00Z'), o('day', 'Europe/Warsaw'))).toEqual([
      '2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03',
    ]);
    expect(nextPeriod('2026-01-31', 'month')).toBe('2026-02-01');
    expect(nextPeriod('2026-12-27', 'week')).toBe('2027-01-03');
    expect(startOfLocalDay('2026-10-25', 'Europe/Warsaw')).toBe(Date.parse('2026-10-24T22:00:00Z'));
    expect(startOfLocalDay('2026-10-26', 'Europe/Warsaw')).toBe(Date.parse('2026-10-25T23:00:00Z'));
  });
});

const stats: ReadStats = { files: 1, bytes: 0, requests: 10, connectRequests: 6, excluded: { head: 0, otherMethod: 0, notSuccessful: 0, sideFiles: 0, manifests: 0 }, malformed: 0 };
let n = 0;
function dl(ts: string, platform: Download['platform'], kind: Download['kind'], client: string, version = '16.4.0', arch = 'x64'): Download {
  return { uuid: `u${++n}`, ts: Date.parse(ts), client, platform, arch, version, artifact: 'x', format: 'dmg', kind, status: 200, requests: 1 };
}
const downloads = [
  dl('2026-11-01T10:00:00Z', 'macos', 'install', 'c1'),
  dl('2026-11-01T11:00:00Z', 'macos', 'install', 'c1'),
  dl('2026-11-01T12:00:00Z', 'windows', 'install', 'c2', '16.10.0'),
  dl('2026-11-02T01:00:00Z', 'macos', 'update', 'c3', '16.4.1', 'arm64'),
  dl('2026-11-09T10:00:00Z', 'linux', 'install', 'c4', '17.0.0-beta.1'),
];

describe('buildReport', () => {
  const base = { interval: 'day' as const, timezone: 'UTC', weekStart: 0 as const, kind: 'all' as const };
  it('groups by the chosen dimensions with installs, updates, unique downloaders and shares', () => {
    const r = buildReport(downloads, stats, { ...base, by: ['platform'] });
    expect(r.rows.map((x) => [x.platform, x.installs, x.updates, x.downloads, x.downloaders, x.share])).toEqual([
      ['macos', 2, 1, 3, 2, 0.6],
      ['linux', 1, 0, 1, 1, 0.2],
      ['windows', 1, 0, 1, 1, 0.2],
    ]);
    expect(r.totals).toMatchObject({ downloads: 5, installs: 4, updates: 1, downloaders: 4 });
  });
  it('splits by period in the timezone, shares within each period', () => {
    const r = buildReport(downloads, stats, { ...base, by: ['period', 'platform'], interval: 'week', timezone: 'America/New_York' });
    expect(r.rows.map((x) => [x.period, x.platform, x.downloads, x.share])).toEqual([
      ['2026-11-01', 'macos', 3, 0.75],
      ['2026-11-01', 'windows', 1, 0.25],
      ['2026-11-08', 'linux', 1, 1],
    ]);
  });
  it('filters by local days and kind', () => {
    const r = buildReport(downloads, stats, { ...base, by: ['version'], from: '2026-11-01', to: '2026-11-01', kind: 'install', timezone: 'UTC' });
    expect(r.rows.map((x) => [x.version, x.downloads])).toEqual([['16.4.0', 2], ['16.10.0', 1]]);
    // In Tokyo the three installs fall on Nov 1 (evening) and the update on Nov 2.
    const east = buildReport(downloads, stats, { ...base, by: ['kind'], from: '2026-11-01', to: '2026-11-01', timezone: 'Asia/Tokyo' });
    expect(east.rows.map((x) => [x.kind, x.downloads])).toEqual([['install', 3]]);
    const west = buildReport(downloads, stats, { ...base, by: ['kind'], from: '2026-11-01', to: '2026-11-01', timezone: 'America/New_York' });
    expect(west.rows.map((x) => [x.kind, x.downloads])).toEqual([['install', 3], ['update', 1]]);
  });
  it('sorts versions newest first and parses --by', () => {
    expect(['16.4.0', '17.0.0-beta.1', '16.10.0', '17.0.0', '17.0.0-beta.10', '17.0.0-beta.2'].sort(compareVersionsDesc)).toEqual(['17.0.0', '17.0.0-beta.10', '17.0.0-beta.2', '17.0.0-beta.1', '16.10.0', '16.4.0']);
    expect(parseDimensions('platform, arch,day')).toEqual(['platform', 'arch', 'period']);
    expect(() => parseDimensions('os')).toThrow(UsageError);
    expect(skippedMessage({ malformed: 2, firstMalformed: { file: 'a.gz', line: 7, reason: "field 'date' is not YYYY-MM-DD" } })).toBe(
      "skipped 2 malformed lines (first: a.gz:7: field 'date' is not YYYY-MM-DD)",
    );
  });
});
