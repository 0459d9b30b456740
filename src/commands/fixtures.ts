/** `fixtures generate` and `seed`: synthetic Teleport usage, to a file or into the store. */
import { mkdirSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { CommandResult, Report } from '../output/report.js';
import type { TableSpec } from '../output/table.js';
import { formatNumber } from '../output/format.js';
import type { GenerateOptions, InstallationInfo } from '../synthetic/generate.js';
import { writeFixtures, type WriteSummary } from '../synthetic/write.js';
import type { CommandContext } from './context.js';
import { eventsReporter, filesReporter, loadReporter } from './progress.js';

export interface FixturesGenerateOptions {
  generate: GenerateOptions;
  /** A file (.gz: gzip) or '-' for stdout. */
  out: string;
  /** Also write matching CloudFront download logs into this directory. */
  cdnLogs?: string;
}

export interface SeedOptions {
  /** End the demo window at the start of this day instead of today (or the stored window). */
  now?: Date;
  downloads: boolean;
}

interface KV {
  key: string;
  value: string;
}

function kvTable(rows: KV[]): TableSpec<KV> {
  return {
    columns: [
      { key: 'key', header: 'item' },
      { key: 'value', header: 'value' },
    ],
    rows,
  };
}

function generationRows(s: WriteSummary): KV[] {
  return [
    { key: 'output', value: s.out === '-' ? 'stdout' : s.out },
    { key: 'seed', value: String(s.seed) },
    { key: 'window', value: `${s.start.slice(0, 10)} .. ${s.end.slice(0, 10)} (end exclusive)` },
    { key: 'accounts', value: formatNumber(s.accounts) },
    { key: 'installations', value: formatNumber(s.installations) },
    { key: 'events', value: formatNumber(s.events) },
    ...(s.cdnLogs ? [{ key: 'CDN log files', value: formatNumber(s.cdnLogs.length) }] : []),
  ];
}

export async function fixturesGenerateCommand(o: FixturesGenerateOptions, c: CommandContext): Promise<CommandResult> {
  if (o.out === '') throw new UsageError('--out: required (a file name, a .gz name for gzip, or - for stdout)');
  const gen = o.generate;
  const cdnDir = o.cdnLogs;
  let cdnFiles: string[] | undefined;
  const onInstallations = cdnDir
    ? async (installations: InstallationInfo[]) => {
        try {
          mkdirSync(cdnDir, { recursive: true });
        } catch (e) {
          throw new UsageError(`--cdn-logs ${cdnDir}: cannot create the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
        const { writeCdnLogs } = await import('../downloads/generate.js');
        cdnFiles = await writeCdnLogs(cdnDir, { seed: gen.seed, start: new Date(gen.start), days: gen.days, installations });
      }
    : undefined;
  const progress = eventsReporter(c.out, 'generate');
  const s = await writeFixtures(gen, o.out, { onInstallations, onEvents: progress.on }).finally(() => progress.end());
  if (cdnFiles) s.cdnLogs = cdnFiles;
  if (o.out === '-') {
    // stdout carries the events: the summary goes to stderr.
    c.out.info(`generated ${formatNumber(s.events)} events (seed ${s.seed}, ${s.start.slice(0, 10)} .. ${s.end.slice(0, 10)})`);
    return;
  }
  return { json: s, tables: [kvTable(generationRows(s))], status: true };
}

export async function seedCommand(o: SeedOptions, c: CommandContext): Promise<Report> {
  const { Store } = await import('../store/store.js');
  const { seedStore } = await import('../synthetic/seed.js');
  const store = await Store.open(c.store);
  let summary;
  try {
    // The demo window ends at the start of today (UTC), so reports on their default relative
    // ranges (-30d, -90d) find it. A store seeded before keeps its window (re-seeding on a
    // later day must not mix two shifted copies of the same world); --now pins it explicitly.
    const previous = await store.conn.runAndReadAll(`SELECT value FROM meta WHERE key = 'seed.now'`);
    const stored = previous.getRows()[0]?.[0];
    const now = o.now ?? (stored ? new Date(String(stored)) : new Date());
    const generated = eventsReporter(c.out, 'seed: generate');
    const loaded = loadReporter(c.out, 'seed: load');
    const logs = filesReporter(c.out, 'seed: CDN logs');
    summary = await seedStore(store, {
      now,
      downloads: o.downloads,
      onEvents: generated.on,
      onLoad: (p) => {
        generated.end();
        logs.end();
        loaded.on(p);
      },
      onLogFile: (...a) => {
        loaded.end();
        logs.on(...a);
      },
    }).finally(() => {
      generated.end();
      loaded.end();
      logs.end();
    });
    await store.conn.run(`DELETE FROM meta WHERE key = 'seed.now'`);
    await store.conn.run(`INSERT INTO meta VALUES ('seed.now', '${now.toISOString()}')`);
  } finally {
    await store.close();
  }
  const s = summary.generated;
  const rows: KV[] = [
    { key: 'store', value: summary.store },
    { key: 'window', value: `${s.start.slice(0, 10)} .. ${s.end.slice(0, 10)} (end exclusive)` },
    { key: 'accounts (Discover)', value: formatNumber(s.accounts) },
    { key: 'installations (Connect)', value: formatNumber(s.installations) },
    { key: 'events', value: `${formatNumber(s.events)} (${formatNumber(summary.inserted)} new, ${formatNumber(summary.duplicates)} already stored)` },
  ];
  if (summary.downloads) {
    rows.push({ key: 'downloads', value: `${formatNumber(summary.downloads.inserted)} new, ${formatNumber(summary.downloads.duplicates)} already stored (${formatNumber(summary.downloads.files)} CDN log files)` });
  }
  return { json: summary, tables: [kvTable(rows)], tip: 'try: discover-metrics funnel --resource all', status: true };
}
