/**
 * Action behind `load`: open the store, load, render the summary.
 */
import type { Command } from 'commander';
import { globalsOf } from '../../cli/globals.js';
import { emit, info } from '../../output/emit.js';
import { formatNumber } from '../../output/table.js';
import { Store } from '../store.js';
import { loadFiles, type LoadSummary } from '../ingest.js';

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

export async function loadCommand(files: string[], opts: { strictVocabulary?: boolean }, cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const store = await Store.open(g.store);
  if (store.recovery) info(g, `note: ${store.recovery}`);
  let summary: LoadSummary;
  try {
    summary = await loadFiles(store, files, { strictVocabulary: !!opts.strictVocabulary });
  } finally {
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
  emit(g, {
    json: { store: store.path, ...summary },
    table: {
      title: `loaded into ${store.path}: ${describeSummary(summary)}`,
      columns: [
        { key: 'what', header: '' },
        { key: 'value', header: 'count', align: 'right' },
      ],
      rows: g.quiet ? [] : rows,
    },
  });
}
