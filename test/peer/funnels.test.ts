// Every funnel case transcribed from PostHog's test suite, end to end through the CLI:
// PostHog-shaped JSONL -> `discover-metrics load` -> `discover-metrics query run --format json`.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkFunnelCase, loadCaseViaCli, loadPeerCases, personOf, runQueriesViaCli, seededUuid, REPO_ROOT, type PeerCase, type PeerCaseRun } from './harness.js';
import { tempStore } from '../engine/helpers.js';

const cases = loadPeerCases().cases.filter((c) => c.query.kind === 'FunnelsQuery');
const hasLoad = existsSync(join(REPO_ROOT, 'src', 'commands', 'load.ts'));

/** Until `load` is registered, build the store in-process; queries still go through the CLI. */
async function loadCase(c: PeerCase): Promise<PeerCaseRun> {
  if (hasLoad) return loadCaseViaCli(c);
  const events = c.events.map((e, i) => ({ ...e, uuid: seededUuid(`${c.id}/event/${i}`), person_id: personOf(c, e.distinct_id).id }));
  const persons = (c.persons ?? []).map((p) => ({ ...p, id: personOf(c, p.distinct_ids[0]!).id }));
  const t = await tempStore(events, persons);
  await t.store.close();
  const dir = mkdtempSync(join(tmpdir(), 'dm-peer-q-'));
  let n = 0;
  return {
    runMany: (queries) => runQueriesViaCli(c, t.path, dir, queries, `batch${n++}`),
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
      rmSync(t.dir, { recursive: true, force: true });
    },
  };
}

// CLI spawns run dist/, which concurrent test runs in a shared tree rebuild; retry such spawns
// (a real mismatch fails every attempt).
describe.concurrent('PostHog funnel peer cases through the CLI', { retry: 2 }, () => {
  it('has funnel cases', () => expect(cases.length).toBeGreaterThan(40));
  for (const c of cases) {
    it(c.id, async () => {
      const run = await loadCase(c);
      try {
        expect(await checkFunnelCase(c, (qs) => run.runMany(qs))).toEqual([]);
      } finally {
        run.cleanup();
      }
    });
  }
});
