// Every lifecycle, retention and stickiness case transcribed from PostHog's test suite, in-process
// (the CLI end-to-end run of a few is test/peer/insights-cli.test.ts).
import { describe, expect, it } from 'vitest';
import { loadPeerCases, personOf, seededUuid } from '../../peer/harness.js';
import { checkInsight, type InsightExpected } from '../../peer/insight-check.js';
import { tempStore } from './helpers.js';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import { parseQuery } from '../../../src/query/parse.js';

const KINDS = ['LifecycleQuery', 'RetentionQuery', 'StickinessQuery'];
const cases = loadPeerCases().cases.filter((c) => KINDS.includes(c.query.kind));

describe('lifecycle / retention / stickiness peer cases (in-process)', () => {
  it('has cases of every kind', () => {
    for (const k of KINDS) expect(cases.filter((c) => c.query.kind === k).length, k).toBeGreaterThan(2);
  });
  for (const c of cases) {
    it(c.id, async () => {
      const events = c.events.map((e, i) => ({ ...e, uuid: seededUuid(`${c.id}/event/${i}`), person_id: personOf(c, e.distinct_id).id }));
      const persons = (c.persons ?? []).map((p) => ({ ...p, id: personOf(c, p.distinct_ids[0]!).id }));
      const t = await tempStore(events, persons);
      try {
        // as `load` does: a person is created at its first event (lifecycle's "new" reads it)
        await t.store.conn.run('UPDATE persons SET created_at = (SELECT min(timestamp) FROM events e WHERE e.person_id = persons.id)');
        const engine = localEngineForStore(t.store);
        const ctx = { timezone: c.team?.timezone ?? 'UTC', weekStart: (c.team?.week_start_day === 1 ? 1 : 0) as 0 | 1, now: c.now ? new Date(c.now) : new Date() };
        const res = (await engine.run(parseQuery(c.query, c.id), ctx)) as { results: Record<string, unknown>[] };
        expect(checkInsight(c.expected as unknown as InsightExpected, res.results)).toEqual([]);
      } finally {
        await t.cleanup();
      }
    });
  }
});
