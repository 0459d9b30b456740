/**
 * Download counts grouped by any of period / platform / arch / version / artifact / kind, with
 * installs and updates side by side and unique downloaders (distinct client hashes).
 */
import semver from 'semver';
import { UsageError, didYouMean } from '../errors.js';
import type { TableSpec } from '../output/table.js';
import { formatNumber, formatPercent } from '../output/format.js';
import type { Download } from './count.js';
import type { ReadStats } from './logs.js';
import { periodOf, startOfLocalDay, type PeriodOptions } from '../time/index.js';

export type Dimension = 'period' | 'platform' | 'arch' | 'version' | 'artifact' | 'kind';
export const DIMENSIONS: readonly Dimension[] = ['period', 'platform', 'arch', 'version', 'artifact', 'kind'];

export type KindFilter = 'all' | 'install' | 'update';

export interface ReportOptions extends PeriodOptions {
  by: Dimension[];
  kind: KindFilter;
  /** Inclusive local dates (YYYY-MM-DD) in the timezone. */
  from?: string;
  to?: string;
}

export interface DownloadRow {
  period?: string;
  platform?: string;
  arch?: string;
  version?: string;
  artifact?: string;
  kind?: string;
  /** Fresh installer downloads. */
  installs: number;
  /** In-app updater fetches. */
  updates: number;
  downloads: number;
  /** Distinct clients (hashed address + user agent) — an estimate of unique downloaders. */
  downloaders: number;
  /** Share of downloads within the row's period (when other breakdowns split periods), else of all. */
  share: number;
}

export interface DownloadsReport {
  by: Dimension[];
  interval: PeriodOptions['interval'];
  timezone: string;
  kind: KindFilter;
  from: string | null;
  to: string | null;
  totals: { downloads: number; installs: number; updates: number; downloaders: number; firstDownload: string | null; lastDownload: string | null };
  read: ReadStats & { skippedMessage?: string };
  rows: DownloadRow[];
}

/** Parse a --by list ("platform,arch"); throws a UsageError naming the option. */
export function parseDimensions(value: string): Dimension[] {
  const out: Dimension[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const d = raw.toLowerCase() === 'day' || raw.toLowerCase() === 'date' ? 'period' : raw.toLowerCase();
    if (!(DIMENSIONS as readonly string[]).includes(d)) {
      const s = didYouMean(raw, DIMENSIONS);
      throw new UsageError(`--by: unknown breakdown '${raw}'${s ? ` (did you mean ${s}?)` : ''}`, `Valid breakdowns: ${DIMENSIONS.join(', ')}.`);
    }
    if (!out.includes(d as Dimension)) out.push(d as Dimension);
  }
  if (out.length === 0) throw new UsageError('--by: give at least one breakdown', `Valid breakdowns: ${DIMENSIONS.join(', ')}.`);
  return out;
}

/** Keep downloads within [from, to] local days and of the requested kind. */
export function filterDownloads(downloads: readonly Download[], o: Pick<ReportOptions, 'from' | 'to' | 'timezone' | 'kind'>): Download[] {
  const lo = o.from ? startOfLocalDay(o.from, o.timezone) : -Infinity;
  const hi = o.to ? startOfLocalDay(nextDay(o.to), o.timezone) : Infinity;
  return downloads.filter((d) => d.ts >= lo && d.ts < hi && (o.kind === 'all' || d.kind === o.kind));
}

function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

export function buildReport(downloads: readonly Download[], stats: ReadStats, o: ReportOptions): DownloadsReport {
  const kept = filterDownloads(downloads, o);
  const groups = new Map<string, { row: DownloadRow; clients: Set<string> }>();
  const periodTotals = new Map<string, number>();
  for (const d of kept) {
    const period = o.by.includes('period') ? periodOf(d.ts, o) : '';
    // Shares are within a period when other breakdowns split it, else of the whole range.
    const shareKey = o.by.length > 1 ? period : '';
    const row: DownloadRow = { installs: 0, updates: 0, downloads: 0, downloaders: 0, share: 0 };
    for (const dim of o.by) {
      if (dim === 'period') row.period = period;
      else row[dim] = d[dim];
    }
    const key = o.by.map((dim) => row[dim]).join('\u0000');
    let g = groups.get(key);
    if (!g) {
      g = { row, clients: new Set() };
      groups.set(key, g);
    }
    g.row.downloads++;
    if (d.kind === 'install') g.row.installs++;
    else g.row.updates++;
    g.clients.add(d.client);
    periodTotals.set(shareKey, (periodTotals.get(shareKey) ?? 0) + 1);
  }
  const rows = [...groups.values()].map(({ row, clients }) => {
    row.downloaders = clients.size;
    row.share = row.downloads / (periodTotals.get(o.by.length > 1 ? (row.period ?? '') : '') ?? 1);
    return row;
  });
  rows.sort((a, b) => {
    if (a.period !== undefined && b.period !== undefined && a.period !== b.period) return a.period < b.period ? -1 : 1;
    if (b.downloads !== a.downloads) return b.downloads - a.downloads;
    for (const dim of o.by) {
      const x = a[dim] ?? '';
      const y = b[dim] ?? '';
      if (x !== y) return dim === 'version' ? compareVersionsDesc(x, y) : x < y ? -1 : 1;
    }
    return 0;
  });
  const allClients = new Set(kept.map((d) => d.client));
  return {
    by: o.by,
    interval: o.interval,
    timezone: o.timezone,
    kind: o.kind,
    from: o.from ?? null,
    to: o.to ?? null,
    totals: {
      downloads: kept.length,
      installs: kept.filter((d) => d.kind === 'install').length,
      updates: kept.filter((d) => d.kind === 'update').length,
      downloaders: allClients.size,
      firstDownload: kept.length ? new Date(kept[0]!.ts).toISOString() : null,
      lastDownload: kept.length ? new Date(kept[kept.length - 1]!.ts).toISOString() : null,
    },
    read: { ...stats, skippedMessage: skippedMessage(stats) },
    rows,
  };
}

/** "skipped N malformed lines (first: file:line: reason)", or undefined when none. */
export function skippedMessage(stats: Pick<ReadStats, 'malformed' | 'firstMalformed'>): string | undefined {
  if (!stats.malformed) return undefined;
  const f = stats.firstMalformed;
  return `skipped ${stats.malformed} malformed line${stats.malformed === 1 ? '' : 's'}${f ? ` (first: ${f.file}:${f.line}: ${f.reason})` : ''}`;
}

/** Newest version first (semver precedence: a pre-release after its release); non-versions last. */
export function compareVersionsDesc(a: string, b: string): number {
  const va = semver.valid(a);
  const vb = semver.valid(b);
  if (va && vb) return semver.rcompare(va, vb);
  if (va || vb) return va ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const HEADERS: Record<Dimension, string> = {
  period: 'Period',
  platform: 'Platform',
  arch: 'Arch',
  version: 'Version',
  artifact: 'Artifact',
  kind: 'Kind',
};

export function reportTable(r: DownloadsReport): TableSpec<DownloadRow> {
  const periodWord = r.interval === 'day' ? 'day' : r.interval;
  const range = r.from || r.to ? ` ${r.from ?? '…'} to ${r.to ?? '…'}` : '';
  const notes = [
    `${formatNumber(r.totals.downloads)} downloads (${formatNumber(r.totals.installs)} installs, ${formatNumber(r.totals.updates)} updater fetches) by ~${formatNumber(r.totals.downloaders)} unique downloaders (hashed address + user agent)`,
    `read ${formatNumber(r.read.requests)} requests in ${formatNumber(r.read.files)} file${r.read.files === 1 ? '' : 's'}; not counted: ${formatNumber(r.read.excluded.head)} HEAD, ${formatNumber(r.read.excluded.sideFiles)} checksum/blockmap, ${formatNumber(r.read.excluded.notSuccessful)} failed, ${formatNumber(r.read.excluded.manifests)} update-manifest fetches`,
  ];
  if (r.read.skippedMessage) notes.push(r.read.skippedMessage);
  return {
    title: `Teleport Connect downloads by ${r.by.map((d) => (d === 'period' ? periodWord : d)).join(', ')}${range}${r.timezone !== 'UTC' && r.by.includes('period') ? ` (${r.timezone})` : ''}`,
    columns: [
      ...r.by.map((dim) => ({ key: dim, header: dim === 'period' ? capital(periodWord) : HEADERS[dim] })),
      { key: 'installs', header: 'Installs', align: 'right' as const },
      { key: 'updates', header: 'Updates', align: 'right' as const },
      { key: 'downloads', header: 'Downloads', align: 'right' as const },
      { key: 'downloaders', header: 'Unique downloaders', align: 'right' as const },
      { key: 'share', header: 'Share', align: 'right' as const, text: (x: DownloadRow) => formatPercent(x.share), value: (x: DownloadRow) => Number(x.share.toFixed(4)) },
    ],
    rows: r.rows,
    notes,
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
