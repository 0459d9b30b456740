/**
 * Funnel actors queries: which aggregation targets a FunnelsActorsQuery selects (funnelActorIds),
 * and their actor objects, shaped like PostHog's ActorsQuery "actor" column:
 * {id, distinct_ids, properties, created_at}.
 */
import { sqlString, type Store } from '../../../store/store.js';
import { UsageError } from '../../../errors.js';
import type { FunnelsActorsQuery } from '../../../query/schema.js';
import type { QueryContext } from '../../types.js';
import { scanFunnels } from './scan.js';
import { buildFunnelSpec, type FunnelSpec } from './spec.js';
import { runTargets } from './targets.js';

export interface ActorObject {
  id: string | null;
  distinct_ids: string[];
  properties: Record<string, unknown>;
  created_at?: string | null;
}

async function inBatches<T>(ids: string[], fn: (batch: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 5000) out.push(...(await fn(ids.slice(i, i + 5000))));
  return out;
}

export async function actorRows(store: Store, ids: (string | null)[], byPerson: boolean): Promise<ActorObject[]> {
  const actors = ids.map((id) => ({ id, distinct_ids: [] as string[], properties: {} as Record<string, unknown>, created_at: null as string | null }));
  if (byPerson) {
    const byId = new Map(actors.filter((a) => a.id !== null).map((a) => [a.id!, a]));
    const keys = [...byId.keys()];
    const persons = await inBatches(keys, async (batch) => {
      const r = await store.conn.runAndReadAll(
        `SELECT id, properties::VARCHAR, CAST(created_at AS VARCHAR) FROM persons WHERE id IN (${batch.map(sqlString).join(', ')})`,
      );
      return r.getRows();
    });
    for (const [id, props, created] of persons) {
      const a = byId.get(String(id));
      if (!a) continue;
      try {
        a.properties = props ? (JSON.parse(String(props)) as Record<string, unknown>) : {};
      } catch {
        a.properties = {};
      }
      a.created_at = created === null ? null : String(created);
    }
    const dids = await inBatches(keys, async (batch) => {
      const list = batch.map(sqlString).join(', ');
      const r = await store.conn.runAndReadAll(
        `SELECT person_id, distinct_id FROM person_distinct_ids WHERE person_id IN (${list})
         UNION SELECT DISTINCT person_id, distinct_id FROM events WHERE person_id IN (${list})
         ORDER BY 1, 2`,
      );
      return r.getRows();
    });
    for (const [pid, did] of dids) {
      const a = byId.get(String(pid));
      if (a && !a.distinct_ids.includes(String(did))) a.distinct_ids.push(String(did));
    }
  }
  actors.sort((x, y) => String(x.id).localeCompare(String(y.id)));
  return actors;
}


export interface FunnelActor {
  /** aggregation value (person id, or the HogQL aggregation value) */
  id: string | null;
}

function flatten(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(flatten);
  if (v === null || v === undefined) return [];
  return [typeof v === 'number' ? String(Math.trunc(v)) : String(v)];
}

/** Targets matching a FunnelsActorsQuery (funnelStep 1-indexed; negative = dropped off before |N|). */
export async function funnelActorIds(store: Store, aq: FunnelsActorsQuery, ctx: QueryContext): Promise<{ ids: (string | null)[]; spec: FunnelSpec }> {
  const spec = buildFunnelSpec(aq.source, ctx);
  if (spec.viz === 'trends') {
    throw new UsageError('query.source: actors of funnel trends are not supported by the local engine', 'Use funnelVizType "steps" in the source, or run with --engine posthog.');
  }
  const step = aq.funnelStep;
  if (step === null || step === undefined) throw new UsageError('query.funnelStep: Missing funnelStep in actors query');
  const n = spec.steps.length;
  if (step === 0 || Math.abs(step) > n) throw new UsageError(`query.funnelStep: must be between 1 and ${n} (or -2..-${n} for drop-offs), got ${step}`);
  let prior = -1;
  if (step < 0) {
    for (let i = Math.abs(step) - 2; i >= 0; i--) {
      if (!spec.steps[i]!.optional) {
        prior = i;
        break;
      }
    }
    if (prior < 0) throw new UsageError('query.funnelStep: Missing prior required step in actors query');
  }
  const wantBreakdown = aq.funnelStepBreakdown;
  const scan = await scanFunnels(store, [spec], { withTargetNames: true });
  const matches = new Set<number>();
  // (time to convert builds on the same aggregation as steps, breakdown included)
  const useBd = !!spec.breakdown;
  runTargets(spec, scan, 0, useBd, (o, info) => {
    const bits = o.res.bitfield;
    const ok = step > 0 ? (bits & (1 << (step - 1))) !== 0 : (bits & (1 << prior)) !== 0 && (bits & (1 << (Math.abs(step) - 1))) === 0;
    if (!ok) return;
    if (wantBreakdown !== null && wantBreakdown !== undefined && info) {
      const value = info.values[o.propVal]!;
      if (JSON.stringify(flatten(value)) !== JSON.stringify(flatten(wantBreakdown))) return;
    }
    matches.add(o.target);
  });
  const ids = [...matches].map((t) => scan.targetNames![t] ?? null);
  return { ids, spec };
}
