// A few lifecycle, retention and stickiness peer cases end to end, as hidden cases are checked:
// PostHog-shaped JSONL -> `discover-metrics load` -> `discover-metrics query run --format json`.
// Each is picked for what the CLI adds on top of the engine (--timezone, --week-start, --now, the
// person created at its first event by `load`); every case runs in-process in
// test/engines/local/insights-inprocess.test.ts.
// Cases transcribed from one PostHog test share their events: those are loaded once, and the
// queries of cases with the same team settings go through one `query run`.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseJsonl, contextArgs, loadPeerCases, runCli, runQueriesViaCli, type PeerCase } from './harness.js';
import { checkInsight, type InsightExpected } from './insight-check.js';

const KINDS = ['LifecycleQuery', 'RetentionQuery', 'StickinessQuery'];
const CLI_CASES = [
  'lifecycle_timezones_pacific', // --timezone
  'lifecycle_weeks_monday', // --week-start
  'lifecycle_all_time', // --now
  'retention_first_time',
  'stickiness_interval_hour_last_days', // --now, hours
];
const cases = loadPeerCases().cases.filter((c) => KINDS.includes(c.query.kind) && CLI_CASES.includes(c.id));

const dataKey = (c: PeerCase) => JSON.stringify([c.events, c.persons ?? []]);
const groups = new Map<string, PeerCase[]>();
for (const c of cases) groups.set(dataKey(c), [...(groups.get(dataKey(c)) ?? []), c]);

const answers = new Map<string, Promise<Map<string, Record<string, unknown>>>>();

/** Load a group's events once; run its queries, one `query run` per team setting. */
function answersFor(c: PeerCase): Promise<Map<string, Record<string, unknown>>> {
  const key = dataKey(c);
  let p = answers.get(key);
  if (!p) {
    p = (async () => {
      const group = groups.get(key)!;
      const dir = mkdtempSync(join(tmpdir(), 'dm-peer-insights-'));
      try {
        const store = join(dir, 'events.duckdb');
        writeFileSync(join(dir, 'events.jsonl'), caseJsonl(group[0]!));
        const load = await runCli(['--store', store, 'load', join(dir, 'events.jsonl')]);
        if (load.code !== 0) throw new Error(`load failed (${load.code}): ${load.stderr}`);
        const byContext = new Map<string, PeerCase[]>();
        for (const g of group) byContext.set(contextArgs(g).join(' '), [...(byContext.get(contextArgs(g).join(' ')) ?? []), g]);
        const out = new Map<string, Record<string, unknown>>();
        let n = 0;
        for (const list of byContext.values()) {
          const res = await runQueriesViaCli(list[0]!, store, dir, list.map((x) => x.query), `ctx${n++}`);
          list.forEach((x, i) => out.set(x.id, res[i]!));
        }
        return out;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    answers.set(key, p);
  }
  return p;
}

describe.concurrent('PostHog lifecycle / retention / stickiness peer cases through the CLI', () => {
  it('finds every case it names, of every kind', () => {
    expect(cases.map((c) => c.id).sort()).toEqual([...CLI_CASES].sort());
    for (const k of KINDS) expect(cases.some((c) => c.query.kind === k), k).toBe(true);
  });
  for (const c of cases) {
    it(c.id, async () => {
      const res = (await answersFor(c)).get(c.id)!;
      expect(checkInsight(c.expected as unknown as InsightExpected, res.results as Record<string, unknown>[])).toEqual([]);
    });
  }
});
