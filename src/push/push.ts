/**
 * `push`: make a PostHog project hold exactly the insights the repository defines, on one
 * dashboard, through PostHog's REST API (GET/POST/PATCH /api/projects/:id/insights/ and
 * /dashboards/, every list read page by page). Idempotent: an insight whose name, description,
 * query, tags and dashboard already match is left alone. PostHog forbids hard deletes, so removal
 * (--prune) is a PATCH {"deleted": true}. Requests go one at a time through the client, which
 * waits out 429s for the time PostHog states.
 */
import { UsageError } from '../errors.js';
import type { PostHogClient } from '../engines/posthog/client.js';
import { desiredDashboard, keyOf, MANAGED_TAG, type DesiredDashboard, type DesiredInsight } from './desired.js';

type Obj = Record<string, unknown>;

export type PushAction = 'create' | 'update' | 'unchanged' | 'delete';

export interface PlannedInsight {
  key: string;
  name: string;
  action: PushAction;
  id: number | null;
  short_id: string | null;
  /** what changes: "field: old → new" lines (query changes by JSON path) */
  changes: string[];
}

export interface PushResult {
  dryRun: boolean;
  dashboard: { name: string; id: number | null; action: 'create' | 'update' | 'unchanged' };
  created: number;
  updated: number;
  unchanged: number;
  deleted: number;
  insights: PlannedInsight[];
  /** insights we created earlier that no definition produces (removed only with --prune) */
  stale: number;
}

const MAX_PAGES = 1000;
const PAGE = 100;

/** Every live object of a list endpoint, following PostHog's limit/offset pagination. */
export async function listAll(client: PostHogClient, kind: 'insights' | 'dashboards'): Promise<Obj[]> {
  const out: Obj[] = [];
  let path = `/${kind}/?limit=${PAGE}&offset=0`;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { json } = await client.request('GET', path);
    const body = json as { results?: unknown; next?: unknown };
    if (!body || !Array.isArray(body.results)) throw new UsageError(`GET /api/projects/${client.projectId}/${kind}/: expected a paginated list ({"results": [...]}), got something else`);
    out.push(...(body.results as Obj[]).filter((o) => !o.deleted));
    if (typeof body.next !== 'string' || body.next === '') return out;
    const next = new URL(body.next, client.host);
    path = `/${kind}/?limit=${next.searchParams.get('limit') ?? PAGE}&offset=${next.searchParams.get('offset') ?? out.length}`;
  }
  throw new UsageError(`GET /api/projects/${client.projectId}/${kind}/: more than ${MAX_PAGES} pages; stopped`);
}

/** Canonical JSON (sorted keys) for comparing what PostHog stored with what we want. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Obj)
        .sort()
        .filter((k) => (v as Obj)[k] !== undefined)
        .map((k) => [k, canonical((v as Obj)[k])]),
    );
  }
  return v;
}

const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? 'absent' : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** Differences between two JSON values, one line per changed path (at most `max`). */
export function jsonDiff(a: unknown, b: unknown, path: string, out: string[] = [], max = 12): string[] {
  if (out.length >= max) return out;
  const ca = canonical(a);
  const cb = canonical(b);
  if (JSON.stringify(ca) === JSON.stringify(cb)) return out;
  if (ca && cb && typeof ca === 'object' && typeof cb === 'object' && Array.isArray(ca) === Array.isArray(cb)) {
    if (Array.isArray(ca) && Array.isArray(cb)) {
      for (let i = 0; i < Math.max(ca.length, cb.length); i++) jsonDiff(ca[i], cb[i], `${path}[${i}]`, out, max);
    } else {
      const keys = [...new Set([...Object.keys(ca as Obj), ...Object.keys(cb as Obj)])].sort();
      for (const k of keys) jsonDiff((ca as Obj)[k], (cb as Obj)[k], `${path}.${k}`, out, max);
    }
    return out;
  }
  out.push(`${path}: ${show(ca)} → ${show(cb)}`);
  if (out.length === max) out.push('… (more changes)');
  return out;
}

function insightChanges(have: Obj, want: DesiredInsight, dashboardId: number | null, tagsKept: boolean): { changes: string[]; patch: Obj } {
  const changes: string[] = [];
  const patch: Obj = {};
  for (const f of ['name', 'description'] as const) {
    if (have[f] !== want[f]) {
      changes.push(f === 'description' ? 'description changed' : `name: ${show(have[f])} → ${show(want[f])}`);
      patch[f] = want[f];
    }
  }
  const q = jsonDiff(have.query, want.query, 'query');
  if (q.length) {
    changes.push(...q);
    patch.query = want.query;
  }
  const tags = Array.isArray(have.tags) ? (have.tags as string[]) : [];
  const missing = want.tags.filter((t) => !tags.includes(t));
  if (missing.length && tagsKept) {
    changes.push(`tags: add ${missing.join(', ')}`);
    patch.tags = [...tags, ...missing];
  }
  const dashboards = Array.isArray(have.dashboards) ? (have.dashboards as number[]) : [];
  if (dashboardId !== null && !dashboards.includes(dashboardId)) {
    changes.push('dashboards: add to the dashboard');
    patch.dashboards = [...dashboards, dashboardId];
  }
  return { changes, patch };
}

export interface PushOptions {
  dryRun: boolean;
  prune: boolean;
  dashboardName?: string;
  /** Progress: insights gone through of the total (planned, and unless dry-run created or updated), then the stale ones removed. */
  onProgress?: (done: number, total: number) => void;
  /** Progress: a step that is not per insight (reading the project's lists). */
  onPhase?: (text: string) => void;
}

/** Plan, and unless dry-run apply, the push of `want` to the project. */
export async function push(client: PostHogClient, want: DesiredInsight[], o: PushOptions): Promise<PushResult> {
  const dash: DesiredDashboard = desiredDashboard(o.dashboardName);
  o.onPhase?.('reading the dashboards');
  const dashboards = (await listAll(client, 'dashboards')).filter((d) => keyOf(d.description) === dash.key);
  let dashboardId = dashboards.length ? Number(dashboards[0]!.id) : null;
  let dashboardAction: PushResult['dashboard']['action'] = 'unchanged';
  if (dashboardId === null) {
    dashboardAction = 'create';
    if (!o.dryRun) {
      const { json } = await client.request('POST', '/dashboards/', { name: dash.name, description: dash.description, tags: dash.tags });
      dashboardId = Number((json as Obj).id);
    }
  } else if (dashboards[0]!.name !== dash.name || dashboards[0]!.description !== dash.description) {
    dashboardAction = 'update';
    if (!o.dryRun) await client.request('PATCH', `/dashboards/${dashboardId}/`, { name: dash.name, description: dash.description });
  }

  o.onPhase?.('reading the insights');
  const existing = (await listAll(client, 'insights')).filter((i) => keyOf(i.description) !== undefined);
  const byKey = new Map<string, Obj[]>();
  for (const i of existing) {
    const k = keyOf(i.description)!;
    byKey.set(k, [...(byKey.get(k) ?? []), i]);
  }
  // PostHog keeps tags only on plans with tagging: when none of the insights we pushed kept ours,
  // the project drops them, and asking again on every push would never settle
  const tagsKept = existing.length === 0 || existing.some((i) => Array.isArray(i.tags) && (i.tags as string[]).includes(MANAGED_TAG));
  const planned: PlannedInsight[] = [];
  const wanted = new Set(want.map((w) => w.key));
  o.onProgress?.(0, want.length);
  for (const [i, w] of want.entries()) {
    const [have, ...dupes] = (byKey.get(w.key) ?? []).sort((a, b) => Number(a.id) - Number(b.id));
    if (!have) {
      const row: PlannedInsight = { key: w.key, name: w.name, action: 'create', id: null, short_id: null, changes: [] };
      if (!o.dryRun) {
        const body: Obj = { name: w.name, description: w.description, query: w.query, tags: w.tags, saved: true };
        if (dashboardId !== null) body.dashboards = [dashboardId];
        const { json } = await client.request('POST', '/insights/', body);
        row.id = Number((json as Obj).id);
        row.short_id = ((json as Obj).short_id as string | undefined) ?? null;
      }
      planned.push(row);
    } else {
      const { changes, patch } = insightChanges(have, w, dashboardId, tagsKept);
      const row: PlannedInsight = { key: w.key, name: w.name, action: changes.length ? 'update' : 'unchanged', id: Number(have.id), short_id: (have.short_id as string) ?? null, changes };
      if (changes.length && !o.dryRun) await client.request('PATCH', `/insights/${have.id}/`, patch);
      planned.push(row);
    }
    // the same key twice (an interrupted earlier push): the oldest is kept, the others go with --prune
    for (const d of dupes) planned.push(staleRow(d, w.key, 'duplicate of the kept insight'));
    o.onProgress?.(i + 1, want.length);
  }
  for (const [k, list] of byKey) if (!wanted.has(k)) for (const d of list) planned.push(staleRow(d, k, 'no definition produces it any more'));
  const stale = planned.filter((p) => p.action === 'delete');
  if (o.prune && !o.dryRun && stale.length) {
    o.onPhase?.(`removing ${stale.length} stale insight${stale.length === 1 ? '' : 's'}`);
    for (const s of stale) await client.request('PATCH', `/insights/${s.id}/`, { deleted: true });
  }
  const insights = o.prune ? planned : planned.filter((p) => p.action !== 'delete');
  const count = (a: PushAction) => insights.filter((p) => p.action === a).length;
  return {
    dryRun: o.dryRun,
    dashboard: { name: dash.name, id: dashboardId, action: dashboardAction },
    created: count('create'),
    updated: count('update'),
    unchanged: count('unchanged'),
    deleted: count('delete'),
    insights,
    stale: o.prune ? 0 : stale.length,
  };
}

function staleRow(o: Obj, key: string, why: string): PlannedInsight {
  return { key, name: String(o.name ?? ''), action: 'delete', id: Number(o.id), short_id: (o.short_id as string) ?? null, changes: [why] };
}

export { MANAGED_TAG };
