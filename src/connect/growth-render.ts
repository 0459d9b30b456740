/**
 * Rendering of the Connect growth reports: the lifecycle per period (with a chart of new,
 * returning, resurrecting and dormant installations), the retention triangle with its mean
 * curve, the stickiness distribution, and the share of cluster users on Connect.
 */
import type { Report } from '../output/report.js';
import type { Column, TableSpec } from '../output/table.js';
import { bar, lineChart } from '../output/chart.js';
import { formatPercent } from '../output/format.js';
import type { LifecyclePeriod, LifecycleReport, RetentionCohort, RetentionReport, StickinessReport, StickinessRow } from './growth.js';
import type { SharePeriod, ShareReport } from './share.js';

function rangeText(r: { dateRange: { date_from: string | null; date_to: string | null }; timezone: string; engine: string }): string {
  return `${r.dateRange.date_from ?? '(from the number of periods)'} → ${r.dateRange.date_to ?? 'today'} (${r.timezone}) · engine ${r.engine}`;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function renderLifecycle(r: LifecycleReport): Report {
  const json = {
    report: 'lifecycle',
    title: r.title,
    engine: r.engine,
    timezone: r.timezone,
    dateRange: r.dateRange,
    interval: r.interval,
    periods: r.periods.map(({ label: _label, ...p }) => p),
    query: r.query,
  };
  const columns: Column<LifecyclePeriod>[] = [
    { key: 'label', header: cap(r.interval), text: (p) => `${p.label}${p.incomplete ? ' *' : ''}` },
    { key: 'period', header: 'Period start', dataOnly: true },
    { key: 'new', header: 'New', align: 'right' },
    { key: 'returning', header: 'Returning', align: 'right' },
    { key: 'resurrecting', header: 'Resurrecting', align: 'right' },
    { key: 'dormant', header: 'Dormant', align: 'right' },
    { key: 'net', header: 'Net', align: 'right', value: (p) => p.new + p.resurrecting + p.dormant, text: (p) => signed(p.new + p.resurrecting + p.dormant) },
    { key: 'incomplete', header: 'Incomplete', dataOnly: true },
  ];
  const notes = [
    `engine ${r.engine}`,
    'New: first event ever in the period. Returning: also active the period before. Resurrecting: active again after a gap. Dormant: active the period before, not in this one (negative, as PostHog shows it).',
    'Net = new + resurrecting − dormant: the change in active installations.',
  ];
  if (r.periods.some((p) => p.incomplete)) notes.push('* the period has not ended yet.');
  const chart = () =>
    r.periods.length > 1
      ? lineChart(
          r.periods.map((p) => p.label),
          (['new', 'returning', 'resurrecting', 'dormant'] as const).map((k) => ({ name: cap(k), values: r.periods.map((p) => p[k]) })),
          { width: 80, height: 10 },
        )
      : undefined;
  const table: TableSpec<LifecyclePeriod> = { title: `${r.title} by ${r.interval}`, columns, rows: r.periods, notes };
  return { json, tables: [table], chart };
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

interface TriangleRow {
  cohort: RetentionCohort;
}

export function renderRetention(r: RetentionReport): Report {
  const json = {
    report: 'retention',
    title: r.title,
    engine: r.engine,
    timezone: r.timezone,
    dateRange: r.dateRange,
    period: r.period,
    retentionType: r.kind,
    cohorts: r.cohorts.map((c) => ({ period: c.period, size: c.size, values: c.values, incomplete: c.incomplete })),
    openEnded: r.openEnded,
    mean: r.mean,
    query: r.query,
  };
  const unit = cap(r.period);
  const notes = [
    rangeText(r),
    r.kind === 'first_time'
      ? `Cohort: installations whose first Connect event ever falls in the ${r.period}. ${unit} k: share of the cohort active again k ${r.period}s later.`
      : `Cohort: installations active in the ${r.period}. ${unit} k: share of the cohort active again k ${r.period}s later.`,
  ];
  if (r.cohorts.some((c) => c.incomplete)) notes.push(`* the cohort's ${r.period} has not ended yet: it can still grow.`);
  if (r.openEnded) notes.push(`The last value of each row is the current ${r.period}, which has not ended yet.`);
  // CSV: one row per cohort and offset (long form), whatever the triangle shows
  const csv = (() => {
    const rows = r.cohorts.flatMap((c) => c.values.map((v, k) => ({ cohort: c.period, size: c.size, offset: k, installations: v, share: c.size ? v / c.size : null })));
    const table: TableSpec<(typeof rows)[number]> = {
      columns: [
        { key: 'cohort', header: 'Cohort' },
        { key: 'size', header: 'Size' },
        { key: 'offset', header: `${unit}s later` },
        { key: 'installations', header: 'Installations' },
        { key: 'share', header: 'Share' },
      ],
      rows,
    };
    return table;
  })();
  const columns: Column<TriangleRow>[] = [
    { key: 'cohort', header: 'Cohort', value: (x) => x.cohort.period, text: (x) => `${x.cohort.period}${x.cohort.incomplete ? ' *' : ''}` },
    { key: 'size', header: 'Installations', align: 'right', value: (x) => x.cohort.size },
    ...Array.from({ length: r.intervals }, (_, k) => ({
      key: `k${k}`,
      header: `${unit} ${k}`,
      align: 'right' as const,
      value: (x: TriangleRow) => x.cohort.values[k] ?? null,
      text: (x: TriangleRow) => (k < x.cohort.values.length ? (x.cohort.size ? formatPercent(x.cohort.values[k]! / x.cohort.size, 0) : '–') : ''),
    })),
  ];
  const rows: TriangleRow[] = r.cohorts.map((cohort) => ({ cohort }));
  const meanLine = `Mean (weighted by cohort size): ${r.mean.map((m, k) => `${unit.charAt(0)}${k} ${m === null ? '–' : formatPercent(m, 0)}`).join(' · ')}`;
  const curve = r.mean.filter((m): m is number => m !== null).map((m) => Math.round(m * 1000) / 10);
  const chart = () => (curve.length > 1 ? lineChart(curve.map((_, k) => `${unit} ${k}`), [{ name: 'Mean retention %', values: curve }], { width: 80, height: 10 }) : undefined);
  const table: TableSpec<TriangleRow> = { title: `${r.title} by ${r.period}`, columns, rows, notes: [...notes, meanLine] };
  return { json, tables: [table], csv: [csv], chart };
}

export function renderStickiness(r: StickinessReport): Report {
  const json = {
    report: 'stickiness',
    title: r.title,
    engine: r.engine,
    timezone: r.timezone,
    dateRange: r.dateRange,
    interval: r.interval,
    total: r.total,
    rows: r.rows.map(({ label: _l, ...x }) => x),
    query: r.query,
  };
  const max = Math.max(0, ...r.rows.map((x) => x.installations));
  const columns: Column<StickinessRow>[] = [
    { key: 'label', header: `Active ${r.interval}s` },
    { key: 'intervals', header: 'Intervals', dataOnly: true },
    { key: 'installations', header: 'Installations', align: 'right' },
    { key: 'share', header: 'Share', align: 'right', text: (x) => formatPercent(x.share) },
    { key: 'bar', header: '', text: (x) => bar(x.installations, max, 24), terminalOnly: true },
  ];
  const notes = [`engine ${r.engine}`, `${r.total} installations were active; each counts once, at the number of ${r.interval}s it sent any Connect event in.`];
  const table: TableSpec<StickinessRow> = { title: `${r.title} (${r.interval}s active in the range)`, columns, rows: r.rows, notes };
  return { json, tables: [table] };
}

export function renderShare(r: ShareReport): Report {
  const json = {
    report: 'connect-share',
    title: r.title,
    engine: r.engine,
    timezone: r.timezone,
    dateRange: r.dateRange,
    interval: r.interval,
    periods: r.periods.map(({ label: _l, ...p }) => p),
    connectPairs: r.connectPairs,
    matchedPairs: r.matchedPairs,
    caveat: r.caveat,
    queries: r.queries,
  };
  const columns: Column<SharePeriod>[] = [
    { key: 'label', header: cap(r.interval), text: (p) => `${p.label}${p.incomplete ? ' *' : ''}` },
    { key: 'period', header: 'Period start', dataOnly: true },
    { key: 'clusterUsers', header: 'Cluster users', align: 'right' },
    { key: 'connectUsers', header: 'On Connect', align: 'right' },
    { key: 'share', header: 'Share', align: 'right', text: (p) => (p.share === null ? 'unknown' : formatPercent(p.share)) },
  ];
  if (r.periods.some((p) => p.share !== null)) columns.push({ key: 'bar', header: '', text: (p) => (p.share === null ? '' : bar(p.share, 1, 20)), terminalOnly: true });
  const notes = [
    `engine ${r.engine}`,
    'A user is a (cluster, user) pair of anonymized names. Share = pairs active on the cluster side that also sent Connect events in the period ÷ pairs active on the cluster side.',
    `${r.matchedPairs} of ${r.connectPairs} Connect pairs match a cluster-side pair.`,
  ];
  if (r.caveat) notes.push(`Caveat: ${r.caveat}.`);
  if (r.periods.some((p) => p.incomplete)) notes.push(`* the ${r.interval} is not over yet: its counts can still grow.`);
  const table: TableSpec<SharePeriod> = { title: `${r.title} by ${r.interval}`, columns, rows: r.periods, notes };
  return { json, tables: [table] };
}
