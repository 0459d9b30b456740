/**
 * Actions behind `downloads` and `load-downloads`: parse options, run the logic, render.
 */
import { lineChart } from '../output/chart.js';
import type { CommandResult, Report } from '../output/report.js';
import { formatNumber } from '../output/format.js';
import { analyzeDownloadLogs, loadDownloadLogs, resolveSalt } from '../downloads/index.js';
import { buildReport, reportTable, skippedMessage, type Dimension, type DownloadsReport, type KindFilter } from '../downloads/report.js';
import { periodOf, resolveReportRange, type PeriodInterval, type ReportRange } from '../time/index.js';
import type { LoadSummary } from '../store/ingest.js';
import type { CommandContext } from './context.js';
import { filesReporter, loadReporter, type Reporter } from './progress.js';

export interface LogOptions {
  logs: string[];
  salt?: string;
  strict: boolean;
}

export interface DownloadsOptions extends LogOptions {
  by: Dimension[];
  interval: PeriodInterval;
  kind: KindFilter;
  /** First and last day (YYYY-MM-DD, inclusive), in `timezone`. */
  from?: string;
  to?: string;
  timezone: string;
  weekStart: 0 | 1;
  /** The current time (--now): a range that runs to today is marked incomplete. */
  now?: Date;
  /** Also load the counted downloads into the store. */
  load: boolean;
}

export async function downloadsCommand(o: DownloadsOptions, c: CommandContext): Promise<CommandResult> {
  let analysis;
  let loaded: LoadSummary | undefined;
  if (o.load) {
    const { Store } = await import('../store/store.js');
    const store = await Store.open(c.store);
    try {
      const r = await loadWithProgress(c, (p) => loadDownloadLogs(store, o.logs, { salt: o.salt, strict: o.strict, ...p }));
      analysis = r.analysis;
      loaded = r.load;
    } finally {
      await store.close();
    }
  } else {
    const salt = resolveSalt(o.salt);
    const files = filesReporter(c.out, 'downloads');
    analysis = await analyzeDownloadLogs(o.logs, { salt, strict: o.strict, onFile: files.on }).finally(() => files.end());
  }
  const { from, to } = o;
  const report = buildReport(analysis.downloads, analysis.stats, { by: o.by, interval: o.interval, kind: o.kind, from, to, timezone: o.timezone, weekStart: o.weekStart });
  const skipped = skippedMessage(analysis.stats);
  if (skipped) c.out.warn(skipped);
  if (loaded !== undefined) c.out.info(`loaded into ${c.store}: ${describeLoad(loaded)}`);
  const what = o.kind === 'all' ? 'downloads' : o.kind === 'install' ? 'installer downloads' : 'updater fetches';
  const between = from || to ? ` between ${from ?? 'the start'} and ${to ?? 'the end'}` : '';
  const files = analysis.stats.files;
  const requests = analysis.stats.requests;
  const covered = downloadsRange(report, o);
  return {
    json: { ...report, loaded },
    ...(covered ? { range: covered } : {}),
    tables: [reportTable(report)],
    chart: (width) => periodChart(report, width),
    empty:
      report.rows.length === 0
        ? `no Teleport Connect ${what}${between} in ${formatNumber(files)} log file${files === 1 ? '' : 's'} (${formatNumber(requests)} request${requests === 1 ? '' : 's'} read)`
        : undefined,
  };
}

/**
 * The days the report covers, stated like every report's range: --from/--to where given, else the
 * first and last download the logs hold (the logs, not the store, bound this report).
 */
function downloadsRange(report: DownloadsReport, o: DownloadsOptions): ReportRange | undefined {
  const ctx = { timezone: o.timezone, weekStart: o.weekStart, now: o.now ?? new Date() };
  const day = (iso: string | null) => (iso ? periodOf(Date.parse(iso), { interval: 'day', timezone: o.timezone, weekStart: o.weekStart }) : undefined);
  const from = o.from ?? day(report.totals.firstDownload);
  const to = o.to ?? day(report.totals.lastDownload);
  if (!from || !to) return undefined;
  return resolveReportRange({ date_from: from, date_to: to }, ctx, { where: '--from/--to' }).range;
}

export async function loadDownloadsCommand(o: LogOptions, c: CommandContext): Promise<Report> {
  const { Store } = await import('../store/store.js');
  const store = await Store.open(c.store);
  let r;
  try {
    r = await loadWithProgress(c, (p) => loadDownloadLogs(store, o.logs, { salt: o.salt, strict: o.strict, ...p }));
  } finally {
    await store.close();
  }
  const skipped = skippedMessage(r.analysis.stats);
  if (skipped) c.out.warn(skipped);
  const d = r.analysis.downloads;
  const summary = {
    store: c.store,
    files: r.analysis.stats.files,
    requests: r.analysis.stats.requests,
    downloads: d.length,
    installs: d.filter((x) => x.kind === 'install').length,
    updates: d.filter((x) => x.kind === 'update').length,
    malformed: r.analysis.stats.malformed,
    load: r.load,
  };
  const rows = [
    { what: 'log files', n: summary.files },
    { what: 'requests read', n: summary.requests },
    { what: 'downloads counted', n: summary.downloads },
    { what: '  installs', n: summary.installs },
    { what: '  updater fetches', n: summary.updates },
    { what: 'malformed lines skipped', n: summary.malformed },
    { what: 'events stored', n: r.load.inserted },
    { what: 'already in the store', n: r.load.duplicates },
  ];
  return {
    json: summary,
    tables: [
      {
        title: `Loaded Teleport Connect downloads into ${c.store}`,
        columns: [
          { key: 'what', header: '' },
          { key: 'n', header: 'Count', align: 'right' },
        ],
        rows,
        notes: [describeLoad(r.load)],
      },
    ],
    status: true,
  };
}

function describeLoad(load: LoadSummary): string {
  return `${formatNumber(load.inserted)} new download event${load.inserted === 1 ? '' : 's'}, ${formatNumber(load.duplicates)} already loaded`;
}

/** Terminal chart of installs and updater fetches per period (with --by period, 4+ periods). */
function periodChart(r: DownloadsReport, width?: number): string | undefined {
  if (!r.by.includes('period')) return undefined;
  const periods = [...new Set(r.rows.map((x) => x.period!))].sort();
  if (periods.length < 4) return undefined;
  const installs = new Map<string, number>();
  const updates = new Map<string, number>();
  for (const x of r.rows) {
    installs.set(x.period!, (installs.get(x.period!) ?? 0) + x.installs);
    updates.set(x.period!, (updates.get(x.period!) ?? 0) + x.updates);
  }
  return lineChart(periods, [
    { name: 'installs', values: periods.map((p) => installs.get(p) ?? 0) },
    { name: 'updater fetches', values: periods.map((p) => updates.get(p) ?? 0) },
  ], { width });
}

/** Log files read, then the load of the counted downloads, each with its progress line. */
async function loadWithProgress<T>(
  c: CommandContext,
  run: (p: { onFile: Reporter<(files: number, of: number, bytes: number) => void>['on']; onProgress: ReturnType<typeof loadReporter>['on'] }) => Promise<T>,
): Promise<T> {
  const files = filesReporter(c.out, 'downloads');
  const load = loadReporter(c.out, 'downloads: load');
  return run({
    onFile: files.on,
    onProgress: (p) => {
      files.end();
      load.on(p);
    },
  }).finally(() => {
    files.end();
    load.end();
  });
}
