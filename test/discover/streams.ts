/**
 * Hand-built streams of the events Teleport's web UI really sends (shared reference
 * teleport-real-flows.md): wizard sessions written step by step, with the UI's quirks spelled
 * out by the test that needs them. Events carry the keys prehog adds (tp.is_cloud, account id).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { taxonomy } from '../../src/events/taxonomy.js';
import { Store } from '../../src/store/store.js';
import { loadEvents } from '../../src/store/ingest.js';
import { localEngineForStore } from '../../src/engines/local/index.js';
import { defaultQueryContext, type Engine } from '../../src/engines/types.js';

export interface Line {
  uuid: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties: Record<string, unknown>;
}

export type Status = 'SUCCESS' | 'SKIPPED' | 'ERROR' | 'ABORTED';
/** [taxonomy step key, status, seconds after the previous event (default 60), extra properties] */
export type Emit = [string, Status, number?, Record<string, unknown>?];

export interface Account {
  id: string;
  cloud: boolean;
}

export const ctx = defaultQueryContext({ now: new Date('2026-03-20T00:00:00Z') });
export const RANGE = { date_from: '2026-03-01', date_to: '2026-03-10' };
export const RANGE_ARGS = ['--from', '2026-03-01', '--to', '2026-03-10', '--now', '2026-03-20T00:00:00Z'];

export class Stream {
  readonly lines: Line[] = [];
  private t: number;
  private n = 0;
  private sessions = 0;

  constructor(start = '2026-03-02T09:00:00Z') {
    this.t = Date.parse(start);
  }

  /** Move the clock (seconds). */
  wait(seconds: number): this {
    this.t += seconds * 1000;
    return this;
  }

  private push(account: Account, user: string, event: string, props: Record<string, unknown>, dt: number): void {
    const c = taxonomy().cluster.properties;
    this.t += dt * 1000;
    const uuid = createHash('sha1').update(`stream:${this.n++}`).digest('hex');
    this.lines.push({
      uuid: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-4${uuid.slice(13, 16)}-a${uuid.slice(17, 20)}-${uuid.slice(20, 32)}`,
      event,
      distinct_id: `tp.${account.id}`,
      timestamp: new Date(this.t).toISOString(),
      properties: {
        [c.accountId]: account.id,
        [c.clusterName]: `cluster-${account.id}`,
        [c.isCloud]: account.cloud,
        [taxonomy().discover.properties.userName]: user,
        ...props,
      },
    });
  }

  /** A raw Discover event of a session (no resource unless given). */
  event(account: Account, sid: string, key: string, status: Status, dt = 60, extra: Record<string, unknown> = {}, user = 'user-1'): this {
    const p = taxonomy().discover.properties;
    this.push(account, user, taxonomy().discover.events[key]!, { [p.sessionId]: sid, [p.status]: `DISCOVER_STATUS_${status}`, ...extra }, dt);
    return this;
  }

  /**
   * A wizard session: `started`, then (unless resource is null) `resourceSelection`, then the
   * given emissions, all with the session's id and resource. Returns the session id.
   */
  session(account: Account, resource: string | null, emits: Emit[] = [], o: { user?: string; sid?: string; startedTwice?: boolean } = {}): string {
    const p = taxonomy().discover.properties;
    const sid = o.sid ?? `s-${++this.sessions}-${account.id}`;
    const user = o.user ?? 'user-1';
    this.event(account, sid, 'started', 'SUCCESS', 60, { [p.sso]: false }, user);
    if (resource === null) return sid;
    const withResource = { [p.resource]: resource };
    this.event(account, sid, 'resourceSelection', 'SUCCESS', 20, withResource, user);
    if (o.startedTwice) this.event(account, sid, 'started', 'SUCCESS', 1, {}, user);
    for (const [key, status, dt, extra] of emits) {
      this.event(account, sid, key, status, dt ?? 60, { ...withResource, ...(status === 'ERROR' ? { [p.error]: 'boom' } : {}), ...extra }, user);
    }
    return sid;
  }
}

/** Load a stream into a fresh store; returns the local engine over it. */
export async function localEngineFor(lines: Line[]): Promise<{ engine: Engine; store: Store; path: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dm-real-'));
  const path = join(dir, 'store.duckdb');
  const store = await Store.open(path);
  await loadEvents(store, lines);
  return { engine: localEngineForStore(store), store, path, dir };
}

export const R = {
  server: 'DISCOVER_RESOURCE_SERVER',
  rdsPostgres: 'DISCOVER_RESOURCE_DATABASE_POSTGRES_RDS',
  postgres: 'DISCOVER_RESOURCE_DATABASE_POSTGRES_SELF_HOSTED',
  ec2: 'DISCOVER_RESOURCE_EC2_INSTANCE',
  eks: 'DISCOVER_RESOURCE_KUBERNETES_EKS',
  saml: 'DISCOVER_RESOURCE_SAML_APPLICATION',
  appHttp: 'DISCOVER_RESOURCE_APPLICATION_HTTP',
  mongodb: 'DISCOVER_RESOURCE_DATABASE_MONGODB_SELF_HOSTED',
  snowflake: 'DISCOVER_RESOURCE_DATABASE_SNOWFLAKE',
  kubernetes: 'DISCOVER_RESOURCE_KUBERNETES',
} as const;

/** Emissions of whole flows, as the UI sends them. */
export const FLOW = {
  /** server install script, Finished page left with the tab closed (no `completed`) */
  serverNoCompleted: [['deployService', 'SUCCESS', 120, { 'tp.discover.deploy.method': 'DEPLOY_METHOD_MANUAL' }], ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS']] as Emit[],
  server: [['deployService', 'SUCCESS', 120], ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS']] as Emit[],
  /** Connect My Computer: SERVER, no principals step */
  connectMyComputer: [['deployService', 'SUCCESS', 90], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS']] as Emit[],
  /** RDS auto-deploy on a cloud cluster: iampolicy SKIPPED one second before deployService SUCCESS */
  rdsAutoDeployCloud: [
    ['integrationAwsOidcConnect', 'SUCCESS'], ['databaseEnrollRds', 'SUCCESS'],
    ['databaseConfigureIamPolicy', 'SKIPPED', 200], ['deployService', 'SUCCESS', 1],
    ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS'],
  ] as Emit[],
  /** self-hosted database: deployService twice (UNSPECIFIED, then MANUAL) */
  postgresSelfHosted: [
    ['databaseRegister', 'SUCCESS'], ['deployService', 'SUCCESS', 30, { 'tp.discover.deploy.method': 'DEPLOY_METHOD_UNSPECIFIED' }],
    ['deployService', 'SUCCESS', 90, { 'tp.discover.deploy.method': 'DEPLOY_METHOD_MANUAL' }], ['databaseConfigureMtls', 'SUCCESS'],
    ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS'],
  ] as Emit[],
  /** EC2 on a self-hosted cluster: deployService shown, createDiscoveryConfig sent twice */
  ec2SelfHosted: [
    ['integrationAwsOidcConnect', 'SUCCESS'], ['deployService', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS', 0],
    ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS'],
  ] as Emit[],
  /** EC2 on a cloud cluster: no deployService view */
  ec2Cloud: [
    ['integrationAwsOidcConnect', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS', 0],
    ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS'],
  ] as Emit[],
  /** EKS auto-enroll: createDiscoveryConfig during enroll, testConnection SKIPPED */
  eksAutoEnroll: [
    ['integrationAwsOidcConnect', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS'], ['kubeEnrollEks', 'SUCCESS'],
    ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SKIPPED', 1],
  ] as Emit[],
  /** SAML application (enterprise) */
  saml: [['deployService', 'SUCCESS', 100], ['completed', 'SUCCESS']] as Emit[],
};
