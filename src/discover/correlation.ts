/**
 * "Why did they drop off?" — PostHog's funnel correlation (FunnelCorrelationQuery) for a track's
 * wizard sessions: which events and which property values go with completing or failing.
 *
 * PostHog's own runner joins events to actors on person_id, so it has nothing to join for a
 * funnel counted per wizard session (funnelAggregateByHogQL). The same analysis is therefore
 * built from queries both engines answer: the entering and the completing sessions from
 * FunnelsActorsQuery (funnelStep 1 and the last step, the track's own bucket), and, per session,
 * its event names and property values from TrendsQuery breakdowns. Success is reaching the last
 * step; funnel step events are left out of the event list, as PostHog does; a session's events
 * are those in the range that carry its id. The odds ratios are PostHog's (src/stats/odds.ts).
 */
import type { Engine, QueryContext, QueryResponse } from '../engines/types.js';
import { buildTrackFunnelQuery, stepEventName, trackSteps, NULL_BREAKDOWN, OTHER_BREAKDOWN, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { taxonomy } from '../events/taxonomy.js';
import { correlate, type OddsRow } from '../stats/odds.js';

export const MAX_ACTORS = 10_000;

export interface EventCorrelation {
  event: string;
  oddsRatio: number;
  correlation: 'success' | 'failure';
  successCount: number;
  failureCount: number;
  significant: boolean;
  pValue: number | null;
}

export interface PropertyCorrelation extends Omit<EventCorrelation, 'event'> {
  property: string;
  value: string;
}

export interface CorrelationReport {
  slug: string;
  title: string;
  sessions: number;
  successTotal: number;
  failureTotal: number;
  skewed: boolean;
  truncated: boolean;
  events: EventCorrelation[];
  properties: PropertyCorrelation[];
  /** the property keys looked at */
  propertyKeys: string[];
  queries: Record<string, unknown>[];
}

/** Session properties worth correlating: the cluster's and the wizard's own keys in the taxonomy. */
export function correlationPropertyKeys(): string[] {
  const t = taxonomy();
  const c = t.cluster.properties;
  const d = t.discover.properties;
  return [c.teleportVersion, c.isCloud, c.licenseName, d.deployMethod, d.deployType, d.configMethod, d.sso].filter((k): k is string => typeof k === 'string');
}

export function buildCorrelationActorsQuery(track: Track, o: TrackFunnelOptions, funnelStep: number): Record<string, unknown> {
  return {
    kind: 'ActorsQuery',
    select: ['id'],
    limit: MAX_ACTORS,
    source: { kind: 'FunnelsActorsQuery', source: buildTrackFunnelQuery(track, { ...o, breakdown: undefined }), funnelStep, funnelStepBreakdown: track.resource },
  };
}

function ids(r: QueryResponse): { ids: Set<string>; hasMore: boolean } {
  const rows = Array.isArray(r.results) ? (r.results as unknown[][]) : [];
  return { ids: new Set(rows.map((row) => String(row[0] && typeof row[0] === 'object' ? (row[0] as { id: unknown }).id : row[0]))), hasMore: !!r.hasMore };
}

function clean(v: unknown): string | null {
  return v === null || v === undefined || v === '' || v === NULL_BREAKDOWN || v === OTHER_BREAKDOWN ? null : String(v);
}

/** Per (value), the entering sessions that had it: split into completed and not. */
function tally(r: QueryResponse, entered: Set<string>, success: Set<string>, skip: Set<string> = new Set()): { key: string; successCount: number; failureCount: number }[] {
  const seen = new Map<string, Set<string>>();
  for (const it of (Array.isArray(r.results) ? r.results : []) as { breakdown_value?: unknown[]; aggregated_value?: number }[]) {
    const [sid, value] = (Array.isArray(it.breakdown_value) ? it.breakdown_value : []).map(clean);
    if (!sid || value === null || value === undefined || !entered.has(sid) || skip.has(value) || !(Number(it.aggregated_value ?? 1) > 0)) continue;
    const s = seen.get(value) ?? new Set<string>();
    s.add(sid);
    seen.set(value, s);
  }
  return [...seen].map(([key, sessions]) => {
    let ok = 0;
    for (const s of sessions) if (success.has(s)) ok++;
    return { key, successCount: ok, failureCount: sessions.size - ok };
  });
}

function perSessionQuery(breakdown: { property: string; type: string }, sessions: string[], o: TrackFunnelOptions): Record<string, unknown> {
  const sid = taxonomy().discover.properties.sessionId;
  return {
    kind: 'TrendsQuery',
    series: [{ kind: 'EventsNode', event: null, name: 'All events', math: 'total' }],
    dateRange: o.dateRange,
    interval: 'day',
    properties: [{ key: sid, type: 'event', operator: 'exact', value: sessions }],
    breakdownFilter: { breakdowns: [{ property: sid, type: 'event' }, breakdown], breakdown_limit: 100_000 },
    trendsFilter: { display: 'ActionsTable' },
  };
}

const pick = <K>(r: OddsRow<K>) => ({ oddsRatio: r.oddsRatio, correlation: r.correlation, successCount: r.successCount, failureCount: r.failureCount, significant: r.significant, pValue: r.pValue });

export async function correlation(engine: Engine, track: Track, o: TrackFunnelOptions, ctx: QueryContext): Promise<CorrelationReport> {
  const steps = o.steps ?? trackSteps(track, o.deployment);
  const enteredQ = buildCorrelationActorsQuery(track, o, 1);
  const successQ = buildCorrelationActorsQuery(track, o, steps.length);
  const [e, s] = await engine.runMany([enteredQ, successQ] as never, ctx);
  const entered = ids(e!);
  const success = ids(s!);
  const queries: Record<string, unknown>[] = [enteredQ, successQ];
  const keys = correlationPropertyKeys();
  const base = { slug: track.slug, title: track.title, sessions: entered.ids.size, successTotal: success.ids.size, failureTotal: entered.ids.size - success.ids.size, truncated: entered.hasMore, propertyKeys: keys };
  if (entered.ids.size === 0) return { ...base, skewed: true, events: [], properties: [], queries };
  const list = [...entered.ids].sort();
  const eventQ = perSessionQuery({ property: 'event', type: 'hogql' }, list, o);
  const propQs = keys.map((k) => perSessionQuery({ property: k, type: 'event' }, list, o));
  queries.push(eventQ, ...propQs);
  const [ev, ...props] = await engine.runMany([eventQ, ...propQs] as never, ctx);
  const stepEvents = new Set(steps.map(stepEventName));
  const events = correlate(tally(ev!, entered.ids, success.ids, stepEvents), base.successTotal, base.failureTotal);
  const propertyRows = keys.flatMap((k, i) => tally(props[i]!, entered.ids, success.ids).map((r) => ({ ...r, key: `${k}::${r.key}` })));
  const properties = correlate(propertyRows, base.successTotal, base.failureTotal);
  return {
    ...base,
    skewed: events.skewed,
    events: events.rows.map((r) => ({ event: r.key, ...pick(r) })),
    properties: properties.rows.map((r) => {
      const at = r.key.indexOf('::');
      return { property: r.key.slice(0, at), value: r.key.slice(at + 2), ...pick(r) };
    }),
    queries,
  };
}
