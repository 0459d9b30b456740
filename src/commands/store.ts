/** `store info` and `store materialize KEY...`. */
import { UsageError } from '../errors.js';
import type { Report } from '../output/report.js';
import { formatNumber } from '../output/format.js';
import { Store } from '../store/store.js';
import { storeInfo } from '../store/info.js';
import type { CommandContext } from './context.js';

export async function storeInfoCommand(c: CommandContext): Promise<Report> {
  const store = await Store.open(c.store, { readOnly: true });
  if (store.recovery) c.out.status(`note: ${store.recovery}`);
  let info;
  try {
    info = await storeInfo(store);
  } finally {
    await store.close();
  }
  const span = info.first ? `${info.first} … ${info.last}` : 'no events';
  return {
    json: info,
    tables: [
      {
        title: `${info.path}: ${formatNumber(info.events)} events, ${formatNumber(info.persons)} persons (${formatNumber(info.distinctIds)} distinct ids), ${span}`,
        columns: [
          { key: 'name', header: 'event' },
          { key: 'count', header: 'events', align: 'right' },
        ],
        rows: info.eventNames,
        notes: [`materialized properties: ${info.materialized.length ? info.materialized.join(', ') : 'none'}`],
      },
    ],
  };
}

export async function storeMaterializeCommand(given: string[], c: CommandContext): Promise<Report> {
  const keys = [...new Set(given)];
  const bad = keys.find((k) => k.trim() === '');
  if (bad !== undefined) throw new UsageError('store materialize: property keys must not be empty');
  const store = await Store.open(c.store);
  let added: string[];
  try {
    const before = new Set(store.materializedKeys());
    await store.transaction(() => store.materialize(keys));
    added = keys.filter((k) => !before.has(k));
  } finally {
    await store.close();
  }
  const rows = keys.map((k) => ({ key: k, status: added.includes(k) ? 'added' : 'already materialized' }));
  return {
    json: { store: store.path, added, already: keys.filter((k) => !added.includes(k)) },
    tables: [
      {
        columns: [
          { key: 'key', header: 'property' },
          { key: 'status', header: 'status' },
        ],
        rows,
      },
    ],
  };
}
