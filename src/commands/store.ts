/** `store info`, `store materialize KEY...` and `store index`. */
import { UsageError, cannotWrite } from '../errors.js';
import type { Report } from '../output/report.js';
import { formatNumber } from '../output/format.js';
import { Store } from '../store/store.js';
import { storeInfo } from '../store/info.js';
import { buildSessionIndex, refreshSessionIndex, sessionIndexPath } from '../store/session-index.js';
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
    // new columns: the session index's combinations may now take them in
    if (added.length) await refreshSessionIndex(store);
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

/** `store index`: (re)build the session index, e.g. of a store written before there was one. */
export async function storeIndexCommand(c: CommandContext): Promise<Report> {
  const store = await Store.open(c.store);
  if (store.recovery) c.out.status(`note: ${store.recovery}`);
  let built;
  try {
    built = await buildSessionIndex(store);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw cannotWrite('store index', sessionIndexPath(store.path), e);
    throw e;
  } finally {
    await store.close();
  }
  const rows = built
    ? [
        { what: 'events', value: formatNumber(built.rows) },
        { what: 'wizard sessions (rows without one: one group)', value: formatNumber(built.sessions) },
        { what: 'value combinations', value: formatNumber(built.combos) },
        { what: 'built in', value: `${(built.ms / 1000).toFixed(1)} s` },
      ]
    : [];
  return {
    json: { store: store.path, index: built ? { path: built.path, events: built.rows, sessions: built.sessions, combinations: built.combos } : null },
    tables: [
      {
        title: built ? `session index of ${store.path}: ${built.path}` : `no session index for ${store.path}: the store has no events or no wizard session column`,
        columns: [
          { key: 'what', header: '' },
          { key: 'value', header: 'count', align: 'right' },
        ],
        rows,
      },
    ],
  };
}
