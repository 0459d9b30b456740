// connect-share: the share of a cluster's active users on Connect, against counts made by hand,
// and the refusal to print 0% when Connect and the cluster anonymized with different keys.
import { describe, expect, it } from 'vitest';
import { localEngineForStore } from '../../src/engines/local/index.js';
import { loadConnectDefinitions } from '../../src/definitions/connect.js';
import { loadShareDefinition } from '../../src/definitions/connect-share.js';
import { runShareReport } from '../../src/connect/share.js';
import { renderShare } from '../../src/connect/growth-render.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { storeWith, type TestEvent } from '../engines/local/trends/helpers.js';

const t = taxonomy();
const defs = loadConnectDefinitions();
const share = loadShareDefinition();
const ctx = { timezone: 'UTC', weekStart: 0 as const, now: new Date('2026-02-01T12:00:00Z') };
const o = { dateRange: { date_from: '2026-01-04', date_to: '2026-01-17' }, interval: 'week' as const };

const clusterEvent = (user: string, day: number, cluster = 'hmac-cluster-A'): TestEvent => ({
  event: t.discover.events.started,
  distinct_id: 'tp.account-1',
  timestamp: `2026-01-${String(day).padStart(2, '0')}T10:00:00Z`,
  properties: { [t.cluster.properties.clusterName]: cluster, [t.cluster.properties.userName]: user },
});
const connectEvent = (installation: string, user: string, day: number, cluster = 'hmac-cluster-A'): TestEvent => ({
  event: t.connect.events.clusterLogin,
  distinct_id: `${t.connect.distinctIdPrefix}${installation}`,
  timestamp: `2026-01-${String(day).padStart(2, '0')}T11:00:00Z`,
  properties: { [t.connect.properties.clusterName]: cluster, [t.connect.properties.userName]: user },
});

async function report(events: TestEvent[]) {
  const store = await storeWith(events);
  try {
    return await runShareReport(localEngineForStore(store), defs, share, o, ctx);
  } finally {
    await store.close();
  }
}

describe('connect-share', () => {
  it('counts pairs active on both sides over pairs active on the cluster side, per week', async () => {
    // week of Jan 4: u1, u2, u3, u4 on the cluster; u1 and u2 on Connect (u2 twice, two installations)
    // week of Jan 11: u1, u3 on the cluster; u1 on Connect; u4 on Connect but not on the cluster that week
    const events = [
      ...['u1', 'u2', 'u3', 'u4'].map((u) => clusterEvent(u, 5)),
      connectEvent('i-1', 'u1', 6),
      connectEvent('i-2', 'u2', 6),
      connectEvent('i-3', 'u2', 7),
      clusterEvent('u1', 12),
      clusterEvent('u3', 13),
      connectEvent('i-1', 'u1', 14),
      connectEvent('i-4', 'u4', 14),
      // the same user name on another cluster is another user
      clusterEvent('u1', 12, 'hmac-cluster-B'),
    ];
    const r = await report(events);
    expect(r.periods.map(({ period, clusterUsers, connectUsers, share }) => ({ period, clusterUsers, connectUsers, share }))).toEqual([
      { period: '2026-01-04', clusterUsers: 4, connectUsers: 2, share: 0.5 },
      { period: '2026-01-11', clusterUsers: 3, connectUsers: 1, share: 1 / 3 },
    ]);
    expect(r.caveat).toBeNull();
    const json = renderShare(r).json as { periods: Record<string, unknown>[]; caveat: unknown };
    expect(Object.keys(json.periods[0]!)).toEqual(['period', 'clusterUsers', 'connectUsers', 'share', 'incomplete']);
    expect(json.caveat).toBeNull();
  });

  it('says the share is unknown, not 0%, when no Connect pair matches the cluster side (different anonymization keys)', async () => {
    const events = [clusterEvent('hmac-k1(u1)', 5), clusterEvent('hmac-k1(u2)', 6), connectEvent('i-1', 'hmac-k2(u1)', 6, 'hmac-k2(cluster)')];
    const r = await report(events);
    expect(r.periods.map((p) => p.share)).toEqual([null, null]);
    expect(r.periods[0]).toMatchObject({ clusterUsers: 2, connectUsers: 0 });
    expect(r.caveat).toMatch(/none of the 1 Connect \(cluster, user\) pairs appears on the cluster side/);
    expect(renderShare(r).json).toMatchObject({ caveat: r.caveat });
  });

  it('says when only some Connect pairs join, and when the cluster side has no users at all', async () => {
    const partial = await report([clusterEvent('u1', 5), connectEvent('i-1', 'u1', 6), connectEvent('i-2', 'other-key-user', 6, 'other-key-cluster')]);
    expect(partial.periods[0]!.share).toBe(1);
    expect(partial.caveat).toMatch(/1 of 2 Connect \(cluster, user\) pairs match no cluster-side pair/);
    const none = await report([connectEvent('i-1', 'u1', 6)]);
    expect(none.periods.every((p) => p.share === null)).toBe(true);
    expect(none.caveat).toMatch(/no cluster-side events with a cluster and a user/);
  });
});
