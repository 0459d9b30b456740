/**
 * The Teleport vocabulary checks the loader runs in SQL over every row (fast path), as data: a
 * rule names events, one property key and the values it may take. They are the enum/required
 * parts of src/events/vocabulary.ts `checkTeleportEvent()` (lenient mode); when a rule trips,
 * the loader asks `checkTeleportEvent()` for the exact message and property path.
 * `--strict-vocabulary` additionally runs `checkTeleportEvent(..., {strict: true})` on every
 * Teleport row in JS.
 */
import { taxonomy } from '../events/taxonomy.js';
import {
  CMC_FAILED_STEPS,
  CONFIG_METHODS,
  CONNECT_ACCESS_THROUGH,
  CONNECT_ORIGINS,
  CONNECT_PROTOCOLS,
  CONNECTOR_TYPES,
  ACCESS_REQUEST_KINDS,
  DEPLOY_METHODS,
  DEPLOY_TYPES,
  DISCOVER_RESOURCES,
  DISCOVER_RESOURCE_UNSPECIFIED,
  DISCOVER_STATUSES,
  LEGACY_DISCOVER_EVENT_NAMES,
} from '../events/vocabulary.js';

export interface VocabRule {
  events: string[];
  key: string;
  /** Allowed values (as json_extract_string gives them); undefined = any non-empty value. */
  allowed?: readonly string[];
  required: boolean;
  /** Only when another property has this value (e.g. the error text when status is ERROR). */
  when?: { key: string; equals: string };
  what: string;
}

let cached: VocabRule[] | undefined;

export function vocabRules(): VocabRule[] {
  if (cached) return cached;
  const t = taxonomy();
  const de = t.discover.events;
  const dp = t.discover.properties;
  const ce = t.connect.events;
  const cp = t.connect.properties;
  const legacy = Object.entries(LEGACY_DISCOVER_EVENT_NAMES);
  const namesOf = (key: string) => [de[key as keyof typeof de] as string, ...legacy.filter(([, k]) => k === key).map(([n]) => n)].filter(Boolean);
  const started = namesOf('started');
  const discoverAll = [...Object.values(de), ...legacy.map(([n]) => n)];
  const notStarted = discoverAll.filter((n) => !started.includes(n));
  cached = [
    { events: discoverAll, key: dp.status!, allowed: DISCOVER_STATUSES, required: true, what: 'Discover status' },
    { events: discoverAll, key: dp.sessionId!, required: true, what: 'wizard session id' },
    { events: notStarted, key: dp.resource!, allowed: DISCOVER_RESOURCES, required: true, what: 'Discover resource' },
    {
      events: started,
      key: dp.resource!,
      allowed: ['', DISCOVER_RESOURCE_UNSPECIFIED, ...DISCOVER_RESOURCES],
      required: false,
      what: 'Discover resource',
    },
    {
      events: discoverAll,
      key: dp.error!,
      required: true,
      when: { key: dp.status!, equals: 'DISCOVER_STATUS_ERROR' },
      what: 'error text (status is DISCOVER_STATUS_ERROR)',
    },
    { events: namesOf('deployService'), key: dp.deployMethod!, allowed: DEPLOY_METHODS, required: false, what: 'deploy method' },
    { events: namesOf('deployService'), key: dp.deployType!, allowed: DEPLOY_TYPES, required: false, what: 'deploy type' },
    { events: namesOf('createDiscoveryConfig'), key: dp.configMethod!, allowed: CONFIG_METHODS, required: false, what: 'discovery config method' },
    { events: [ce.clusterLogin!], key: cp.connectorType!, allowed: CONNECTOR_TYPES, required: true, what: 'connector type' },
    { events: [ce.protocolUse!], key: cp.protocol!, allowed: CONNECT_PROTOCOLS, required: true, what: 'protocol' },
    { events: [ce.protocolUse!], key: cp.origin!, allowed: CONNECT_ORIGINS, required: false, what: 'origin' },
    { events: [ce.protocolUse!], key: cp.accessThrough!, allowed: CONNECT_ACCESS_THROUGH, required: false, what: 'access_through' },
    { events: [ce.accessRequestCreate!], key: cp.accessRequestKind!, allowed: ACCESS_REQUEST_KINDS, required: true, what: 'access request kind' },
    {
      events: [ce.connectMyComputerSetup!],
      key: cp.setupFailedStep!,
      allowed: ['', ...CMC_FAILED_STEPS],
      required: false,
      what: 'Connect My Computer setup step',
    },
  ].filter((r) => r.events.length > 0 && r.key) as VocabRule[];
  return cached;
}

/** json_extract_string semantics for a top-level property value. */
export function extractString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** JS twin of the SQL rule check: the first rule this event breaks, if any. */
export function brokenRule(event: string, props: Record<string, unknown>): VocabRule | undefined {
  for (const r of vocabRules()) {
    if (!r.events.includes(event)) continue;
    if (r.when && extractString(props[r.when.key]) !== r.when.equals) continue;
    const v = extractString(props[r.key]);
    if (v === null || (r.allowed === undefined && (r.when ? v.trim() : v) === '')) {
      if (r.required) return r;
      continue;
    }
    if (r.allowed && !r.allowed.includes(v)) return r;
  }
  return undefined;
}
