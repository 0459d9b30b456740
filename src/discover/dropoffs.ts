/**
 * "Who dropped off, and what did they do?" — the wizard sessions of a track that reached a step
 * and not the next one (PostHog's FunnelsActorsQuery with a negative funnelStep on the track's
 * own funnel and bucket), each with its account, the error it hit on the step it did not pass,
 * and the account's next Discover session: which track, and whether it completed.
 *
 * Every query is one both engines answer (an actors query and TrendsQuery breakdowns), so the
 * order of sessions is known to the hour (a TrendsQuery's finest common interval here): an
 * account's next session is its first other session starting in the same hour or later.
 */
import type { Engine, QueryContext, QueryResponse } from '../engines/types.js';
import { buildTrackFunnelQuery, COUNTED_STATUSES, loadTracks, stepEventName, stepTitle, trackSteps, NULL_BREAKDOWN, OTHER_BREAKDOWN, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { taxonomy } from '../events/taxonomy.js';
import { UsageError, didYouMean } from '../errors.js';
import type { DateRange } from '../query/schema.js';
import { addDays } from 'date-fns/addDays';
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';

export const MAX_SESSIONS = 1000;

export interface NextSession {
  session: string;
  /** track slug, or the raw resource when no track has it */
  track: string;
  startedHour: string;
  completed: boolean;
}

export interface DropoffSession {
  session: string;
  account: string | null;
  /** the hour the session selected its resource (team timezone) */
  startedHour: string | null;
  /** the error text it hit on the step it did not pass (the most frequent one if several) */
  lastError: string | null;
  errors: number;
  next: NextSession | null;
}

export interface DropoffReport {
  slug: string;
  title: string;
  step: { number: number; key: string; name: string };
  nextStep: { number: number; key: string; name: string };
  count: number;
  /** more sessions dropped than were fetched (MAX_SESSIONS) */
  truncated: boolean;
  sessions: DropoffSession[];
  summary: {
    withError: number;
    accounts: number;
    cameBack: number;
    completedNext: number;
    nextTracks: { track: string; sessions: number; completed: number }[];
    errors: { message: string; sessions: number }[];
  };
  queries: Record<string, unknown>[];
}

/** Validate --step against the track and return its 0-based index. */
export function stepIndex(track: Track, steps: string[], key: string): number {
  const i = steps.indexOf(key);
  if (i < 0) {
    const s = didYouMean(key, steps);
    throw new UsageError(`--step: '${key}' is not a step of ${track.slug}${s ? ` — did you mean ${s}?` : ''}`, `Its steps: ${steps.slice(0, -1).join(', ')}.`);
  }
  if (i === steps.length - 1) throw new UsageError(`--step: '${key}' is the last step of ${track.slug}: nobody drops off after it`, `Its steps: ${steps.slice(0, -1).join(', ')}.`);
  return i;
}

export function buildDropoffActorsQuery(track: Track, o: TrackFunnelOptions, index: number): Record<string, unknown> {
  return {
    kind: 'ActorsQuery',
    select: ['id'],
    limit: MAX_SESSIONS,
    source: {
      kind: 'FunnelsActorsQuery',
      source: buildTrackFunnelQuery(track, { ...o, breakdown: undefined }),
      // a negative step N: reached step |N| − 1 and not step |N| (1-based)
      funnelStep: -(index + 2),
      funnelStepBreakdown: track.resource,
    },
  };
}

const prop = (key: string, value: string[] | string, operator = 'exact') => ({ key, type: 'event', operator, value });

function table(series: Record<string, unknown>[], properties: unknown[], breakdowns: string[], dateRange: DateRange, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'TrendsQuery',
    series,
    dateRange,
    interval: 'day',
    properties,
    breakdownFilter: { breakdowns: breakdowns.map((property) => ({ property, type: 'event' })), breakdown_limit: 10_000 },
    trendsFilter: { display: 'ActionsTable' },
    ...extra,
  };
}

interface Item {
  breakdown_value?: unknown;
  aggregated_value?: number;
  count?: number;
  data?: number[];
  days?: string[];
}

function items(r: QueryResponse | undefined): Item[] {
  return Array.isArray(r?.results) ? (r!.results as Item[]) : [];
}

function parts(v: unknown): (string | null)[] {
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (x === null || x === undefined || x === NULL_BREAKDOWN || x === OTHER_BREAKDOWN || x === '' ? null : String(x)));
}

function idsOf(r: QueryResponse): { ids: string[]; hasMore: boolean } {
  const rows = Array.isArray(r.results) ? (r.results as unknown[][]) : [];
  const ids = rows.map((row) => {
    const v = row[0];
    if (v && typeof v === 'object' && 'id' in (v as object)) return String((v as { id: unknown }).id);
    return String(v);
  });
  return { ids: [...new Set(ids)].sort(), hasMore: !!r.hasMore };
}

/** Where to look for what happened next: the range, and 30 days after an absolute end. */
export function followUpRange(range: DateRange): DateRange {
  const end = range.date_to;
  if (!end || !/^\d{4}-\d{2}-\d{2}/.test(end)) return { date_from: range.date_from, date_to: null };
  return { date_from: range.date_from, date_to: format(addDays(parseISO(end.slice(0, 10)), 30), 'yyyy-MM-dd') };
}

export async function dropoffs(engine: Engine, track: Track, o: TrackFunnelOptions, stepKey: string, ctx: QueryContext): Promise<DropoffReport> {
  const followUp = followUpRange(o.dateRange);
  const t = taxonomy();
  const P = t.discover.properties;
  const accountKey = t.cluster.properties.accountId;
  const steps = o.steps ?? trackSteps(track, o.deployment);
  const index = stepIndex(track, steps, stepKey);
  const actorsQuery = buildDropoffActorsQuery(track, o, index);
  const [actors] = await engine.runMany([actorsQuery] as never, ctx);
  const { ids, hasMore } = idsOf(actors!);
  const queries: Record<string, unknown>[] = [actorsQuery];
  const sessions: DropoffSession[] = ids.map((session) => ({ session, account: null, startedHour: null, lastError: null, errors: 0, next: null }));
  const bySession = new Map(sessions.map((s) => [s.session, s]));

  if (ids.length > 0) {
    const nextEvent = stepEventName(steps[index + 1]!);
    // the error on the step not passed, and each session's account
    const errorsQ = table(
      [{ kind: 'EventsNode', event: nextEvent, name: nextEvent, math: 'total', properties: [prop(P.status, ['DISCOVER_STATUS_ERROR'])] }],
      [prop(P.sessionId, ids)],
      [P.sessionId, P.error],
      followUp,
    );
    const accountsQ = table([{ kind: 'EventsNode', event: null, name: 'All events', math: 'total' }], [prop(P.sessionId, ids)], [P.sessionId, accountKey], followUp);
    queries.push(errorsQ, accountsQ);
    const [errs, accts] = await engine.runMany([errorsQ, accountsQ] as never, ctx);
    const perSession = new Map<string, Map<string, number>>();
    for (const it of items(errs)) {
      const [sid, msg] = parts(it.breakdown_value);
      const s = sid ? bySession.get(sid) : undefined;
      if (!s) continue;
      const n = Number(it.aggregated_value ?? it.count ?? 0);
      s.errors += n;
      const m = perSession.get(s.session) ?? new Map<string, number>();
      m.set(msg ?? '(no error text)', (m.get(msg ?? '(no error text)') ?? 0) + n);
      perSession.set(s.session, m);
    }
    for (const [sid, m] of perSession) {
      bySession.get(sid)!.lastError = [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]![0];
    }
    for (const it of items(accts)) {
      const [sid, account] = parts(it.breakdown_value);
      const s = sid ? bySession.get(sid) : undefined;
      if (s && account && !s.account) s.account = account;
    }

    // every session of those accounts, by the hour it selected a resource, and which resource
    const accounts = [...new Set(sessions.map((s) => s.account).filter((a): a is string => a !== null))].sort();
    if (accounts.length > 0) {
      const selection = stepEventName('resourceSelection');
      const startsQ = table(
        [{ kind: 'EventsNode', event: selection, name: selection, math: 'total', properties: [prop(P.status, [...COUNTED_STATUSES])] }],
        [prop(accountKey, accounts)],
        [accountKey, P.sessionId, P.resource],
        followUp,
        { interval: 'hour', trendsFilter: { display: 'ActionsLineGraph' } },
      );
      queries.push(startsQ);
      const [starts] = await engine.runMany([startsQ] as never, ctx);
      const byAccount = new Map<string, { session: string; resource: string; hour: string }[]>();
      for (const it of items(starts)) {
        const [account, sid, resource] = parts(it.breakdown_value);
        const i = (it.data ?? []).findIndex((v) => v > 0);
        if (!account || !sid || i < 0) continue;
        const hour = (it.days ?? [])[i] ?? '';
        const list = byAccount.get(account) ?? [];
        const known = list.find((x) => x.session === sid);
        if (!known) list.push({ session: sid, resource: resource ?? '(none)', hour });
        else if (hour < known.hour) Object.assign(known, { hour, resource: resource ?? known.resource });
        byAccount.set(account, list);
      }
      for (const list of byAccount.values()) list.sort((a, b) => a.hour.localeCompare(b.hour) || a.session.localeCompare(b.session));
      const tracks = new Map(loadTracks().map((x) => [x.resource, x.slug]));
      const candidates: NextSession[] = [];
      for (const s of sessions) {
        const list = s.account ? (byAccount.get(s.account) ?? []) : [];
        const own = list.find((x) => x.session === s.session);
        s.startedHour = own?.hour ?? null;
        if (!own) continue;
        const next = list.find((x) => x.session !== s.session && x.hour >= own.hour);
        if (next) {
          s.next = { session: next.session, track: tracks.get(next.resource) ?? next.resource, startedHour: next.hour, completed: false };
          candidates.push(s.next);
        }
      }
      if (candidates.length > 0) {
        const completed = stepEventName('completed');
        const doneQ = table(
          [{ kind: 'EventsNode', event: completed, name: completed, math: 'total', properties: [prop(P.status, ['DISCOVER_STATUS_SUCCESS'])] }],
          [prop(P.sessionId, [...new Set(candidates.map((c) => c.session))].sort())],
          [P.sessionId],
          followUp,
        );
        queries.push(doneQ);
        const [done] = await engine.runMany([doneQ] as never, ctx);
        const finished = new Set(items(done).filter((it) => Number(it.aggregated_value ?? it.count ?? 0) > 0).map((it) => parts(it.breakdown_value)[0]));
        for (const c of candidates) c.completed = finished.has(c.session);
      }
    }
  }

  const nextTracks = new Map<string, { track: string; sessions: number; completed: number }>();
  const errors = new Map<string, number>();
  for (const s of sessions) {
    if (s.next) {
      const r = nextTracks.get(s.next.track) ?? { track: s.next.track, sessions: 0, completed: 0 };
      r.sessions++;
      if (s.next.completed) r.completed++;
      nextTracks.set(s.next.track, r);
    }
    if (s.lastError) errors.set(s.lastError, (errors.get(s.lastError) ?? 0) + 1);
  }
  const step = (i: number) => ({ number: i + 1, key: steps[i]!, name: stepTitle(steps[i]!) });
  return {
    slug: track.slug,
    title: track.title,
    step: step(index),
    nextStep: step(index + 1),
    count: ids.length,
    truncated: hasMore,
    sessions: sessions.sort((a, b) => (a.startedHour ?? '').localeCompare(b.startedHour ?? '') || a.session.localeCompare(b.session)),
    summary: {
      withError: sessions.filter((s) => s.lastError !== null).length,
      accounts: new Set(sessions.map((s) => s.account).filter(Boolean)).size,
      cameBack: sessions.filter((s) => s.next).length,
      completedNext: sessions.filter((s) => s.next?.completed).length,
      nextTracks: [...nextTracks.values()].sort((a, b) => b.sessions - a.sessions || a.track.localeCompare(b.track)),
      errors: [...errors].map(([message, n]) => ({ message, sessions: n })).sort((a, b) => b.sessions - a.sessions || a.message.localeCompare(b.message)),
    },
    queries,
  };
}
