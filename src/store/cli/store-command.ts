/**
 * Actions behind `store info` and `store materialize`.
 */
import type { Command } from 'commander';
import { globalsOf } from '../../cli/globals.js';
import { UsageError } from '../../errors.js';
import { emit, info } from '../../output/emit.js';
import { formatNumber } from '../../output/table.js';
import { Store } from '../store.js';
import { storeInfo } from '../info.js';

export async function storeInfoCommand(cmd: Command): Promise<void> {
  const g = globalsOf(cmd);
  const store = await Store.open(g.store, { readOnly: true });
  if (store.recovery) info(g, `note: ${store.recovery}`);
  let result;
  try {
    result = await storeInfo(store);
  } finally {
    await store.close();
  }
  const span = result.first ? `${result.first} … ${result.last}` : 'no events';
  emit(g, {
    json: result,
    table: {
      title: `${result.path}: ${formatNumber(result.events)} events, ${formatNumber(result.persons)} persons (${formatNumber(result.distinctIds)} distinct ids), ${span}`,
      columns: [
        { key: 'name', header: 'event' },
        { key: 'count', header: 'events', align: 'right' },
      ],
      rows: result.eventNames,
      notes: [`materialized properties: ${result.materialized.length ? result.materialized.join(', ') : 'none'}`],
    },
  });
}

export async function storeMaterializeCommand(given: string[], cmd: Command): Promise<void> {
  const keys = [...new Set(given)];
  const g = globalsOf(cmd);
  const bad = keys.find((k) => k.trim() === '');
  if (bad !== undefined) throw new UsageError('store materialize: property keys must not be empty');
  const store = await Store.open(g.store);
  let added: string[];
  try {
    const before = new Set(store.materializedKeys());
    await store.transaction(() => store.materialize(keys));
    added = keys.filter((k) => !before.has(k));
  } finally {
    await store.close();
  }
  const rows = keys.map((k) => ({ key: k, status: added.includes(k) ? 'added' : 'already materialized' }));
  emit(g, {
    json: { store: store.path, added, already: keys.filter((k) => !added.includes(k)) },
    table: {
      columns: [
        { key: 'key', header: 'property' },
        { key: 'status', header: 'status' },
      ],
      rows,
    },
  });
}
