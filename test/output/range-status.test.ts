// The output layer states a report's range in every format, and --quiet leaves out summaries of
// what a command did (replay, fixtures generate) while keeping results.
import { describe, expect, it } from 'vitest';
import { Output } from '../../src/output/output.js';
import type { Report } from '../../src/output/report.js';
import { renderSummary } from '../../src/commands/replay.js';
import { resolveReportRange, isIncompletePeriod } from '../../src/time/index.js';

const ctx = { timezone: 'Europe/Warsaw', weekStart: 1 as const, now: new Date('2026-12-03T10:00:00Z') };

function print(r: Report, format: 'table' | 'json' | 'csv' | 'markdown', quiet = false) {
  let stdout = '';
  let stderr = '';
  new Output({ format, quiet, stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) }).result(r);
  return { stdout, stderr };
}

describe('the range in every format', () => {
  const { range } = resolveReportRange({ date_from: '-30d', date_to: null }, ctx);
  const report: Report = { json: { engine: 'local', dateRange: { date_from: '-30d', date_to: null } }, tables: [{ columns: [{ key: 'n', header: 'N' }], rows: [{ n: 1 }] }], range };

  it('resolves in the team timezone', () => {
    expect(range).toMatchObject({ firstDay: '2026-11-03', lastDay: '2026-12-03', date_from: '2026-11-03T00:00:00+01:00', date_to: '2026-12-03T23:59:59.999999+01:00', incomplete: true });
  });

  it('footer, JSON, CSV, Markdown', () => {
    expect(print(report, 'table').stdout).toContain('Range: 2026-11-03 → 2026-12-03, Europe/Warsaw (-30d → today; 2026-12-03 is not over)');
    expect(print(report, 'markdown').stdout).toContain('_Range: 2026-11-03 → 2026-12-03, Europe/Warsaw');
    expect(JSON.parse(print(report, 'json').stdout).dateRange).toEqual({
      date_from: '2026-11-03T00:00:00+01:00',
      date_to: '2026-12-03T23:59:59.999999+01:00',
      timezone: 'Europe/Warsaw',
      from: '-30d',
      to: 'today',
      incomplete: true,
    });
    expect(print(report, 'csv').stdout).toBe('n,range_from,range_to,date_from,date_to\n1,-30d,today,2026-11-03T00:00:00+01:00,2026-12-03T23:59:59.999999+01:00\n');
  });

  it('a closed range is not incomplete, and absolute dates are not repeated', () => {
    const r = resolveReportRange({ date_from: '2026-11-01', date_to: '2026-11-30' }, ctx).range;
    expect(r.incomplete).toBe(false);
    expect(print({ ...report, range: r }, 'table').stdout).toContain('Range: 2026-11-01 → 2026-11-30, Europe/Warsaw\n');
  });

  it('one definition of an incomplete period', () => {
    expect(isIncompletePeriod('2026-12-03', 'day', ctx)).toBe(true);
    expect(isIncompletePeriod('2026-12-02', 'day', ctx)).toBe(false);
    expect(isIncompletePeriod('2026-11-30', 'week', ctx)).toBe(true); // Monday weeks
    expect(isIncompletePeriod('2026-11-23', 'week', ctx)).toBe(false);
    expect(isIncompletePeriod('2026-12-01', 'month', ctx)).toBe(true);
  });
});

describe('--quiet', () => {
  const summary = { host: 'http://127.0.0.1:1', events: 3, alreadyDone: 0, sent: 3, failed: 0, notSent: 0, requestErrors: 0, eventsPerSecond: 10, seconds: 0.3, files: 1 } as any;

  it("leaves out replay's summary table, not its JSON", () => {
    expect(print(renderSummary(summary), 'table', true).stdout).toBe('');
    expect(print(renderSummary(summary), 'table', false).stdout).toContain('replay');
    expect(JSON.parse(print(renderSummary(summary), 'json', true).stdout).sent).toBe(3);
  });

  it('keeps a dry run (its counts are the answer)', () => {
    expect(print(renderSummary({ ...summary, dryRun: true, distinctIds: 2, eventCounts: { a: 3 } }), 'table', true).stdout).toContain('replay --dry-run');
  });
});
