import { describe, expect, test } from 'vitest';
import {
  CONNECT_EVENT_NAMES, DISCOVER_EVENT_NAMES, DISCOVER_RESOURCE_ENUM, DISCOVER_RESOURCES, DISCOVER_STATUSES,
  checkTeleportEvent, isTeleportEvent,
} from '../../src/events/vocabulary.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { generateEvents } from '../synthetic/helpers.js';

const T = taxonomy();
const dp = T.discover.properties;
const cp = T.cluster.properties;
const ANON = 'Jc88RMjzkxPoy/fCPiL+iy7osojuUgawpjl1g6H38O8=';
const ok = {
  [cp.clusterName]: ANON,
  [cp.accountId]: 'acct-1',
  [cp.isCloud]: true,
  [dp.userName]: ANON,
  [dp.sessionId]: '6b0c5b4e-7c4e-4d3c-9f0b-2b7f0a1c9d11',
  [dp.status]: 'DISCOVER_STATUS_SUCCESS',
  [dp.resource]: 'DISCOVER_RESOURCE_SERVER',
};

describe('vocabulary constants', () => {
  test('every §4a resource, numbered as in the proto', () => {
    expect(DISCOVER_RESOURCE_ENUM).toHaveLength(42);
    expect(DISCOVER_RESOURCE_ENUM[1]).toBe('DISCOVER_RESOURCE_SERVER');
    expect(DISCOVER_RESOURCE_ENUM[38]).toBe('DISCOVER_RESOURCE_EC2_INSTANCE');
    expect(DISCOVER_RESOURCE_ENUM[41]).toBe('DISCOVER_RESOURCE_APPLICATION_AWS_CONSOLE');
    expect(DISCOVER_RESOURCES).not.toContain('DISCOVER_RESOURCE_UNSPECIFIED');
    expect(new Set(DISCOVER_RESOURCES).size).toBe(41);
  });
  test('statuses and event names come from the reference and the taxonomy', () => {
    expect(DISCOVER_STATUSES).toEqual(['DISCOVER_STATUS_SUCCESS', 'DISCOVER_STATUS_SKIPPED', 'DISCOVER_STATUS_ERROR', 'DISCOVER_STATUS_ABORTED']);
    expect(DISCOVER_EVENT_NAMES).toContain('tp.ui.discover.started');
    expect(DISCOVER_EVENT_NAMES).toContain('tp.ui.discover.kube.enroll.eks');
    expect(DISCOVER_EVENT_NAMES).toHaveLength(Object.keys(T.discover.events).length);
    expect(CONNECT_EVENT_NAMES).toContain('connect.connectMyComputer.agentStart');
    expect(isTeleportEvent('$pageview')).toBe(false);
    expect(T.discover.signupEvent).toBeNull(); // removed from prehog: time to first resource starts at first seen
    expect(isTeleportEvent('tp.ui.onboard.getStarted.click')).toBe(false);
  });
});

describe('checkTeleportEvent', () => {
  test('accepts a well-formed step event, strictly too', () => {
    expect(checkTeleportEvent('tp.ui.discover.deployService', ok)).toBeUndefined();
    expect(checkTeleportEvent('tp.ui.discover.deployService', ok, { strict: true })).toBeUndefined();
  });

  test('ignores events outside the vocabulary', () => {
    expect(checkTeleportEvent('$pageview', { anything: 1 })).toBeUndefined();
  });

  test('rejects a wrong status with its path and a suggestion', () => {
    const r = checkTeleportEvent('tp.ui.discover.deployService', { ...ok, [dp.status]: 'DISCOVER_STATUS_SUCCES' });
    expect(r?.path).toBe(`properties["${dp.status}"]`);
    expect(r?.message).toMatch(/unknown Discover status 'DISCOVER_STATUS_SUCCES' \(did you mean 'DISCOVER_STATUS_SUCCESS'\?\)/);
  });

  test('rejects UNSPECIFIED status and a wrong or missing resource', () => {
    expect(checkTeleportEvent('tp.ui.discover.completed', { ...ok, [dp.status]: 'DISCOVER_STATUS_UNSPECIFIED' })?.path).toBe(`properties["${dp.status}"]`);
    const wrong = checkTeleportEvent('tp.ui.discover.testConnection', { ...ok, [dp.resource]: 'DISCOVER_RESOURCE_SERVR' });
    expect(wrong?.path).toBe(`properties["${dp.resource}"]`);
    expect(wrong?.message).toMatch(/did you mean 'DISCOVER_RESOURCE_SERVER'/);
    const missing = checkTeleportEvent('tp.ui.discover.testConnection', { ...ok, [dp.resource]: undefined });
    expect(missing).toEqual({ path: `properties["${dp.resource}"]`, message: 'expected a Discover resource string, got nothing' });
    expect(checkTeleportEvent('tp.ui.discover.testConnection', { ...ok, [dp.resource]: 'DISCOVER_RESOURCE_UNSPECIFIED' })?.path).toBe(`properties["${dp.resource}"]`);
  });

  test('started needs no resource', () => {
    const { [dp.resource]: _r, ...rest } = ok;
    expect(checkTeleportEvent('tp.ui.discover.started', rest)).toBeUndefined();
    expect(checkTeleportEvent('tp.ui.discover.started', { ...rest, [dp.resource]: '' })).toBeUndefined();
  });

  test('ERROR requires the error text; the session id must be present', () => {
    expect(checkTeleportEvent('tp.ui.discover.deployService', { ...ok, [dp.status]: 'DISCOVER_STATUS_ERROR' })?.path).toBe(`properties["${dp.error}"]`);
    expect(checkTeleportEvent('tp.ui.discover.deployService', { ...ok, [dp.status]: 'DISCOVER_STATUS_ERROR', [dp.error]: 'boom' })).toBeUndefined();
    expect(checkTeleportEvent('tp.ui.discover.deployService', { ...ok, [dp.sessionId]: '' })?.path).toBe(`properties["${dp.sessionId}"]`);
  });

  test('extra fields are typed: deploy method, auto-discovered count', () => {
    expect(checkTeleportEvent('tp.ui.discover.deployService', { ...ok, [dp.deployMethod]: 'DEPLOY_METHOD_MAGIC' })?.path).toBe(`properties["${dp.deployMethod}"]`);
    expect(checkTeleportEvent('tp.ui.discover.autoDiscoveredResources', { ...ok, [dp.autoDiscoveredCount]: -1 })?.path).toBe(`properties["${dp.autoDiscoveredCount}"]`);
    expect(checkTeleportEvent('tp.ui.discover.autoDiscoveredResources', { ...ok, [dp.autoDiscoveredCount]: 3 })).toBeUndefined();
  });

  test('strict mode requires the prehog envelope with an anonymized cluster name', () => {
    const { [cp.clusterName]: _c, ...rest } = ok;
    expect(checkTeleportEvent('tp.ui.discover.deployService', rest)).toBeUndefined();
    expect(checkTeleportEvent('tp.ui.discover.deployService', rest, { strict: true })?.path).toBe(`properties["${cp.clusterName}"]`);
    expect(checkTeleportEvent('tp.ui.discover.deployService', { ...ok, [cp.clusterName]: 'prod.example.com' })?.message).toMatch(/anonymized/);
  });

  test('Connect events: protocol, connector, file transfer, Connect My Computer', () => {
    const np = T.connect.properties;
    const ctx = { [np.clusterName]: ANON, [np.userName]: ANON };
    expect(checkTeleportEvent('connect.protocol.use', { ...ctx, [np.protocol]: 'ssh', [np.origin]: 'vnet', [np.accessThrough]: 'vnet' })).toBeUndefined();
    expect(checkTeleportEvent('connect.protocol.use', { ...ctx, [np.protocol]: 'telnet' })?.path).toBe(`properties["${np.protocol}"]`);
    expect(checkTeleportEvent('connect.cluster.login', { ...ctx, [np.connectorType]: 'ldap' })?.path).toBe(`properties["${np.connectorType}"]`);
    expect(checkTeleportEvent('connect.fileTransfer.run', { ...ctx, [np.fileTransferIsUpload]: 'sideways' })?.path).toBe(`properties["${np.fileTransferIsUpload}"]`);
    expect(checkTeleportEvent('connect.connectMyComputer.setup', { ...ctx, [np.setupSuccess]: false })?.path).toBe(`properties["${np.setupFailedStep}"]`);
    expect(checkTeleportEvent('connect.connectMyComputer.setup', { ...ctx, [np.setupSuccess]: false, [np.setupFailedStep]: 'joining_cluster' })).toBeUndefined();
    const pp = T.connect.personProperties;
    expect(checkTeleportEvent('connect.cluster.login', { ...ctx, [np.connectorType]: 'saml', $set_once: { [pp.os]: 'windows' } })?.path).toBe(`properties["$set_once"]["${pp.os}"]`);
  });

  test('every generated event passes the strict vocabulary', () => {
    const evs = generateEvents();
    expect(evs.length).toBeGreaterThan(1000);
    let teleport = 0;
    for (const e of evs) {
      const issue = checkTeleportEvent(e.event, e.properties, { strict: true });
      if (issue) throw new Error(`${e.event} ${e.uuid}: ${issue.path}: ${issue.message}`);
      if (isTeleportEvent(e.event)) teleport++;
    }
    expect(teleport).toBe(evs.length);
  });
});
