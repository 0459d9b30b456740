/**
 * CI smoke check against a PostHog project (or the sandbox):
 *   1. generate a small seeded fixture set (src/synthetic),
 *   2. replay it, every event tagged with this run's id in the synthetic marker property,
 *   3. wait (bounded) until the target has ingested all of it: a TrendsQuery counting each event
 *      name, filtered on the run id, must reach the fixture's counts, then every fixture uuid must
 *      be stored (counted per uuid, so an event stored twice, a re-send PostHog has not merged
 *      yet, is seen and fails the check rather than passing as "all ingested"),
 *   4. run the Discover funnel and Connect DAU there and on the local engine over the same
 *      fixtures (loaded into a temporary store) and compare the numbers.
 * Returns the comparison; the command exits 1 when anything differs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { taxonomy } from '../events/taxonomy.js';
import { UsageError } from '../errors.js';
import type { Engine, PostHogQuery, QueryContext } from '../engines/types.js';
import { createPostHogEngine } from '../engines/posthog/index.js';
import { describeInputs, readFixtures } from '../replay/input.js';
import { replay, assertComplete, type ReplaySummary } from '../replay/replay.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SmokeOptions {
  host: string;
  /** App host for queries when it differs from the capture host (PostHog Cloud: us.posthog.com vs us.i.posthog.com). */
  queryHost?: string;
  projectId: string;
  projectApiKey: string;
  personalApiKey: string;
  seed?: number;
  days?: number;
  accounts?: number;
  installations?: number;
  /** Discover track slug for the funnel. Default server. */
  track?: string;
  /** Bound for waiting on ingestion (ms). Default 5 min. */
  ingestTimeoutMs?: number;
  pollMs?: number;
  yes?: boolean;
  quiet?: boolean;
  log?: (line: string) => void;
  /** Replay tuning passed through (tests). */
  retryDelayMs?: number;
  now?: Date;
}

export interface SmokeCheck {
  name: string;
  posthog: string;
  local: string;
  ok: boolean;
  differences: string[];
}

export interface SmokeResult {
  ok: boolean;
  /** The fixture's events as the target stores them: distinct uuids, rows, and rows beyond one per uuid. */
  stored: { distinct: number; rows: number; duplicates: number };
  runId: string;
  seed: number;
  events: number;
  replay: ReplaySummary;
  ingestSeconds: number;
  checks: SmokeCheck[];
}

const DAY = 86_400_000;

/** The run-id filter added to every smoke query. */
function markerFilter(runId: string) {
  return { key: taxonomy().synthetic.markerProperty, type: 'event', operator: 'exact', value: [runId] };
}

function withFilter(q: Record<string, unknown>, runId: string): PostHogQuery {
  const props = Array.isArray(q.properties) ? q.properties : [];
  return { ...(q as PostHogQuery), properties: [...props, markerFilter(runId)] };
}

/** The Discover funnel for one track over the fixture window. */
export async function discoverFunnelQuery(slug: string, dateRange: { date_from: string; date_to: string }): Promise<Record<string, unknown>> {
  const d = await import('../definitions/discover.js');
  const track = d.findTrack(slug);
  return d.buildTrackFunnelQuery(track, {
    dateRange,
    window: { funnelWindowInterval: 14, funnelWindowIntervalUnit: 'day' },
    order: 'ordered',
    deployment: 'cloud',
  });
}

/** Connect DAU: active installations per day, any Connect event (RFD 97), from src/definitions/connect.ts. */
export async function connectDauQuery(dateRange: { date_from: string; date_to: string }): Promise<Record<string, unknown>> {
  const c = await import('../definitions/connect.js');
  return c.buildDauQuery(c.loadConnectDefinitions(), { dateRange, interval: 'day', math: 'dau' }) as unknown as Record<string, unknown>;
}

/** Event counts per name over the window, filtered on the run id: the ingestion check. */
function countQuery(names: string[], dateRange: { date_from: string; date_to: string }, runId: string): PostHogQuery {
  return withFilter(
    {
      kind: 'TrendsQuery',
      series: names.map((event) => ({ kind: 'EventsNode', event, name: event, math: 'total' })),
      interval: 'day',
      dateRange,
      trendsFilter: { display: 'ActionsTable' },
    },
    runId,
  );
}

function seriesTotals(results: unknown): number[] {
  if (!Array.isArray(results)) return [];
  return results.map((r) => {
    const o = r as { aggregated_value?: number; count?: number; data?: number[] };
    if (typeof o.aggregated_value === 'number') return o.aggregated_value;
    if (typeof o.count === 'number') return o.count;
    return (o.data ?? []).reduce((a, b) => a + b, 0);
  });
}

/** The comparable numbers of a funnel or trends response, as flat path -> value pairs. */
export function comparable(kind: string, results: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const round = (v: unknown) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v);
  if (kind === 'FunnelsQuery') {
    const groups: unknown[][] = Array.isArray(results) && results.length && Array.isArray(results[0]) ? (results as unknown[][]) : [results as unknown[]];
    for (const g of groups) {
      if (!Array.isArray(g)) continue;
      for (const s of g) {
        const st = s as Record<string, unknown>;
        const bv = JSON.stringify(st.breakdown_value ?? st.breakdown ?? null);
        const key = `${bv} step ${String(st.order)} ${String(st.name ?? '')}`;
        out.set(`${key} count`, st.count);
        for (const f of ['average_conversion_time', 'median_conversion_time']) out.set(`${key} ${f}`, round(st[f] ?? null));
      }
    }
  } else if (Array.isArray(results)) {
    for (const r of results) {
      const o = r as Record<string, unknown>;
      const key = `${String(o.label ?? '')}${o.breakdown_value !== undefined ? ` [${JSON.stringify(o.breakdown_value)}]` : ''}`;
      const days = (o.days as string[] | undefined) ?? [];
      const data = (o.data as number[] | undefined) ?? [];
      data.forEach((v, i) => out.set(`${key} ${days[i] ?? i}`, v));
      if (o.aggregated_value !== undefined) out.set(`${key} total`, o.aggregated_value);
    }
  }
  return out;
}

export function diff(a: Map<string, unknown>, b: Map<string, unknown>, max = 10): string[] {
  const out: string[] = [];
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of [...keys].sort()) {
    const x = a.get(k);
    const y = b.get(k);
    if (JSON.stringify(x ?? null) !== JSON.stringify(y ?? null)) {
      out.push(`${k}: posthog ${JSON.stringify(x ?? null)} vs local ${JSON.stringify(y ?? null)}`);
      if (out.length >= max) break;
    }
  }
  return out;
}

function summarize(kind: string, results: unknown): string {
  if (kind === 'FunnelsQuery') {
    const groups: unknown[][] = Array.isArray(results) && results.length && Array.isArray(results[0]) ? (results as unknown[][]) : [results as unknown[]];
    let entered = 0;
    let completed = 0;
    for (const g of groups) {
      if (!Array.isArray(g) || g.length === 0) continue;
      entered += Number((g[0] as { count?: number }).count ?? 0);
      completed += Number((g[g.length - 1] as { count?: number }).count ?? 0);
    }
    return `${entered} sessions entered, ${completed} completed (${groups.length} resource buckets)`;
  }
  const totals = seriesTotals(results);
  return `${totals.reduce((a, b) => a + b, 0)} active installation-days`;
}


export async function runSmoke(o: SmokeOptions): Promise<SmokeResult> {
  const log = o.log ?? ((l: string) => void process.stderr.write(l + '\n'));
  const say = (l: string) => {
    if (!o.quiet) log(l);
  };
  const seed = o.seed ?? (randomBytes(4).readUInt32BE(0) % 1_000_000_000);
  const runId = `smoke-${seed}-${randomBytes(4).toString('hex')}`;
  const days = o.days ?? 7;
  const now = o.now ?? new Date();
  // a window that ended two days ago (PostHog asks historical imports to be ≥ 48 h old)
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 2 * DAY;
  const start = end - days * DAY;
  const dateRange = { date_from: new Date(start).toISOString().slice(0, 10), date_to: new Date(end - DAY).toISOString().slice(0, 10) };
  const dir = mkdtempSync(join(tmpdir(), 'dm-smoke-'));
  // a SIGTERM/SIGINT ends the process without running `finally`: remove the temp folder then too
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup();
    process.kill(process.pid, sig);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let ctx: QueryContext = { timezone: 'UTC', weekStart: 0, now };
  let local: Engine | undefined;
  let remote: Engine | undefined;
  let localStore: { close(): Promise<void> } | undefined;
  try {
    // 1. fixtures
    const fixture = join(dir, 'fixture.jsonl');
    const { writeFixtures } = await import('../synthetic/write.js');
    await writeFixtures({ seed, start, days, accounts: o.accounts ?? 40, installations: o.installations ?? 40 }, fixture);
    const inputs = describeInputs([fixture]);
    const marker = taxonomy().synthetic.markerProperty;
    const counts = new Map<string, number>();
    const uuids: string[] = [];
    let events = 0;
    for await (const ev of readFixtures(inputs)) {
      counts.set(ev.event, (counts.get(ev.event) ?? 0) + 1);
      uuids.push(ev.uuid.toLowerCase());
      events++;
    }
    if (events === 0) throw new UsageError('smoke: the fixture generator produced no events; use more --days/--accounts');
    say(`smoke: run ${runId}, ${events} events over ${dateRange.date_from}..${dateRange.date_to}`);

    // 2. replay, tagged with the run id; after an unanswered request it asks the project which
    // uuids it holds instead of re-sending (PostHog would count a re-sent event twice)
    const phEngine = createPostHogEngine({
      host: o.queryHost ?? o.host,
      projectId: o.projectId,
      personalApiKey: o.personalApiKey,
      onNote: (m) => say(`smoke: ${m}`),
    });
    remote = phEngine;
    const { postHogUuidVerifier, storedUuidCounts } = await import('../replay/verify.js');
    const summary = await replay({
      verify: postHogUuidVerifier(phEngine.client),
      files: [fixture],
      host: o.host,
      projectApiKey: o.projectApiKey,
      historical: true,
      yes: o.yes,
      quiet: true,
      log,
      retryDelayMs: o.retryDelayMs,
      markerValue: runId,
    });
    assertComplete(summary);
    say(`smoke: replayed ${summary.sent} events in ${summary.seconds.toFixed(1)} s`);

    // 3. local engine over the same fixtures
    const { Store } = await import('../store/store.js');
    const { loadEvents } = await import('../store/ingest.js');
    const store = await Store.open(join(dir, 'local.duckdb'));
    async function* tagged() {
      for await (const ev of readFixtures(inputs)) yield { ...ev, properties: { ...ev.properties, [marker]: runId } };
    }
    await loadEvents(store, tagged());
    const { localEngineForStore } = await import('../engines/local/index.js');
    local = localEngineForStore(store);
    localStore = store;
    // the local engine answers in the project's own timezone and week start, like PostHog does
    const project = await phEngine.project();
    ctx = { timezone: project.timezone ?? 'UTC', weekStart: project.week_start_day === 1 ? 1 : 0, now };

    // 4. wait until everything is ingested (bounded): the counts per event name first (one
    // request per poll), then every uuid (events/500 requests), which also finds doubles
    const names = [...counts.keys()].sort();
    const want = names.map((n) => counts.get(n)!);
    const t0 = Date.now();
    const bound = o.ingestTimeoutMs ?? 300_000;
    let wait = o.pollMs ?? 2000;
    let perUuid = new Map<string, number>();
    for (;;) {
      const r = await remote.run(countQuery(names, dateRange, runId), ctx);
      const got = seriesTotals(r.results);
      let visible = got.reduce((a, b) => a + b, 0);
      if (names.every((_, i) => (got[i] ?? 0) >= want[i]!)) {
        perUuid = await storedUuidCounts(phEngine.client, uuids, new Date(start), new Date(end));
        visible = uuids.filter((u) => perUuid.has(u)).length;
        if (visible === events) break;
      }
      if (Date.now() - t0 > bound) {
        throw new UsageError(`smoke: the target ingested ${visible} of ${events} events within ${Math.round(bound / 1000)} s`);
      }
      say(`smoke: waiting for ingestion: ${visible}/${events} events visible`);
      await sleep(wait);
      wait = Math.min(15_000, Math.round(wait * 1.5));
    }
    const ingestSeconds = (Date.now() - t0) / 1000;
    const rows = uuids.reduce((a, u) => a + (perUuid.get(u) ?? 0), 0);
    const stored = { distinct: events, rows, duplicates: rows - events };
    const doubled = uuids.filter((u) => (perUuid.get(u) ?? 0) > 1);
    const storedCheck: SmokeCheck = {
      name: 'Stored events (one per uuid)',
      // the same wording on both sides, so a CI job may compare them as text
      posthog: `${rows} stored events, ${events} distinct uuids`,
      local: `${events} stored events, ${events} distinct uuids`,
      ok: rows === events,
      differences: doubled.slice(0, 10).map((u) => `uuid ${u} stored ${perUuid.get(u)} times (a re-sent event PostHog counts twice until it merges)`),
    };

    // 5. the reports, on both engines
    const slug = o.track ?? 'server';
    const queries: { name: string; q: PostHogQuery }[] = [
      { name: `Discover funnel (${slug})`, q: withFilter(await discoverFunnelQuery(slug, dateRange), runId) },
      { name: 'Connect DAU', q: withFilter(await connectDauQuery(dateRange), runId) },
    ];
    const [ph, lo] = await Promise.all([remote.runMany(queries.map((x) => x.q), ctx), local.runMany(queries.map((x) => x.q), ctx)]);
    const checks: SmokeCheck[] = queries.map((x, i) => {
      const kind = x.q.kind;
      const differences = diff(comparable(kind, ph[i]!.results), comparable(kind, lo[i]!.results));
      return { name: x.name, posthog: summarize(kind, ph[i]!.results), local: summarize(kind, lo[i]!.results), ok: differences.length === 0, differences };
    });
    checks.unshift(storedCheck);
    return { ok: checks.every((c) => c.ok), stored, runId, seed, events, replay: summary, ingestSeconds, checks };
  } finally {
    await local?.close().catch(() => undefined);
    await localStore?.close().catch(() => undefined);
    await remote?.close().catch(() => undefined);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    cleanup();
  }
}
