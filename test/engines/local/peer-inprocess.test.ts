// Fast in-process run of every funnel peer case (the CLI end-to-end run is test/peer/funnels.test.ts).
import { describe, expect, it } from 'vitest';
import { checkFunnelCase, loadPeerCases, personOf, seededUuid } from '../../peer/harness.js';
import { tempStore } from './helpers.js';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import { parseQuery } from '../../../src/query/parse.js';

const cases = loadPeerCases().cases.filter((c) => c.query.kind === 'FunnelsQuery');

describe('funnel peer cases (in-process)', () => {
  for (const c of cases) {
    it(c.id, async () => {
      const events = c.events.map((e, i) => ({ ...e, uuid: seededUuid(`${c.id}/event/${i}`), person_id: personOf(c, e.distinct_id).id }));
      const persons = (c.persons ?? []).map((p) => ({ ...p, id: personOf(c, p.distinct_ids[0]!).id }));
      const t = await tempStore(events, persons);
      try {
        const engine = localEngineForStore(t.store);
        const ctx = { timezone: c.team?.timezone ?? 'UTC', weekStart: (c.team?.week_start_day === 1 ? 1 : 0) as 0 | 1, now: c.now ? new Date(c.now) : new Date() };
        const diffs = await checkFunnelCase(c, async (qs) => (await engine.runMany(qs.map((q) => parseQuery(q, c.id)), ctx)) as Record<string, unknown>[]);
        expect(diffs).toEqual([]);
      } finally {
        await t.cleanup();
      }
    });
  }
});
