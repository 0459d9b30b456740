// Issue 15: one formatter module (durations, percentages, CSV numbers), friendly platform names,
// `query run` summaries (time series, custom names, PostHog's breakdown buckets, the funnel
// matrix), and charts (whole-number axes).
import { describe, expect, it } from 'vitest';
import { breakdownText, formatDuration, formatPercent, formatPoints } from '../../src/output/format.js';
import { renderCsv, renderTable } from '../../src/output/table.js';
import { osVersionName, platformName } from '../../src/output/platform.js';
import { summarize } from '../../src/query/render.js';
import { lineChart } from '../../src/output/chart.js';
import { funnelStepTable, stepViews } from '../../src/output/funnel.js';

describe('one style for numbers', () => {
  it('durations read 3m 35s, with no zero-padded or zero second unit', () => {
    expect(formatDuration(215)).toBe('3m 35s');
    expect(formatDuration(303)).toBe('5m 3s');
    expect(formatDuration(300)).toBe('5m');
    expect(formatDuration(3780)).toBe('1h 3m');
    expect(formatDuration(86400)).toBe('1d');
    expect(formatDuration(2 * 86400 + 4 * 3600 + 59)).toBe('2d 4h');
    expect(formatDuration(null)).toBe('–');
  });

  it('percentages always carry one decimal, points a sign', () => {
    expect(formatPercent(0.482)).toBe('48.2%');
    expect(formatPercent(1)).toBe('100.0%');
    expect(formatPoints(0.057)).toBe('+5.7');
    expect(formatPoints(-0.039)).toBe('−3.9');
  });

  it('CSV rounds fractions (no float noise like 60.846499999)', () => {
    const csv = renderCsv({ columns: [{ key: 'a', header: 'A' }, { key: 'b', header: 'B' }], rows: [{ a: 60.846499999, b: 0.32204029861828354 }, { a: 12, b: 1 }] });
    expect(csv).toBe('a,b\n60.8465,0.322\n12,1\n');
  });
});

describe('platform names', () => {
  it('names the OS and its version as people know them', () => {
    expect(platformName('darwin')).toBe('macOS');
    expect(platformName('win32')).toBe('Windows');
    expect(platformName('linux')).toBe('Linux');
    expect(osVersionName('23.6.0')).toBe('macOS 14 Sonoma (23.6.0)');
    expect(osVersionName('24.1.0')).toBe('macOS 15 Sequoia (24.1.0)');
    expect(osVersionName('10.0.22631')).toBe('Windows 11 23H2 (10.0.22631)');
    expect(osVersionName('10.0.19045')).toBe('Windows 10 22H2 (10.0.19045)');
    expect(osVersionName('6.8.0-48-generic')).toBe('Linux 6.8 (6.8.0-48-generic)');
  });
});

describe('charts', () => {
  it('labels a count axis with whole numbers', () => {
    const out = lineChart(['a', 'b', 'c', 'd', 'e'], [{ name: 'n', values: [193, 250, 290, 320, 348] }], { width: 60 });
    const labels = out.split('\n').map((l) => /^\s*([\d.k]+) ┤/.exec(l)?.[1]).filter(Boolean);
    expect(labels.length).toBeGreaterThan(1);
    for (const l of labels) expect(l).toMatch(/^\d+$/);
  });

  it('spreads a few points over the width', () => {
    const out = lineChart(['w1', 'w2', 'w3', 'w4', 'w5'], [{ name: 'n', values: [1, 2, 3, 4, 5] }], { width: 60 });
    const axis = out.split('\n').find((l) => l.includes('└'))!;
    expect(axis.length).toBeGreaterThan(30);
  });
});

const trends = {
  kind: 'TrendsQuery',
  series: [{ kind: 'EventsNode', event: 'login', custom_name: 'Logins' }],
  breakdownFilter: { breakdown_type: 'event', breakdown: 'connector' },
};
const trendsResponse = {
  results: [
    { action: { custom_name: 'Logins', name: 'login' }, label: 'login - saml', breakdown_value: 'saml', days: ['2026-11-01', '2026-11-02'], labels: ['1-Nov-2026', '2-Nov-2026'], data: [3, 5], count: 8 },
    { action: { custom_name: 'Logins', name: 'login' }, label: 'login - $$_posthog_breakdown_null_$$', breakdown_value: '$$_posthog_breakdown_null_$$', days: ['2026-11-01', '2026-11-02'], labels: ['1-Nov-2026', '2-Nov-2026'], data: [1, 0], count: 1 },
    { action: { custom_name: 'Logins', name: 'login' }, label: 'login - other', breakdown_value: ['$$_posthog_breakdown_other_$$'], days: ['2026-11-01', '2026-11-02'], labels: ['1-Nov-2026', '2-Nov-2026'], data: [2, 2], count: 4 },
  ],
};

describe('query run summaries', () => {
  it('a TrendsQuery is its time series: a row per period and series, custom names, None and Other', () => {
    const [table] = summarize(trends as never, trendsResponse as never);
    const csv = renderCsv(table!);
    expect(csv.split('\n')[0]).toBe('period,date,series,breakdown,value');
    expect(csv).toContain('1-Nov-2026,2026-11-01,Logins,saml,3');
    expect(csv).toContain('2-Nov-2026,2026-11-02,Logins,saml,5');
    expect(csv).toContain('1-Nov-2026,2026-11-01,Logins,None,1');
    expect(csv).toContain('2-Nov-2026,2026-11-02,Logins,Other,2');
    const text = renderTable(table!);
    expect(text).not.toContain('$$_posthog');
    expect(text).not.toContain('["');
    expect(text).toContain('connector');
  });

  it('breakdown values read as PostHog labels them', () => {
    expect(breakdownText('$$_posthog_breakdown_null_$$')).toBe('None');
    expect(breakdownText(['$$_posthog_breakdown_other_$$'])).toBe('Other');
    expect(breakdownText(['a', 'b'])).toBe('a / b');
  });

  it('a funnel with a breakdown is one matrix named by the property, not a table per value', () => {
    const step = (name: string, count: number, bv: unknown) => ({ name, custom_name: null, count, average_conversion_time: null, median_conversion_time: null, breakdown_value: bv });
    const funnel = { kind: 'FunnelsQuery', series: [{ kind: 'EventsNode', event: 'a' }, { kind: 'EventsNode', event: 'b' }], breakdownFilter: { breakdown: 'browser' } };
    const results = [
      [step('a', 10, ['Chrome']), step('b', 5, ['Chrome'])],
      [step('a', 4, ['$$_posthog_breakdown_null_$$']), step('b', 1, ['$$_posthog_breakdown_null_$$'])],
    ];
    const tables = summarize(funnel as never, { results } as never);
    expect(tables).toHaveLength(2);
    const matrix = renderTable(tables[1]!);
    expect(matrix).toContain('browser');
    expect(matrix).toMatch(/Chrome\s+│\s+10 │\s+50\.0%/);
    expect(matrix).toMatch(/None\s+│\s+4 │\s+25\.0%/);
    expect(renderTable(tables[0]!)).toMatch(/│ 2 │ b\s+│\s+6 │/);
  });
});

describe('funnel step table', () => {
  it('fits 80 columns and keeps the step, its count, the conversions and the median', () => {
    const steps = stepViews([
      { name: 'Started', count: 135, median_conversion_time: null, average_conversion_time: null },
      { name: 'Create discovery config (optional)', count: 19, median_conversion_time: 40, average_conversion_time: 50 },
      { name: 'Deploy service', count: 61, median_conversion_time: 386, average_conversion_time: 698 },
    ]);
    const text = renderTable(funnelStepTable('RDS PostgreSQL — Discover funnel', steps), { width: 80 });
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).toContain('6m 26s');
    expect(text).toContain('45.2%');
  });
});
