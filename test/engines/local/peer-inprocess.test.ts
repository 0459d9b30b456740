// Fast in-process run of every funnel peer case (the CLI end-to-end run is test/peer/funnels.test.ts).
import { describe, expect, it } from 'vitest';
import { checkFunnelCase, loadPeerCases } from '../../peer/harness.js';
import { peerCaseContext, peerCaseStore } from './peer-store.js';
import { localEngineForStore } from '../../../src/engines/local/index.js';
import { parseQuery } from '../../../src/query/parse.js';

const cases = loadPeerCases().cases.filter((c) => c.query.kind === 'FunnelsQuery');

describe('funnel peer cases (in-process)', () => {
  for (const c of cases) {
    it(c.id, async () => {
      const t = await peerCaseStore(c);
      try {
        const engine = localEngineForStore(t.store);
        const ctx = peerCaseContext(c);
        const diffs = await checkFunnelCase(c, async (qs) => (await engine.runMany(qs.map((q) => parseQuery(q, c.id)), ctx)) as Record<string, unknown>[]);
        expect(diffs).toEqual([]);
      } finally {
        await t.cleanup();
      }
    });
  }
});
