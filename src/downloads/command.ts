/**
 * Actions behind `downloads` and `load-downloads`: parse options, run the logic, render.
 */
import type { Command } from 'commander';
import { globalsOf, type GlobalOptions } from '../cli/globals.js';
import { isValidTimezone } from '../cli/query-options.js';
import { UsageError } from '../errors.js';
import { lineChart } from '../output/chart.js';
import { emit, info, warn } from '../output/emit.js';
import { formatNumber } from '../output/table.js';
import { analyzeDownloadLogs, loadDownloadLogs, resolveSalt } from './index.js';
import { buildReport, parseDimensions, reportTable, skippedMessage, type DownloadsReport, type KindFilter } from './report.js';
import type { PeriodInterval } from '../time/index.js';
import type { LoadSummary } from '../store/ingest.js';

interface DownloadsFlags {
  by: string;
  interval: PeriodInterval;
  kind: KindFilter;
  from?: string;
  to?: string;
  timezone?: string;
  weekStart: 'sunday' | 'monday';
  load?: boolean;
  salt?: string;
  strict?: boolean;
}

/** Validate a --from/--to day. */
export function parseDay(option: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.toISOString().slice(0, 10) === value.trim()) return value.trim();
  }
  throw new UsageError(`${option}: '${value}' is not a date`, 'Use YYYY-MM-DD, e.g. 2026-11-01.');
}

export async function downloadsCommand(logs: string[], cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const o = cmd.opts<DownloadsFlags>();
  const by = parseDimensions(o.by);
  const timezone = o.timezone ?? process.env.DISCOVER_METRICS_TIMEZONE ?? 'UTC';
  if (!isValidTimezone(timezone)) {
    const where = o.timezone !== undefined ? '--timezone' : 'DISCOVER_METRICS_TIMEZONE';
    throw new UsageError(`${where}: '${timezone}' is not an IANA timezone`, 'Examples: UTC, Europe/Warsaw, US/Pacific.');
  }
  const from = parseDay('--from', o.from);
  const to = parseDay('--to', o.to);
  if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);

  let analysis;
  let loaded: LoadSummary | undefined;
  if (o.load) {
    const { Store } = await import('../store/store.js');
    const store = await Store.open(g.store);
    try {
      const r = await loadDownloadLogs(store, logs, { salt: o.salt, strict: o.strict });
      analysis = r.analysis;
      loaded = r.load;
    } finally {
      await store.close();
    }
  } else {
    const salt = await resolveSalt(undefined, o.salt);
    analysis = await analyzeDownloadLogs(logs, { salt, strict: o.strict });
  }
  const report = buildReport(analysis.downloads, analysis.stats, {
    by,
    interval: o.interval,
    kind: o.kind,
    from,
    to,
    timezone,
    weekStart: o.weekStart === 'monday' ? 1 : 0,
  });
  const skipped = skippedMessage(analysis.stats);
  if (skipped) warn(g, skipped);
  if (loaded !== undefined) info(g, `loaded into ${g.store}: ${describeLoad(loaded)}`);
  if (report.rows.length === 0 && g.format !== 'json') {
    const what = o.kind === 'all' ? 'downloads' : o.kind === 'install' ? 'installer downloads' : 'updater fetches';
    const range = from || to ? ` between ${from ?? 'the start'} and ${to ?? 'the end'}` : '';
    const msg = `no Teleport Connect ${what}${range} in ${formatNumber(analysis.stats.files)} log file${analysis.stats.files === 1 ? '' : 's'} (${formatNumber(analysis.stats.requests)} request${analysis.stats.requests === 1 ? '' : 's'} read)`;
    if (g.format === 'csv') process.stderr.write(msg + '\n');
    else process.stdout.write(msg + '\n');
    return;
  }
  emit(g, { json: { ...report, loaded }, table: reportTable(report), extra: periodChart(report, g) });
}

export async function loadDownloadsCommand(logs: string[], cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const o = cmd.opts<Pick<DownloadsFlags, 'salt' | 'strict'>>();
  const { Store } = await import('../store/store.js');
  const store = await Store.open(g.store);
  let r;
  try {
    r = await loadDownloadLogs(store, logs, { salt: o.salt, strict: o.strict });
  } finally {
    await store.close();
  }
  const skipped = skippedMessage(r.analysis.stats);
  if (skipped) warn(g, skipped);
  const d = r.analysis.downloads;
  const summary = {
    store: g.store,
    files: r.analysis.stats.files,
    requests: r.analysis.stats.requests,
    downloads: d.length,
    installs: d.filter((x) => x.kind === 'install').length,
    updates: d.filter((x) => x.kind === 'update').length,
    malformed: r.analysis.stats.malformed,
    load: r.load,
  };
  if (g.format === 'json') {
    emit(g, { json: summary, table: { columns: [], rows: [] } });
    return;
  }
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
  emit(g, {
    json: summary,
    table: {
      title: `Loaded Teleport Connect downloads into ${g.store}`,
      columns: [
        { key: 'what', header: '' },
        { key: 'n', header: 'Count', align: 'right' },
      ],
      rows,
      notes: [describeLoad(r.load)],
    },
  });
}

function describeLoad(load: LoadSummary): string {
  return `${formatNumber(load.inserted)} new download event${load.inserted === 1 ? '' : 's'}, ${formatNumber(load.duplicates)} already loaded`;
}

/** Terminal chart of installs and updater fetches per period (with --by period, 4+ periods). */
function periodChart(r: DownloadsReport, g: GlobalOptions): string | undefined {
  if (!r.by.includes('period') || g.format !== 'table') return undefined;
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
  ]);
}
