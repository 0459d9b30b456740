/**
 * Issue 12: every Discover report is right on the stream Teleport's web UI really sends. Each
 * test writes the UI's emission sequence by hand (shared reference teleport-real-flows.md) and
 * checks a report on the local engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTrack, loadTracks, type TrackFunnelOptions } from '../../src/definitions/discover.js';
import { runTrackFunnels, rankReports } from '../../src/discover/funnel.js';
import { failures } from '../../src/discover/failures.js';
import { demand } from '../../src/discover/demand.js';
import { timeToFirst } from '../../src/discover/ttfr.js';
import { stepTimes } from '../../src/discover/steps.js';
import { doctor } from '../../src/discover/doctor.js';
import { storeDefinitions } from '../../src/store/definitions.js';
import type { Engine } from '../../src/engines/types.js';
import type { Store } from '../../src/store/store.js';
import { R, RANGE, ctx, localEngineFor, realStream } from './streams.js';

const opts = (over: Partial<TrackFunnelOptions> = {}): TrackFunnelOptions => ({
  dateRange: RANGE,
  window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' },
  order: 'ordered',
  deployment: 'all',
  ...over,
});

const s = realStream();

let engine: Engine;
let store: Store;

beforeAll(async () => {
  ({ engine, store } = await localEngineFor(s.lines));
});
afterAll(async () => {
  await store?.close();
});

const track = async (slug: string, over: Partial<TrackFunnelOptions> = {}) => (await runTrackFunnels(engine, [findTrack(slug)], opts(over), ctx)).reports[0]!;
const step = <S extends { key: string }>(r: { steps: S[] }, key: string): S => r.steps.find((x) => x.key === key)!;

describe('1. resource added without `completed`', () => {
  it('a session whose last real step succeeded has added its resource', async () => {
    const r = await track('server');
    expect(r.sessions).toBe(4);
    expect(r.completed).toBe(3); // two install-script sessions (one lost `completed`) + Connect My Computer
    expect(r.addedAt).toBe('testConnection');
    expect(r.completedEventSent).toBe(2);
    expect(step(r, 'completed').dropOff).toBe(0);
  });
  it('EKS auto-enroll adds its cluster with testConnection SKIPPED and no completed', async () => {
    const r = await track('eks');
    expect([r.sessions, r.completed]).toEqual([1, 1]);
    expect(step(r, 'createDiscoveryConfig').count).toBe(1);
  });
  it('time to complete runs to the same end point', async () => {
    const r = await track('eks');
    expect(r.medianSecondsToComplete).toBe(20 + 60 * 4 + 1);
  });
});

describe('2. Connect My Computer is not a server drop-off', () => {
  it('the server track loses nobody at "Set up access" but the session that left there', async () => {
    const r = await track('server');
    expect(step(r, 'principalsConfigure')).toMatchObject({ count: 2, dropOff: 0, optional: true });
    expect(step(r, 'testConnection')).toMatchObject({ count: 3, dropOff: 1 });
  });
});

describe('3. cloud vs self-hosted', () => {
  it('--deployment filters on tp.is_cloud; with none a step only one kind shows is never a drop-off', async () => {
    const all = await track('rds-postgres');
    expect([all.sessions, all.completed]).toEqual([2, 2]);
    expect(step(all, 'createDiscoveryConfig')).toMatchObject({ count: 1, optional: true, dropOff: 0 });
    const c = await track('rds-postgres', { deployment: 'cloud' });
    expect([c.sessions, c.completed]).toEqual([1, 1]);
    expect(c.steps.map((x) => x.key)).not.toContain('createDiscoveryConfig');
    const sh = await track('rds-postgres', { deployment: 'self-hosted' });
    expect([sh.sessions, sh.completed]).toEqual([1, 1]);
    expect(step(sh, 'createDiscoveryConfig')).toMatchObject({ count: 1, optional: false });
    const ec2 = await track('ec2');
    expect([ec2.sessions, ec2.completed]).toEqual([3, 2]);
    expect(step(ec2, 'deployService').optional).toBe(true);
  });
});

describe('4. out-of-order emission', () => {
  it('RDS auto-deploy sessions are not lost at "Configure IAM policy"', async () => {
    const r = await track('rds-postgres', { deployment: 'cloud' });
    expect(step(r, 'principalsConfigure').count).toBe(1);
    expect(step(r, 'databaseConfigureIamPolicy').dropOff).toBe(0);
  });
});

describe('5. leaving and coming back', () => {
  it('failures counts an ABORTED as left only when the session ended there', async () => {
    const f = await failures(engine, loadTracks(), { dateRange: RANGE, deployment: 'all', top: 5, all: true }, ctx);
    const row = (slug: string, key: string) => f.steps.find((x) => x.resource === slug && x.key === key)!;
    expect(row('ec2', 'integrationAwsOidcConnect')).toMatchObject({ aborted: 1, abortedEvents: 2, cameBack: 1 });
    expect(row('server', 'principalsConfigure')).toMatchObject({ aborted: 1, abortedEvents: 1 });
    // going back from the first view starts a new session: not a failure
    expect(row('postgres', 'databaseRegister')).toMatchObject({ aborted: 0, abortedEvents: 1, wentBack: 1 });
  });
});

describe('6. duplicate emissions', () => {
  it('session counts and step times ignore duplicates', async () => {
    const pg = await track('postgres');
    expect([pg.sessions, pg.completed]).toEqual([2, 1]);
    expect(step(pg, 'deployService').count).toBe(1);
    const saml = await track('saml');
    expect([saml.sessions, saml.completed]).toEqual([1, 1]);
    expect(step(saml, 'deployService')).toMatchObject({ count: 1, medianSeconds: 101 }); // from resourceSelection; the second `started` sits between
    const times = await stepTimes(engine, [findTrack('ec2')], opts({ deployment: 'self-hosted' }), ctx);
    expect(times.find((t) => t.name === 'Set up access')!.medianSeconds).toBe(60);
  });
});

describe('7. the real tracks', () => {
  it('SAML and EKS auto-enroll exist, windows-desktop is legacy with its AD configure step, no selection-only funnels', () => {
    const slugs = loadTracks().map((t) => t.slug);
    expect(slugs).toEqual(expect.arrayContaining(['saml', 'eks', 'ec2', 'windows-desktop']));
    for (const gone of ['app-tcp', 'mongodb', 'app-http']) expect(slugs).not.toContain(gone);
    const w = findTrack('windows-desktop');
    expect(w.legacy).toBeTruthy();
    expect(w.steps).toContain('desktopActiveDirectoryConfigure');
  });
});

describe('8. demand, not conversion', () => {
  it('selection-only cards are demand: never ranked in funnels, counted by demand', async () => {
    const all = await runTrackFunnels(engine, loadTracks(), opts(), ctx);
    const ranked = rankReports(all.reports);
    expect(ranked.map((r) => r.resource)).not.toContain(R.appHttp);
    expect(ranked[0]!.completionRate).toBeLessThanOrEqual(1);
    const d = await demand(engine, { dateRange: RANGE, deployment: 'all', window: { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' } }, ctx);
    const row = (r: string) => d.resources.find((x) => x.resource === r)!;
    expect(row(R.appHttp)).toMatchObject({ kind: 'dialog', selections: 2, accounts: 2 });
    expect(row(R.snowflake)).toMatchObject({ kind: 'link', selections: 1 });
    expect(row(R.saml)).toMatchObject({ kind: 'guided', selections: 1, track: 'saml' });
    expect(row(R.server)).toMatchObject({ selections: 4, accounts: 2 });
    expect(row('DISCOVER_RESOURCE_APPLICATION_TCP')).toMatchObject({ kind: 'not-sent', selections: 0 });
    expect(d.startedWithoutSelection).toBe(2);
    expect(d.selectionOnlySelections).toBe(4);
  });
});

describe('9. signup', () => {
  it('time to first resource measures from the account\'s first-seen event when no signup event exists', async () => {
    const r = await timeToFirst(engine, { dateRange: RANGE, window: { funnelWindowInterval: 90, funnelWindowIntervalUnit: 'day' }, signupEvent: null }, ctx);
    expect(r.from).toMatch(/first seen/);
    expect(r.entered).toBe(3);
    expect(r.converted).toBe(3); // the first account added its server without `completed`
  });
});

describe('10. doctor', () => {
  it('reports which taxonomy names occur, which never do, and near misses', async () => {
    const defs = await storeDefinitions(store);
    const r = doctor(defs, 'local');
    const c = (name: string) => r.checks.find((x) => x.name === name)!;
    expect(c('tp.discover.metadata.id')).toMatchObject({ found: true, documented: true });
    expect(c('tp.is_cloud').found).toBe(true);
    expect(c('connect.cluster.login').found).toBe(false);
    const renamed = doctor({ ...defs, properties: defs.properties.map((p) => (p.name === 'tp.discover.deploy.method' ? { ...p, name: 'tp.discover.deploy_method' } : p)) }, 'local');
    expect(renamed.checks.find((x) => x.name === 'tp.discover.deploy.method')).toMatchObject({ found: false, nearMisses: ['tp.discover.deploy_method'] });
  });
});
