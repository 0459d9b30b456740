/**
 * Discover resource tracks (queries/discover/<slug>.json): the one loader the reports and the
 * synthetic generator share, and the rules that turn a track into the steps a funnel follows.
 *
 * Rules read from Teleport's web UI (shared reference teleport-real-flows.md):
 *  - `completed` is sent only when the user leaves the Finished page (a closed tab loses it), so it
 *    is always an optional step: a session that passed the last real step has added its resource.
 *  - a step listed in `optional` never holds a session up (RDS auto-deploy emits iampolicy SKIPPED
 *    before deployService SUCCESS; Connect My Computer has no principals step);
 *  - a step listed in `deploymentOnly` is shown on one kind of cluster only: dropped when the
 *    report follows the other kind, optional when it follows every cluster.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { QUERIES_DIR, taxonomy } from '../events/taxonomy.js';
import { InputError, UsageError, didYouMean, suggest } from '../errors.js';

export type Deployment = 'all' | 'cloud' | 'self-hosted';
export const DEPLOYMENTS: readonly Deployment[] = ['all', 'cloud', 'self-hosted'];

const TrackSchema = z
  .object({
    $schema: z.string().optional(),
    slug: z.string().regex(/^[a-z0-9-]+$/),
    title: z.string().min(1),
    resource: z.string().regex(/^DISCOVER_RESOURCE_[A-Z0-9_]+$/),
    steps: z.array(z.string().min(1)).min(3),
    deploymentOnly: z.record(z.string(), z.enum(['cloud', 'self-hosted'])).optional(),
    optional: z.record(z.string(), z.string().min(1)).optional(),
    legacy: z.string().min(1).optional(),
    source: z.string().optional(),
  })
  .strict();

export type Track = z.infer<typeof TrackSchema>;

export interface FlowStep {
  key: string;
  /** true: the step never holds a session up (PostHog's optionalInFunnel). */
  optional: boolean;
  /** Why the step is optional. */
  why?: string;
}

export const TRACKS_DIR = join(QUERIES_DIR, 'discover');
let cache: Track[] | undefined;

function fail(where: string, path: string, message: string): never {
  throw new InputError(where, `${path}: ${message}`);
}

/** All tracks, validated, in file-name order. */
export function loadTracks(dir = TRACKS_DIR): Track[] {
  if (cache && dir === TRACKS_DIR) return cache;
  const events = taxonomy().discover.events;
  const tracks: Track[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json') && !n.endsWith('.schema.json')).sort()) {
    const where = join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(where, 'utf8'));
    } catch (e) {
      throw new InputError(where, `not valid JSON: ${(e as Error).message}`);
    }
    const parsed = TrackSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      fail(where, issue.path.join('.') || '(root)', issue.message);
    }
    const t = parsed.data;
    t.steps.forEach((s, i) => {
      if (!(s in events)) {
        const hint = suggest(s, Object.keys(events));
        fail(where, `steps[${i}]`, `'${s}' is not an event key in queries/taxonomy.json${hint ? ` (did you mean '${hint}'?)` : ''}`);
      }
    });
    if (t.steps[0] !== 'started' || t.steps[1] !== 'resourceSelection') fail(where, 'steps', 'a track starts with started, resourceSelection');
    for (const [field, map] of [['optional', t.optional], ['deploymentOnly', t.deploymentOnly]] as const) {
      for (const k of Object.keys(map ?? {})) {
        if (!t.steps.includes(k) || k === 'started' || k === 'resourceSelection') fail(where, `${field}.${k}`, 'names no step after resourceSelection of this track');
      }
    }
    if (!flowSteps(t, 'all', 'ordered').some((s, i) => i >= 2 && !s.optional)) fail(where, 'steps', 'needs a required step after resourceSelection');
    if (`${t.slug}.json` !== f) fail(where, 'slug', `'${t.slug}' does not match the file name`);
    tracks.push(t);
  }
  if (dir === TRACKS_DIR) cache = tracks;
  return tracks;
}

export function trackSlugs(): string[] {
  return loadTracks().map((t) => t.slug);
}

export function findTrack(slug: string): Track {
  const t = loadTracks().find((x) => x.slug === slug);
  if (t) return t;
  const slugs = trackSlugs();
  const s = didYouMean(slug, slugs);
  throw new UsageError(
    `--resource: unknown resource '${slug}'${s ? ` — did you mean ${s}?` : ''}`,
    `Valid resources: ${slugs.join(', ')}, or 'all'. List them with --resource list.`,
  );
}

const COMPLETED_WHY = '`completed` is sent only when the user leaves the Finished page (a closed tab loses it)';

/**
 * The steps a funnel follows for a deployment kind, each marked optional or required. Unordered
 * funnels cannot have optional steps (PostHog rejects them), so they keep the required ones only.
 */
export function flowSteps(track: Track, deployment: Deployment, order: 'ordered' | 'strict' | 'unordered' = 'ordered'): FlowStep[] {
  const out: FlowStep[] = [];
  for (const key of track.steps) {
    const only = track.deploymentOnly?.[key];
    if (only && deployment !== 'all' && only !== deployment) continue;
    const why = key === 'completed' ? COMPLETED_WHY : (track.optional?.[key] ?? (only && deployment === 'all' ? `shown on ${only} clusters only` : undefined));
    out.push(why ? { key, optional: true, why } : { key, optional: false });
  }
  return order === 'unordered' ? out.filter((s) => !s.optional) : out;
}

/** Step keys a session on this deployment kind can see (required and optional). */
export function trackSteps(track: Track, deployment: Deployment): string[] {
  return flowSteps(track, deployment).map((s) => s.key);
}

/** The last required step: passing it means the resource was added. */
export function addedStep(track: Track, deployment: Deployment): string {
  const req = flowSteps(track, deployment).filter((s) => !s.optional);
  return req[req.length - 1]!.key;
}

/** The first view after the resource selection (going back from it starts a new session). */
export function firstView(track: Track, deployment: Deployment): string {
  return trackSteps(track, deployment)[2]!;
}

export function stepEventName(stepKey: string): string {
  const name = taxonomy().discover.events[stepKey];
  if (name) return name;
  return stepKey; // a raw event name given with --steps
}

const STEP_TITLES: Record<string, string> = {
  started: 'Started',
  resourceSelection: 'Resource selected',
  integrationAwsOidcConnect: 'AWS OIDC integration',
  databaseEnrollRds: 'Enroll RDS database',
  kubeEnrollEks: 'Enroll EKS cluster',
  deployService: 'Deploy service',
  databaseRegister: 'Register database',
  databaseConfigureMtls: 'Configure mTLS',
  databaseConfigureIamPolicy: 'Configure IAM policy',
  desktopActiveDirectoryToolsInstall: 'Install AD tools',
  desktopActiveDirectoryConfigure: 'Configure Active Directory',
  autoDiscoveredResources: 'Auto-discovered resources',
  createAppServer: 'Create app server',
  createDiscoveryConfig: 'Create discovery config',
  principalsConfigure: 'Set up access',
  testConnection: 'Test connection',
  completed: 'Completed',
};

/** Human title of a step key ("principalsConfigure" -> "Set up access"). */
export function stepTitle(stepKey: string): string {
  return STEP_TITLES[stepKey] ?? stepKey;
}
