// Every trends case transcribed from PostHog's own test suite must give PostHog's numbers.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { runTrends } from '../../src/engines/local/trends/index.js';
import type { TrendsQuery } from '../../src/query/schema.js';
import { parseQuery } from '../../src/query/parse.js';
import { storeWith, type TestEvent, type TestPerson } from '../engines/local/trends/helpers.js';
import { checkTrends, type TrendsExpected } from '../engines/local/trends/peer-check.js';

interface PeerCase {
  id: string;
  query: { kind: string } & Record<string, unknown>;
  events: TestEvent[];
  persons?: TestPerson[];
  team?: { timezone?: string; week_start_day?: number };
  now?: string;
  expected: TrendsExpected;
}

const here = dirname(fileURLToPath(import.meta.url));
const file = JSON.parse(readFileSync(join(here, 'peer-cases-posthog.json'), 'utf8')) as { cases: PeerCase[] };
const cases = file.cases.filter((c) => c.query.kind === 'TrendsQuery');

describe('PostHog trends peer cases', () => {
  it('has trends cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(c.id, async () => {
      const store = await storeWith(c.events, c.persons ?? []);
      try {
        const ctx = {
          timezone: c.team?.timezone ?? 'UTC',
          weekStart: (c.team?.week_start_day === 1 ? 1 : 0) as 0 | 1,
          now: c.now ? new Date(c.now) : new Date(),
        };
        const query = parseQuery(c.query, c.id) as TrendsQuery;
        const res = await runTrends(store, query, ctx);
        expect(checkTrends(c.expected, res.results as Record<string, unknown>[])).toEqual([]);
      } finally {
        await store.close();
      }
    });
  }
});
