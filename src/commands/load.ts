/** `load FILE...`: load PostHog-shaped events into the store, all or nothing, and summarize. */
import type { Report } from '../output/report.js';
import { formatNumber } from '../output/format.js';
import { Store } from '../store/store.js';
import { loadFiles, type LoadSummary } from '../store/ingest.js';
import type { CommandContext } from './context.js';
import { loadReporter } from './progress.js';

export interface LoadOptions {
  files: string[];
  /** Also require the prehog envelope on Teleport events. */
  strictVocabulary: boolean;
}

export function describeSummary(s: LoadSummary): string {
  const parts = [
    `${formatNumber(s.read)} read`,
    `${formatNumber(s.inserted)} new`,
    `${formatNumber(s.duplicates)} already present`,
    `${formatNumber(s.persons)} new persons`,
  ];
  if (s.derivedUuids > 0) parts.push(`${formatNumber(s.derivedUuids)} without uuid (derived from content)`);
  if (s.remappedDistinctIds > 0) parts.push(`${formatNumber(s.remappedDistinctIds)} distinct ids moved to another person`);
  return parts.join(', ');
}

export async function loadCommand(o: LoadOptions, c: CommandContext): Promise<Report> {
  const store = await Store.open(c.store);
  if (store.recovery) c.out.status(`note: ${store.recovery}`);
  let summary: LoadSummary;
  const progress = loadReporter(c.out);
  try {
    summary = await loadFiles(store, o.files, { strictVocabulary: o.strictVocabulary, onProgress: c.quiet ? undefined : progress.on });
  } finally {
    progress.end();
    await store.close();
  }
  const rows = [
    { what: 'files', value: summary.files.length },
    { what: 'read', value: summary.read },
    { what: 'new events', value: summary.inserted },
    { what: 'already present (same uuid)', value: summary.duplicates },
    { what: 'new persons', value: summary.persons },
    { what: 'events without uuid (derived)', value: summary.derivedUuids },
    { what: 'distinct ids moved to another person', value: summary.remappedDistinctIds },
  ];
  return {
    json: { store: store.path, ...summary },
    tables: [
      {
        title: `loaded into ${store.path}: ${describeSummary(summary)}`,
        columns: [
          { key: 'what', header: '' },
          { key: 'value', header: 'count', align: 'right' },
        ],
        rows,
      },
    ],
    status: true,
  };
}
