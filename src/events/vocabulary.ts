/**
 * Teleport's usage-event vocabulary as PostHog sees it: Discover wizard events (cluster-side,
 * reported through prehog) and Teleport Connect events (client-side), with the enum values the
 * UI and the protos define (shared/reference/teleport-events.md §2–4, §7–8).
 *
 * Event names and property keys come from queries/taxonomy.json (never hard-coded here); the
 * enum VALUES below are Teleport's and do not change with a project's key naming.
 *
 * `checkTeleportEvent()` is what the loader calls for every event: events outside the
 * vocabulary pass (PostHog projects hold many other events), Teleport events get their
 * properties checked and the first problem is reported with its property path.
 */
import { z } from 'zod';
import { suggest } from '../errors.js';
import { taxonomy, type Taxonomy } from './taxonomy.js';

// ---------------------------------------------------------------------------------------------
// Enum values (§4)

/** DiscoverStatus values Teleport accepts (UNSPECIFIED is rejected by the auth server). */
export const DISCOVER_STATUSES = [
  'DISCOVER_STATUS_SUCCESS',
  'DISCOVER_STATUS_SKIPPED',
  'DISCOVER_STATUS_ERROR',
  'DISCOVER_STATUS_ABORTED',
] as const;
export type DiscoverStatus = (typeof DISCOVER_STATUSES)[number];

export const DISCOVER_STATUS_UNSPECIFIED = 'DISCOVER_STATUS_UNSPECIFIED';

/**
 * Every DiscoverResource enum name from teleport-events.md §4a, in proto order (index = enum
 * number). Index 0, UNSPECIFIED, is part of the enum but rejected on every event but `started`.
 */
export const DISCOVER_RESOURCE_ENUM = [
  'DISCOVER_RESOURCE_UNSPECIFIED',
  'DISCOVER_RESOURCE_SERVER',
  'DISCOVER_RESOURCE_KUBERNETES',
  'DISCOVER_RESOURCE_DATABASE_POSTGRES_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_MYSQL_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_MONGODB_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_POSTGRES_RDS',
  'DISCOVER_RESOURCE_DATABASE_MYSQL_RDS',
  'DISCOVER_RESOURCE_APPLICATION_HTTP',
  'DISCOVER_RESOURCE_APPLICATION_TCP',
  'DISCOVER_RESOURCE_WINDOWS_DESKTOP',
  'DISCOVER_RESOURCE_DATABASE_SQLSERVER_RDS',
  'DISCOVER_RESOURCE_DATABASE_POSTGRES_REDSHIFT',
  'DISCOVER_RESOURCE_DATABASE_SQLSERVER_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_REDIS_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_POSTGRES_GCP',
  'DISCOVER_RESOURCE_DATABASE_MYSQL_GCP',
  'DISCOVER_RESOURCE_DATABASE_SQLSERVER_GCP',
  'DISCOVER_RESOURCE_DATABASE_POSTGRES_REDSHIFT_SERVERLESS',
  'DISCOVER_RESOURCE_DATABASE_POSTGRES_AZURE',
  'DISCOVER_RESOURCE_DATABASE_DYNAMODB',
  'DISCOVER_RESOURCE_DATABASE_CASSANDRA_KEYSPACES',
  'DISCOVER_RESOURCE_DATABASE_CASSANDRA_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_ELASTICSEARCH_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_REDIS_ELASTICACHE',
  'DISCOVER_RESOURCE_DATABASE_REDIS_MEMORYDB',
  'DISCOVER_RESOURCE_DATABASE_REDIS_AZURE_CACHE',
  'DISCOVER_RESOURCE_DATABASE_REDIS_CLUSTER_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_MYSQL_AZURE',
  'DISCOVER_RESOURCE_DATABASE_SQLSERVER_AZURE',
  'DISCOVER_RESOURCE_DATABASE_SQLSERVER_MICROSOFT',
  'DISCOVER_RESOURCE_DATABASE_COCKROACHDB_SELF_HOSTED',
  'DISCOVER_RESOURCE_DATABASE_MONGODB_ATLAS',
  'DISCOVER_RESOURCE_DATABASE_SNOWFLAKE',
  'DISCOVER_RESOURCE_DOC_DATABASE_RDS_PROXY',
  'DISCOVER_RESOURCE_DOC_DATABASE_HIGH_AVAILABILITY',
  'DISCOVER_RESOURCE_DOC_DATABASE_DYNAMIC_REGISTRATION',
  'DISCOVER_RESOURCE_SAML_APPLICATION',
  'DISCOVER_RESOURCE_EC2_INSTANCE',
  'DISCOVER_RESOURCE_DOC_WINDOWS_DESKTOP_NON_AD',
  'DISCOVER_RESOURCE_KUBERNETES_EKS',
  'DISCOVER_RESOURCE_APPLICATION_AWS_CONSOLE',
] as const;

export const DISCOVER_RESOURCE_UNSPECIFIED = 'DISCOVER_RESOURCE_UNSPECIFIED';

/** The DiscoverResource values an event may carry (§4a values 1–41, without UNSPECIFIED). */
export const DISCOVER_RESOURCES = DISCOVER_RESOURCE_ENUM.slice(1) as readonly Exclude<
  (typeof DISCOVER_RESOURCE_ENUM)[number],
  'DISCOVER_RESOURCE_UNSPECIFIED'
>[];
export type DiscoverResource = (typeof DISCOVER_RESOURCES)[number];

/** UIDiscoverDeployServiceEvent.DeployMethod. */
export const DEPLOY_METHODS = ['DEPLOY_METHOD_UNSPECIFIED', 'DEPLOY_METHOD_AUTO', 'DEPLOY_METHOD_MANUAL'] as const;
/** UIDiscoverDeployServiceEvent.DeployType. */
export const DEPLOY_TYPES = ['DEPLOY_TYPE_UNSPECIFIED', 'DEPLOY_TYPE_INSTALL_SCRIPT', 'DEPLOY_TYPE_AMAZON_ECS'] as const;
/** UIDiscoverCreateDiscoveryConfigEvent.ConfigMethod. */
export const CONFIG_METHODS = [
  'CONFIG_METHOD_UNSPECIFIED',
  'CONFIG_METHOD_AWS_EC2_SSM',
  'CONFIG_METHOD_AWS_EC2_EICE',
  'CONFIG_METHOD_AWS_RDS_ECS',
  'CONFIG_METHOD_AWS_EKS',
] as const;

/** Connect (RFD 97, connect.proto). */
export const CONNECTOR_TYPES = ['local', 'github', 'saml', 'oidc', 'passwordless'] as const;
export const CONNECT_PROTOCOLS = ['ssh', 'kube', 'db', 'app', 'desktop'] as const;
export const CONNECT_ORIGINS = ['resource_table', 'search_bar', 'connection_list', 'reopened_session', 'vnet'] as const;
export const CONNECT_ACCESS_THROUGH = ['proxy_service', 'local_proxy', 'vnet'] as const;
export const ACCESS_REQUEST_KINDS = ['role', 'resource'] as const;
export const CMC_FAILED_STEPS = [
  'downloading_agent',
  'verifying_agent',
  'setting_up_role',
  'generating_config_file',
  'joining_cluster',
] as const;
/** Electron `process.platform` values Connect ships for, and `process.arch`. */
export const CONNECT_OS = ['darwin', 'linux', 'win32'] as const;
export const CONNECT_ARCH = ['x64', 'arm64'] as const;
/** The job roles the Connect dialog offers (free text under "Other" is allowed too). */
export const CONNECT_JOB_ROLES = [
  'Software Engineer',
  'Support Engineer',
  'DevOps Engineer',
  'Solutions Architect',
  'System Administrator',
] as const;

// ---------------------------------------------------------------------------------------------
// Names from the taxonomy

/** Every Discover event name (taxonomy discover.events values), in the taxonomy's order. */
export const DISCOVER_EVENT_NAMES: readonly string[] = Object.values(taxonomy().discover.events);
/** Every Connect event name (taxonomy connect.events values). */
export const CONNECT_EVENT_NAMES: readonly string[] = Object.values(taxonomy().connect.events);

/** Legacy names from the first Discover UI versions (§2, "Historic names"); checked like their successors. */
export const LEGACY_DISCOVER_EVENT_NAMES: Readonly<Record<string, string>> = {
  'tp.ui.discover.started.click': 'started',
  'tp.ui.discover.resourceSelection.click': 'resourceSelection',
};

// ---------------------------------------------------------------------------------------------
// zod schemas (built from the taxonomy's keys)

/** Anonymized names (§6): standard base64 of a 32-byte HMAC-SHA256 = 44 chars ending in '='. */
export const ANONYMIZED_RE = /^[A-Za-z0-9+/]{43}=$/;
const anonymized = z
  .string({ error: 'expected an anonymized name (base64 HMAC-SHA256 string)' })
  .regex(ANONYMIZED_RE, { error: 'expected an anonymized name: 44 characters of standard base64 (HMAC-SHA256)' });

/** PostHog keeps JSON types, but exports and CSVs often stringify them: accept both forms. */
const boolish = z.union([z.boolean(), z.enum(['true', 'false'])], { error: 'expected a boolean' });
const countish = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)], {
  error: 'expected a non-negative integer',
});

function oneOf<T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (iss) => {
      const got = iss.input;
      if (typeof got !== 'string') return `expected a ${what} string, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`;
      const hint = suggest(got, values);
      return `unknown ${what} '${got}'${hint ? ` (did you mean '${hint}'?)` : ''}; expected one of ${values.join(', ')}`;
    },
  });
}

const statusSchema = oneOf(DISCOVER_STATUSES as unknown as [string, ...string[]], 'Discover status');
const resourceSchema = oneOf(DISCOVER_RESOURCES as unknown as [string, ...string[]], 'Discover resource');

export interface VocabularySchemas {
  /** Properties prehog adds to every cluster event (§3, §7). */
  clusterEnvelope: z.ZodType<Record<string, unknown>>;
  /** Discover event properties by taxonomy event key (started, resourceSelection, ...). */
  discover: Record<string, z.ZodType<Record<string, unknown>>>;
  /** Connect event properties by taxonomy event key (clusterLogin, protocolUse, ...). */
  connect: Record<string, z.ZodType<Record<string, unknown>>>;
  /** The signup event (taxonomy discover.signupEvent): envelope only. */
  signup: z.ZodType<Record<string, unknown>>;
}

function buildSchemas(t: Taxonomy, strict: boolean): VocabularySchemas {
  const dp = t.discover.properties;
  const cp = t.cluster.properties;
  const np = t.connect.properties;
  const pp = t.connect.personProperties;
  const req = <S extends z.ZodType>(s: S) => (strict ? s : s.optional());

  const envelopeShape = {
    [cp.clusterName]: req(anonymized),
    [cp.accountId]: req(z.string({ error: 'expected the account id string' }).min(1, { error: 'must not be empty' })),
    [cp.isCloud]: req(boolish),
    [cp.licenseName]: z.string().optional(),
    [cp.licenseAuthority]: z.string().optional(),
    [cp.teleportVersion]: z.string().optional(),
  };
  const clusterEnvelope = z.looseObject(envelopeShape);

  const discoverBase = {
    ...envelopeShape,
    [dp.sessionId]: z
      .string({ error: 'expected the wizard session id (a string)' })
      .min(1, { error: 'the wizard session id must not be empty' }),
    [dp.status]: statusSchema,
    [dp.error]: z.string({ error: 'expected the error text (a string)' }).optional(),
    [dp.userName]: strict ? anonymized : anonymized.optional(),
    [dp.sso]: boolish.optional(),
    [dp.resource]: resourceSchema,
  };
  const errorNeedsText = (p: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (p[dp.status] === 'DISCOVER_STATUS_ERROR') {
      const e = p[dp.error];
      if (typeof e !== 'string' || e.trim() === '') {
        ctx.addIssue({ code: 'custom', path: [dp.error], message: 'status is DISCOVER_STATUS_ERROR but the error text is missing or empty' });
      }
    }
  };
  const discover: Record<string, z.ZodType<Record<string, unknown>>> = {};
  for (const key of Object.keys(t.discover.events)) {
    const shape: Record<string, z.ZodType> = { ...discoverBase };
    if (key === 'started') {
      // `started` carries no resource (the UI sends '' and the proxy drops it).
      shape[dp.resource] = z.union([z.literal(''), z.literal(DISCOVER_RESOURCE_UNSPECIFIED), resourceSchema]).optional();
    }
    if (key === 'autoDiscoveredResources') shape[dp.autoDiscoveredCount] = req(countish);
    if (key === 'databaseEnrollRds') shape[dp.selectedResourcesCount] = countish.optional();
    if (key === 'deployService') {
      shape[dp.deployMethod] = oneOf(DEPLOY_METHODS as unknown as [string, ...string[]], 'deploy method').optional();
      shape[dp.deployType] = oneOf(DEPLOY_TYPES as unknown as [string, ...string[]], 'deploy type').optional();
    }
    if (key === 'createDiscoveryConfig') {
      shape[dp.configMethod] = oneOf(CONFIG_METHODS as unknown as [string, ...string[]], 'discovery config method').optional();
    }
    discover[key] = z.looseObject(shape).superRefine(errorNeedsText) as unknown as z.ZodType<Record<string, unknown>>;
  }

  const setObj = z.looseObject({
    [pp.os]: oneOf(CONNECT_OS as unknown as [string, ...string[]], 'Connect OS').optional(),
    [pp.arch]: z.string().optional(),
    [pp.osVersion]: z.string().optional(),
    [pp.appVersion]: z.string().optional(),
    [pp.jobRole]: z.string().optional(),
  });
  const connectBase = {
    [np.clusterName]: req(anonymized),
    [np.userName]: req(anonymized),
    $set: setObj.optional(),
    $set_once: setObj.optional(),
  };
  const connect: Record<string, z.ZodType<Record<string, unknown>>> = {};
  const ev = t.connect.events;
  for (const key of Object.keys(ev)) {
    const shape: Record<string, z.ZodType> = { ...connectBase };
    switch (key) {
      case 'clusterLogin':
        shape[np.connectorType] = oneOf(CONNECTOR_TYPES as unknown as [string, ...string[]], 'connector type');
        break;
      case 'protocolUse':
        shape[np.protocol] = oneOf(CONNECT_PROTOCOLS as unknown as [string, ...string[]], 'protocol');
        shape[np.origin] = oneOf(CONNECT_ORIGINS as unknown as [string, ...string[]], 'origin').optional();
        shape[np.accessThrough] = oneOf(CONNECT_ACCESS_THROUGH as unknown as [string, ...string[]], 'access_through').optional();
        break;
      case 'accessRequestCreate':
        shape[np.accessRequestKind] = oneOf(ACCESS_REQUEST_KINDS as unknown as [string, ...string[]], 'access request kind');
        break;
      case 'fileTransferRun':
        shape[np.fileTransferIsUpload] = boolish;
        break;
      case 'connectMyComputerSetup':
        shape[np.setupSuccess] = boolish;
        shape[np.setupFailedStep] = z
          .union([z.literal(''), oneOf(CMC_FAILED_STEPS as unknown as [string, ...string[]], 'Connect My Computer setup step')])
          .optional();
        break;
      default:
        break;
    }
    let schema: z.ZodType<Record<string, unknown>> = z.looseObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
    if (key === 'connectMyComputerSetup') {
      schema = (schema as z.ZodType<Record<string, unknown>>).superRefine((p, ctx) => {
        const ok = p[np.setupSuccess] === true || p[np.setupSuccess] === 'true';
        const step = p[np.setupFailedStep];
        if (!ok && (typeof step !== 'string' || step === '')) {
          ctx.addIssue({ code: 'custom', path: [np.setupFailedStep], message: 'setup failed but the failed step is missing' });
        }
        if (ok && typeof step === 'string' && step !== '') {
          ctx.addIssue({ code: 'custom', path: [np.setupFailedStep], message: 'setup succeeded but a failed step is set' });
        }
      });
    }
    connect[key] = schema;
  }

  return { clusterEnvelope, discover, connect, signup: clusterEnvelope };
}

let lenientCache: VocabularySchemas | undefined;
let strictCache: VocabularySchemas | undefined;

/**
 * The zod schemas. `strict` also requires the prehog envelope (cluster name, account id,
 * is_cloud), the anonymized user name on Discover events and the cluster/user names on Connect
 * events — what a faithful export (and the fixtures generator) always has.
 */
export function vocabularySchemas(opts: { strict?: boolean } = {}): VocabularySchemas {
  if (opts.strict) return (strictCache ??= buildSchemas(taxonomy(), true));
  return (lenientCache ??= buildSchemas(taxonomy(), false));
}

interface Lookup {
  kind: 'discover' | 'connect' | 'signup';
  key: string;
}
let lookupCache: Map<string, Lookup> | undefined;
function lookup(): Map<string, Lookup> {
  if (lookupCache) return lookupCache;
  const t = taxonomy();
  const m = new Map<string, Lookup>();
  for (const [key, name] of Object.entries(t.discover.events)) m.set(name, { kind: 'discover', key });
  for (const [name, key] of Object.entries(LEGACY_DISCOVER_EVENT_NAMES)) if (!m.has(name)) m.set(name, { kind: 'discover', key });
  for (const [key, name] of Object.entries(t.connect.events)) m.set(name, { kind: 'connect', key });
  if (t.discover.signupEvent) m.set(t.discover.signupEvent, { kind: 'signup', key: 'signup' });
  lookupCache = m;
  return m;
}

/** Is this one of Teleport's Discover/Connect events (or the signup event)? */
export function isTeleportEvent(event: string): boolean {
  return lookup().has(event);
}

export interface VocabularyIssue {
  /** Where: `properties["tp.discover.step.status"]` (JSON-path style, keys quoted since they hold dots). */
  path: string;
  message: string;
}

/** Format a zod issue path under `properties`. */
export function propertiesPath(path: readonly PropertyKey[]): string {
  let out = 'properties';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `[${JSON.stringify(String(p))}]`;
  return out;
}

/**
 * Check one event against the vocabulary. Returns undefined when the event is fine or is not a
 * Teleport event; otherwise the first problem with its property path. Lenient by default
 * (only what Teleport itself validates plus typed enums); `strict` also requires the envelope.
 */
export function checkTeleportEvent(
  event: string,
  properties: Record<string, unknown>,
  opts: { strict?: boolean } = {},
): VocabularyIssue | undefined {
  const hit = lookup().get(event);
  if (!hit) return undefined;
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    return { path: 'properties', message: 'expected an object' };
  }
  const s = vocabularySchemas(opts);
  const schema = hit.kind === 'discover' ? s.discover[hit.key] : hit.kind === 'connect' ? s.connect[hit.key] : s.signup;
  if (!schema) return undefined;
  const r = schema.safeParse(properties);
  if (r.success) return undefined;
  const issue = r.error.issues[0]!;
  return { path: propertiesPath(issue.path), message: issue.message };
}

/** Every vocabulary enum by name, for `--help` texts and suggestions elsewhere. */
export const VOCABULARY_ENUMS = {
  status: DISCOVER_STATUSES,
  resource: DISCOVER_RESOURCES,
  deployMethod: DEPLOY_METHODS,
  deployType: DEPLOY_TYPES,
  configMethod: CONFIG_METHODS,
  connectorType: CONNECTOR_TYPES,
  protocol: CONNECT_PROTOCOLS,
  origin: CONNECT_ORIGINS,
  accessThrough: CONNECT_ACCESS_THROUGH,
  accessRequestKind: ACCESS_REQUEST_KINDS,
  setupFailedStep: CMC_FAILED_STEPS,
  os: CONNECT_OS,
  arch: CONNECT_ARCH,
} as const;
