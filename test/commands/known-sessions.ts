/**
 * A hand-made store for compare, dropoffs, correlation and funnel --interval whose answer is known: the server track converts
 * 30 of 40 sessions in the week before 16.2 shipped and 14 of 40 in the week after. Expected
 * values are computed here by hand formulas, independently of src/stats.
 */
import { join } from 'node:path';
import { run, tmpDir } from './cli.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { writeFixture, uuidFor, type FixtureLine } from '../sandbox/helpers.js';

export const NOW = ['--now', '2026-04-01T00:00:00Z'];
export const SPANS = ['--before', '2026-03-02..2026-03-08', '--after', '2026-03-09..2026-03-15'];

/**
 * Time to complete (seconds) of completing session u: distinct values, median known. A resource is
 * added at Test connection, the last step before Finished (`completed` is sent only when the user
 * leaves Finished), so that is where the time ends; `completed` follows one gap later.
 */
export const duration = (u: number) => 300 + 20 * u;

export function sessions(): FixtureLine[] {
  const t = taxonomy();
  const ev = t.discover.events;
  const p = t.discover.properties;
  const steps = [ev.started, ev.resourceSelection, ev.deployService, ev.principalsConfigure, ev.testConnection, ev.completed];
  const out: FixtureLine[] = [];
  let i = 0;
  for (const [week, day0, completing, version] of [
    ['before', Date.parse('2026-03-02T09:00:00Z'), 30, '16.1.3'],
    ['after', Date.parse('2026-03-09T09:00:00Z'), 14, '16.2.0'],
  ] as const) {
    for (let u = 0; u < 40; u++) {
      const start = day0 + (u % 7) * 86_400_000 + u * 60_000;
      // the sessions that do not complete stop after resource selection (deploy service fails)
      const reach = u < completing ? steps.length : 2;
      const gap = (duration(u) * 1000) / (steps.length - 2);
      for (let s = 0; s < reach; s++) {
        out.push({
          uuid: uuidFor('compare', i++),
          event: steps[s]!,
          distinct_id: `${week}-acct-${u}`,
          timestamp: new Date(start + Math.round(s * gap)).toISOString(),
          properties: {
            [p.sessionId]: `${week}-session-${u}`,
            [p.resource]: 'DISCOVER_RESOURCE_SERVER',
            [p.status]: 'DISCOVER_STATUS_SUCCESS',
            [t.cluster.properties.teleportVersion]: version,
            [t.cluster.properties.accountId]: `${week}-acct-${u}`,
          },
        });
      }
      if (week === 'before' && u < 10) {
        // an event outside the funnel's steps, in ten sessions that all complete
        out.push({ uuid: uuidFor('compare', i++), event: 'tp.ui.docs.open', distinct_id: `${week}-acct-${u}`, timestamp: new Date(start + 1000).toISOString(), properties: { [p.sessionId]: `${week}-session-${u}` } });
      }
      if (week === 'after' && u >= completing) {
        // the drop-offs of the second week fail at Deploy service (an ERROR does not advance the
        // funnel); the even ones come back two hours later for PostgreSQL, every other one completes it
        const base = { [p.sessionId]: `${week}-session-${u}`, [p.resource]: 'DISCOVER_RESOURCE_SERVER', [t.cluster.properties.accountId]: `${week}-acct-${u}` };
        out.push({ uuid: uuidFor('compare', i++), event: ev.deployService, distinct_id: `${week}-acct-${u}`, timestamp: new Date(start + 60_000).toISOString(), properties: { ...base, [p.status]: 'DISCOVER_STATUS_ERROR', [p.error]: `boom ${u % 2 ? 'odd' : 'even'}` } });
        if (u % 2 === 0) {
          const pg = { [p.sessionId]: `retry-${u}`, [p.resource]: 'DISCOVER_RESOURCE_DATABASE_POSTGRES_SELF_HOSTED', [t.cluster.properties.accountId]: `${week}-acct-${u}`, [p.status]: 'DISCOVER_STATUS_SUCCESS' };
          const later = start + 2 * 3_600_000;
          const retry = u % 4 === 0 ? [ev.started, ev.resourceSelection, ev.completed] : [ev.started, ev.resourceSelection];
          retry.forEach((e, k) => out.push({ uuid: uuidFor('compare', i++), event: e, distinct_id: `${week}-acct-${u}`, timestamp: new Date(later + k * 60_000).toISOString(), properties: pg }));
        }
      }
    }
  }
  return out;
}

/** Reference normal tail via erfc (Abramowitz & Stegun 7.1.26 on a continued product, |ε| < 1.5e-7). */
export function twoSidedP(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return y * Math.exp(-x * x);
}

/** A fresh store holding the sessions above (each test file loads its own, so files run in parallel). */
export async function loadedStore(prefix: string): Promise<{ dir: string; store: string }> {
  const dir = tmpDir(prefix);
  const store = join(dir, 'store.duckdb');
  const file = writeFixture(dir, 'events.jsonl', sessions());
  const l = await run(['--store', store, 'load', file]);
  if (l.code !== 0) throw new Error(`load failed: ${l.stderr}`);
  return { dir, store };
}

