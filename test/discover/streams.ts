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

/**
 * One stream holding every quirk of teleport-real-flows.md (what each session is for is in
 * test/discover/real-streams.test.ts, which reads it part by part).
 */
export function realStream(): Stream {
  const cloud = { id: 'acct-cloud', cloud: true };
  const selfHosted = { id: 'acct-self', cloud: false };
  const other = { id: 'acct-other', cloud: true };

  const s = new Stream();
  // 1. lost `completed`: two server sessions finish the last real step, one sends completed
  s.session(cloud, R.server, FLOW.serverNoCompleted);
  s.session(cloud, R.server, FLOW.server);
  // a server session that really drops off at "Set up access"
  s.session(cloud, R.server, [['deployService', 'SUCCESS'], ['principalsConfigure', 'ABORTED', 300]]);
  // 2. Connect My Computer under SERVER
  s.session(other, R.server, FLOW.connectMyComputer);
  // 4. RDS auto-deploy: iampolicy SKIPPED one second before deployService SUCCESS (cloud)
  s.session(cloud, R.rdsPostgres, FLOW.rdsAutoDeployCloud);
  // RDS manual on a self-hosted cluster: createDiscoveryConfig shown, iampolicy after deployService
  s.session(selfHosted, R.rdsPostgres, [
    ['integrationAwsOidcConnect', 'SUCCESS'], ['databaseEnrollRds', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS'],
    ['deployService', 'SUCCESS'], ['databaseConfigureIamPolicy', 'SUCCESS'], ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'],
  ]);
  // 5. leave to create an AWS integration and come back (same session id), then finish
  s.session(cloud, R.ec2, [
    ['integrationAwsOidcConnect', 'ABORTED', 30], ['integrationAwsOidcConnect', 'SUCCESS', 600],
    ['createDiscoveryConfig', 'SUCCESS'], ['createDiscoveryConfig', 'SUCCESS', 0], ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'],
  ]);
  // a real abandonment on the AWS integration step
  s.session(other, R.ec2, [['integrationAwsOidcConnect', 'ABORTED', 30]]);
  // 5. going back from the first view: ABORTED, then a new session at once
  s.session(selfHosted, R.postgres, [['databaseRegister', 'ABORTED', 15]], { user: 'u-back' });
  s.wait(-59);
  s.session(selfHosted, R.kubernetes, [['deployService', 'SUCCESS'], ['principalsConfigure', 'SUCCESS'], ['testConnection', 'SUCCESS'], ['completed', 'SUCCESS']], { user: 'u-back' });
  // 6. duplicates: self-hosted postgres deployService twice, EC2 createDiscoveryConfig twice (self-hosted), SAML started twice
  s.session(selfHosted, R.postgres, FLOW.postgresSelfHosted);
  s.session(selfHosted, R.ec2, FLOW.ec2SelfHosted);
  s.session(cloud, R.saml, FLOW.saml, { startedTwice: true });
  // EKS auto-enroll: testConnection SKIPPED, no completed
  s.session(cloud, R.eks, FLOW.eksAutoEnroll);
  // 8. selection-only cards and sessions that never choose
  s.session(cloud, R.appHttp);
  s.session(other, R.appHttp);
  s.session(cloud, R.snowflake);
  s.session(other, R.mongodb);
  s.session(cloud, null);
  s.session(other, null);
  return s;
}
