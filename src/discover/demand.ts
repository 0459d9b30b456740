/**
 * "What do users look for?" — selections per DiscoverResource (every value, with its card kind),
 * and wizard sessions that started without choosing anything. Selection-only cards (dialogs and
 * documentation links) are demand, never conversion: they are counted here, not in funnels.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import { NULL_BREAKDOWN, OTHER_BREAKDOWN, loadTracks, type Deployment, type TrendsItem } from '../definitions/discover.js';
import { buildChoseQuery, buildSelectionsQuery } from '../definitions/demand.js';
import { loadResourceCatalog, type CardKind } from '../definitions/resources.js';
import type { DateRange } from '../query/schema.js';
import type { WindowUnit } from '../engines/types.js';
import type { PostHogFunnelStep } from './funnel.js';

export interface DemandRow {
  resource: string;
  /** Card the current UI shows: guided (a wizard follows), dialog, link, not-sent; unknown if not in queries/resources.json. */
  kind: CardKind | 'unknown';
  cards: string[];
  /** The funnel track of a guided card. */
  track: string | null;
  /** Wizard sessions that selected it. */
  selections: number;
  /** Accounts behind those sessions. */
  accounts: number;
  /** Share of all selections (0..1). */
  share: number;
}

export interface DemandReport {
  resources: DemandRow[];
  /** Wizard sessions that started. */
  sessionsStarted: number;
  /** Sessions that started and never selected a resource. */
  startedWithoutSelection: number;
  /** All selections, and those of selection-only cards (dialog or link). */
  selections: number;
  selectionOnlySelections: number;
  queries: Record<string, unknown>[];
}

export interface DemandOptions {
  dateRange: DateRange;
  deployment: Deployment;
  window: { funnelWindowInterval: number; funnelWindowIntervalUnit: WindowUnit };
}

export function demandQueries(o: DemandOptions): Record<string, unknown>[] {
  return [buildSelectionsQuery(o.dateRange, o.deployment), buildChoseQuery(o.dateRange, o.deployment, o.window)];
}

export async function demand(engine: Engine, o: DemandOptions, ctx: QueryContext): Promise<DemandReport> {
  const queries = demandQueries(o);
  const [sel, chose] = await engine.runMany(queries as never, ctx);
  const series = queries[0]!.series as { custom_name: string }[];
  const counts = new Map<string, { selections: number; accounts: number }>();
  for (const item of (sel!.results as TrendsItem[]) ?? []) {
    const v = Array.isArray(item.breakdown_value) ? item.breakdown_value[0] : item.breakdown_value;
    const resource = v === null || v === undefined || v === NULL_BREAKDOWN ? '(none)' : v === OTHER_BREAKDOWN ? '(other)' : String(v);
    const which = item.action?.custom_name ?? (item.action?.order !== undefined ? series[item.action.order]?.custom_name : undefined);
    const row = counts.get(resource) ?? { selections: 0, accounts: 0 };
    const n = item.aggregated_value ?? item.count ?? 0;
    if (which === 'accounts') row.accounts += n;
    else row.selections += n;
    counts.set(resource, row);
  }
  const tracks = loadTracks();
  const catalog = loadResourceCatalog();
  const known = new Set(catalog.map((c) => c.resource));
  const all = [
    ...catalog.map((c) => ({ resource: c.resource, kind: c.kind as DemandRow['kind'], cards: c.cards })),
    ...[...counts.keys()].filter((r) => !known.has(r)).map((resource) => ({ resource, kind: 'unknown' as const, cards: [] })),
  ];
  const total = [...counts.values()].reduce((s, r) => s + r.selections, 0);
  const resources = all
    .map((c) => {
      const n = counts.get(c.resource) ?? { selections: 0, accounts: 0 };
      const track = tracks.find((t) => t.resource === c.resource && !t.legacy)?.slug ?? null;
      return { ...c, track: c.kind === 'guided' ? track : null, selections: n.selections, accounts: n.accounts, share: total > 0 ? n.selections / total : 0 };
    })
    .sort((a, b) => b.selections - a.selections || a.resource.localeCompare(b.resource));
  const res = chose!.results;
  const lists = (Array.isArray(res) && res.length > 0 ? (Array.isArray(res[0]) ? res : [res]) : []) as PostHogFunnelStep[][];
  const started = lists.reduce((s, l) => s + (l[0]?.count ?? 0), 0);
  const choseAny = lists.reduce((s, l) => s + (l[1]?.count ?? 0), 0);
  return {
    resources,
    sessionsStarted: started,
    startedWithoutSelection: started - choseAny,
    selections: total,
    selectionOnlySelections: resources.filter((r) => r.kind === 'dialog' || r.kind === 'link').reduce((s, r) => s + r.selections, 0),
    queries,
  };
}
