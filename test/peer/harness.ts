/**
 * Peer-case harness: PostHog test cases (test/peer/peer-cases-posthog.json) replayed through
 * the CLI exactly as a user would: events -> PostHog-shaped JSONL -> `discover-metrics load`,
 * query -> `discover-metrics query run --format json`, then the response is compared with what
 * PostHog's test asserts (the file's `conventions`).
 *
 * Exported for reuse by other peer tests (e.g. trends and the in-process run): loadPeerCases, caseJsonl,
 * contextArgs, runCli, PeerCaseRun, checkFunnelCase.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { run } from '../commands/cli.js';

export interface PeerEvent {
  event: string;
  distinct_id: string;
  timestamp: string;
  properties?: Record<string, unknown>;
}

export interface PeerPerson {
  distinct_ids: string[];
  properties?: Record<string, unknown>;
}

export interface PeerCase {
  id: string;
  source: string;
  kind: string;
  events: PeerEvent[];
  query: { kind: string } & Record<string, unknown>;
  expected: Record<string, unknown>;
  notes?: string;
  persons?: PeerPerson[];
  team?: { timezone?: string; week_start_day?: number };
  now?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

export function loadPeerCases(): { conventions: Record<string, string>; cases: PeerCase[] } {
  return JSON.parse(readFileSync(join(here, 'peer-cases-posthog.json'), 'utf8')) as { conventions: Record<string, string>; cases: PeerCase[] };
}

/** Deterministic UUID (v4-shaped) from a seed. */
export function seededUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Person of a distinct id per the case's `persons` (default: its own person, no properties). */
export function personOf(c: PeerCase, distinctId: string): { id: string; properties: Record<string, unknown> } {
  const p = (c.persons ?? []).find((x) => x.distinct_ids.includes(distinctId));
  if (!p) return { id: seededUuid(`${c.id}/person/${distinctId}`), properties: {} };
  return { id: seededUuid(`${c.id}/person/${p.distinct_ids[0]}`), properties: p.properties ?? {} };
}

/** The case's events as PostHog-shaped JSONL lines. */
export function caseJsonl(c: PeerCase): string {
  return (
    c.events
      .map((e, i) => {
        const person = personOf(c, e.distinct_id);
        return JSON.stringify({
          uuid: seededUuid(`${c.id}/event/${i}`),
          event: e.event,
          distinct_id: e.distinct_id,
          timestamp: e.timestamp,
          properties: e.properties ?? {},
          person_id: person.id,
          person_properties: person.properties,
        });
      })
      .join('\n') + '\n'
  );
}

/** --timezone / --week-start / --now flags for the case's team settings. */
export function contextArgs(c: PeerCase): string[] {
  const args = ['--timezone', c.team?.timezone ?? 'UTC', '--week-start', c.team?.week_start_day === 1 ? 'monday' : 'sunday'];
  if (c.now) args.push('--now', c.now);
  return args;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI (in this process, or spawned when it reads standard input: see test/commands/cli.ts). */
export function runCli(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return run(args, opts);
}

/** A loaded case: a temp store plus a way to run PostHog queries against it. */
export interface PeerCaseRun {
  /** Run queries in one `query run` invocation; responses in order. */
  runMany(queries: unknown[]): Promise<Record<string, unknown>[]>;
  cleanup(): void;
}

/** `discover-metrics --store S query run q0.json q1.json ... --format json` with the case's team flags. */
export async function runQueriesViaCli(c: PeerCase, store: string, dir: string, queries: unknown[], tag = 'q'): Promise<Record<string, unknown>[]> {
  const files = queries.map((q, i) => {
    const f = join(dir, `${tag}-${i}.json`);
    writeFileSync(f, JSON.stringify(q));
    return f;
  });
  if (files.length === 0) return [];
  const r = await runCli(['--store', store, 'query', 'run', ...files, '--format', 'json', ...contextArgs(c)]);
  if (r.code !== 0) throw new Error(`query run failed (${r.code}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as Record<string, unknown> | Record<string, unknown>[];
  return files.length === 1 ? [out as Record<string, unknown>] : (out as Record<string, unknown>[]);
}

/** Load a case's events with `discover-metrics load` into a fresh temp store. */
export async function loadCaseViaCli(c: PeerCase): Promise<PeerCaseRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dm-peer-'));
  const store = join(dir, 'events.duckdb');
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, caseJsonl(c));
  const load = await runCli(['--store', store, 'load', file]);
  if (load.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`load failed (${load.code}): ${load.stderr}`);
  }
  let n = 0;
  return {
    runMany: (queries: unknown[]) => runQueriesViaCli(c, store, dir, queries, `batch${n++}`),
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------- comparison

type Json = unknown;

function approxEqual(a: Json, b: Json): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => approxEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => approxEqual((a as Record<string, Json>)[k], (b as Record<string, Json>)[k]));
  }
  return a === b;
}

/** Every key asserted in `expected` has the same value in `actual`. */
function subsetDiffs(expected: Record<string, Json>, actual: Record<string, Json> | undefined, path: string): string[] {
  if (!actual) return [`${path}: missing`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(expected)) {
    if (!approxEqual(actual[k], v)) out.push(`${path}.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(actual[k])}`);
  }
  return out;
}

type Step = Record<string, Json>;

function stepsDiffs(expected: Step[], actual: Step[] | undefined, path: string): string[] {
  if (!Array.isArray(actual)) return [`${path}: expected ${expected.length} steps, got ${JSON.stringify(actual)}`];
  if (actual.length !== expected.length) return [`${path}: expected ${expected.length} steps, got ${actual.length}`];
  return expected.flatMap((s, i) => subsetDiffs(s, actual[i], `${path}[${i}]`));
}

function actorsQuery(source: Json, step: number, breakdown?: Json): Json {
  const q: Record<string, Json> = { kind: 'FunnelsActorsQuery', source, funnelStep: step };
  if (breakdown !== undefined) q.funnelStepBreakdown = breakdown;
  return { kind: 'ActorsQuery', source: q, select: ['actor'], limit: 10000 };
}

function actorDistinctIds(res: Record<string, Json>): string[][] {
  const rows = (res.results ?? []) as Json[][];
  return rows.map((r) => ((r[0] as { distinct_ids?: string[] }).distinct_ids ?? []).slice().sort());
}

function actorsDiffs(expectedIds: string[] | number, res: Record<string, Json>, path: string): string[] {
  const got = actorDistinctIds(res);
  if (typeof expectedIds === 'number') {
    return got.length === expectedIds ? [] : [`${path}: expected ${expectedIds} actors, got ${got.length}`];
  }
  const out: string[] = [];
  if (got.length !== expectedIds.length) out.push(`${path}: expected ${expectedIds.length} actors, got ${got.length} (${JSON.stringify(got)})`);
  for (const id of expectedIds) if (!got.some((d) => d.includes(id))) out.push(`${path}: actor ${id} missing (got ${JSON.stringify(got)})`);
  return out;
}

function counts(steps: Json): number[] {
  return ((steps ?? []) as Step[]).map((s) => s.count as number);
}

/** Every query a funnel case needs (the main query, actors queries, variants), in a fixed order. */
export function funnelCaseQueries(c: PeerCase): unknown[] {
  const exp = c.expected as Record<string, Json>;
  const qs: unknown[] = [];
  if (Object.keys(exp).some((k) => k !== 'variants')) qs.push(c.query);
  if ('actors_at_step' in exp) for (const step of Object.keys(exp.actors_at_step as object)) qs.push(actorsQuery(c.query, Number(step)));
  if ('actors_at_step_by_breakdown' in exp) {
    for (const [value, bySteps] of Object.entries(exp.actors_at_step_by_breakdown as Record<string, object>)) {
      for (const step of Object.keys(bySteps)) qs.push(actorsQuery(c.query, Number(step), value));
    }
  }
  if ('variants' in exp) {
    for (const v of exp.variants as Record<string, Json>[]) {
      qs.push({ ...c.query, funnelsFilter: { ...(c.query.funnelsFilter as object), ...(v.funnelsFilter_overrides as object) } });
    }
  }
  return qs;
}

/**
 * Compare a funnel case: returns human-readable differences (empty = pass). `runMany` executes
 * PostHog queries (FunnelsQuery or ActorsQuery) on the engine under test, in order.
 */
export async function checkFunnelCase(c: PeerCase, runMany: (qs: unknown[]) => Promise<Record<string, Json>[]>): Promise<string[]> {
  const queries = funnelCaseQueries(c);
  const responses = await runMany(queries);
  let next = 0;
  const run = async (_q: unknown): Promise<Record<string, Json>> => responses[next++]!;
  const exp = c.expected as Record<string, Json>;
  const out: string[] = [];
  const needsMain = Object.keys(exp).some((k) => k !== 'variants');
  const res = needsMain ? await run(c.query) : {};
  const results = res.results as Json;

  if ('results' in exp && !approxEqual(results, exp.results)) out.push(`results: expected ${JSON.stringify(exp.results)}, got ${JSON.stringify(results)}`);
  if ('results_length' in exp && (results as Json[])?.length !== exp.results_length) out.push(`results.length: expected ${String(exp.results_length)}, got ${(results as Json[])?.length}`);
  if ('steps' in exp) out.push(...stepsDiffs(exp.steps as Step[], results as Step[], 'results'));
  if ('all_step_counts_equal' in exp) {
    const cs = counts(results);
    if (cs.length === 0 || cs.some((x) => x !== exp.all_step_counts_equal)) out.push(`counts: expected all ${String(exp.all_step_counts_equal)}, got ${JSON.stringify(cs)}`);
  }
  if ('breakdowns' in exp) {
    const rows = (results ?? []) as Step[][];
    const expRows = exp.breakdowns as { breakdown_value: Json; steps: Step[] }[];
    const versionDependent = /version-dependent/i.test(c.notes ?? '');
    if (exp.order_asserted === true && !versionDependent) {
      if (rows.length !== expRows.length) out.push(`results: expected ${expRows.length} breakdowns, got ${rows.length}`);
      expRows.forEach((e, i) => {
        if (!approxEqual(rows[i]?.[0]?.breakdown_value, e.breakdown_value)) out.push(`results[${i}]: expected breakdown ${JSON.stringify(e.breakdown_value)}, got ${JSON.stringify(rows[i]?.[0]?.breakdown_value)}`);
        out.push(...stepsDiffs(e.steps, rows[i], `results[${i}]`));
      });
    } else {
      for (const e of expRows) {
        const row = rows.find((r) => approxEqual(r[0]?.breakdown_value, e.breakdown_value));
        if (!row) out.push(`breakdown ${JSON.stringify(e.breakdown_value)} missing (got ${JSON.stringify(rows.map((r) => r[0]?.breakdown_value))})`);
        else out.push(...stepsDiffs(e.steps, row, `breakdown ${JSON.stringify(e.breakdown_value)}`));
      }
    }
  }
  if ('breakdown_count' in exp && (results as Json[])?.length !== exp.breakdown_count) out.push(`breakdowns: expected ${String(exp.breakdown_count)}, got ${(results as Json[])?.length}`);
  if ('sorted_breakdown_values' in exp) {
    const got = ((results ?? []) as Step[][]).map((r) => r[0]?.breakdown as string[]).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const want = (exp.sorted_breakdown_values as string[][]).slice().sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    if (!approxEqual(got, want)) out.push(`breakdown values: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
  if ('bins' in exp) {
    const r = results as { bins?: Json; average_conversion_time?: Json };
    if (!approxEqual(r?.bins, exp.bins)) out.push(`bins: expected ${JSON.stringify(exp.bins)}, got ${JSON.stringify(r?.bins)}`);
  }
  if ('average_conversion_time' in exp) {
    const r = results as { average_conversion_time?: Json };
    if (!approxEqual(r?.average_conversion_time, exp.average_conversion_time)) out.push(`average_conversion_time: expected ${String(exp.average_conversion_time)}, got ${JSON.stringify(r?.average_conversion_time)}`);
  }
  if ('median_conversion_time' in exp) {
    const r = results as { median_conversion_time?: Json };
    if (!approxEqual(r?.median_conversion_time, exp.median_conversion_time)) out.push(`median_conversion_time: expected ${String(exp.median_conversion_time)}, got ${JSON.stringify(r?.median_conversion_time)}`);
  }
  if ('periods' in exp) {
    // the API (non-summarized) shape carries the conversion rate per interval
    const periods = exp.periods as { conversion_rate: number }[];
    const data = ((results as { data?: number[] }[])?.[0]?.data ?? []) as number[];
    if (!approxEqual(data, periods.map((p) => p.conversion_rate))) out.push(`trends data: expected ${JSON.stringify(periods.map((p) => p.conversion_rate))}, got ${JSON.stringify(data)}`);
  }
  if ('actors_at_step' in exp) {
    for (const [step, ids] of Object.entries(exp.actors_at_step as Record<string, string[]>)) {
      const r = await run(actorsQuery(c.query, Number(step)));
      out.push(...actorsDiffs(ids, r, `actors at step ${step}`));
    }
  }
  if ('actors_at_step_by_breakdown' in exp) {
    for (const [value, bySteps] of Object.entries(exp.actors_at_step_by_breakdown as Record<string, Record<string, string[] | number>>)) {
      for (const [step, ids] of Object.entries(bySteps)) {
        const r = await run(actorsQuery(c.query, Number(step), value));
        out.push(...actorsDiffs(ids, r, `actors at step ${step} of breakdown ${JSON.stringify(value)}`));
      }
    }
  }
  if ('variants' in exp) {
    for (const [i, v] of (exp.variants as Record<string, Json>[]).entries()) {
      const r = await run(null);
      const rows = (r.results ?? []) as Json[];
      const where = `variant ${i} ${JSON.stringify(v.funnelsFilter_overrides)}`;
      if ('results_length' in v && rows.length !== v.results_length) out.push(`${where}: expected ${String(v.results_length)} results, got ${rows.length}`);
      if ('steps_per_result' in v && !rows.every((x) => (x as Json[]).length === v.steps_per_result)) out.push(`${where}: expected ${String(v.steps_per_result)} steps per result`);
      if ('counts' in v && !approxEqual(counts(rows[0]), v.counts)) out.push(`${where}: expected counts ${JSON.stringify(v.counts)}, got ${JSON.stringify(counts(rows[0]))}`);
      if ('counts_each' in v) {
        for (const [k, row] of rows.entries()) if (!approxEqual(counts(row), v.counts_each)) out.push(`${where}: result ${k} counts ${JSON.stringify(counts(row))}, expected ${JSON.stringify(v.counts_each)}`);
      }
    }
  }
  return out;
}
