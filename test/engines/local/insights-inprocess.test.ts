// Every lifecycle, retention and stickiness case transcribed from PostHog's test suite, in-process
// (the CLI end-to-end run of a few is test/peer/insights-cli.test.ts).
import { describe, expect, it } from 'vitest';
import { loadPeerCases } from '../../peer/harness.js';
import { checkInsight, type InsightExpected } from '../../peer/insight-check.js';
import { peerCaseContext, peerCaseStore } from './peer-store.js';
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
      const t = await peerCaseStore(c);
      try {
        const engine = localEngineForStore(t.store);
        const ctx = peerCaseContext(c);
        const res = (await engine.run(parseQuery(c.query, c.id), ctx)) as { results: Record<string, unknown>[] };
        expect(checkInsight(c.expected as unknown as InsightExpected, res.results)).toEqual([]);
      } finally {
        await t.cleanup();
      }
    });
  }
});
