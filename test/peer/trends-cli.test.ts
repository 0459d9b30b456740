// The trends peer cases end to end, as hidden cases are checked: PostHog-shaped JSONL ->
// `discover-metrics load` -> `discover-metrics query run --format json` (the in-process run of the
// same cases is test/peer/trends.test.ts).
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCaseViaCli, loadPeerCases, runQueriesViaCli, REPO_ROOT, type PeerCase, type PeerCaseRun } from './harness.js';
import { storeWith } from '../trends/helpers.js';
import { checkTrends, type TrendsExpected } from '../trends/peer-check.js';

const cases = loadPeerCases().cases.filter((c) => c.query.kind === 'TrendsQuery');
const hasLoad = existsSync(join(REPO_ROOT, 'src', 'commands', 'load.ts'));

/** Until `load` is registered, build the store file in-process; the query still goes through the CLI. */
async function loadCase(c: PeerCase): Promise<PeerCaseRun> {
  if (hasLoad) return loadCaseViaCli(c);
  const dir = mkdtempSync(join(tmpdir(), 'dm-peer-trends-'));
  const path = join(dir, 'events.duckdb');
  const persons = (c.persons ?? []).map((p) => ({ ...p }));
  const store = await storeWith(c.events, persons, { path });
  await store.close();
  let n = 0;
  return {
    runMany: (queries: unknown[]) => runQueriesViaCli(c, path, dir, queries, `batch${n++}`),
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.concurrent('PostHog trends peer cases through the CLI', () => {
  it('has trends cases', () => expect(cases.length).toBeGreaterThan(15));
  for (const c of cases) {
    it(c.id, async () => {
      const run = await loadCase(c);
      try {
        const [res] = await run.runMany([c.query]);
        expect(checkTrends(c.expected as unknown as TrendsExpected, res!.results as Record<string, unknown>[])).toEqual([]);
      } finally {
        run.cleanup();
      }
    });
  }
});
