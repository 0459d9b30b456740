/**
 * Rendering of a push plan or result: one row per insight with its action and what changes.
 */
import type { Report } from '../output/report.js';
import type { Column, TableSpec } from '../output/table.js';
import type { PlannedInsight, PushResult } from './push.js';

const VERB: Record<string, { plan: string; done: string }> = {
  create: { plan: 'create', done: 'created' },
  update: { plan: 'update', done: 'updated' },
  unchanged: { plan: 'unchanged', done: 'unchanged' },
  delete: { plan: 'delete', done: 'deleted' },
};

export function renderPush(r: PushResult, host: string): Report {
  const json = {
    dryRun: r.dryRun,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    deleted: r.deleted,
    dashboard: r.dashboard,
    insights: r.insights,
    stale: r.stale,
  };
  const verb = (a: string) => (r.dryRun ? VERB[a]!.plan : VERB[a]!.done);
  const columns: Column<PlannedInsight>[] = [
    { key: 'action', header: r.dryRun ? 'Plan' : 'Done', text: (p) => verb(p.action) },
    { key: 'key', header: 'Key' },
    { key: 'name', header: 'Insight' },
    { key: 'id', header: 'Id', align: 'right' },
    { key: 'changes', header: 'Changes', value: (p) => p.changes.join('; '), text: (p) => p.changes.join('\n') },
  ];
  const notes = [
    `${r.dryRun ? 'Plan for' : 'Pushed to'} ${host}: ${r.created} ${verb('create')}, ${r.updated} ${verb('update')}, ${r.unchanged} unchanged, ${r.deleted} ${verb('delete')}.`,
    `Dashboard "${r.dashboard.name}": ${r.dashboard.action === 'unchanged' ? 'unchanged' : verb(r.dashboard.action)}${r.dashboard.id !== null ? ` (id ${r.dashboard.id})` : ''}.`,
  ];
  if (r.stale) notes.push(`${r.stale} insight(s) pushed earlier match no definition (or repeat one); --prune removes them.`);
  if (r.dryRun) notes.push('Nothing was changed (--dry-run).');
  const table: TableSpec<PlannedInsight> = { title: r.dryRun ? 'push --dry-run: saved insights' : 'push: saved insights', columns, rows: r.insights, notes };
  return { json, tables: [table] };
}
