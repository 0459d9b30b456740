/**
 * Discover resource tracks (queries/discover/<slug>.json) and their compilation to PostHog
 * FunnelsQuery objects.
 *
 * How a track funnel counts (RFD 0094 + teleport-events.md §5):
 *  - one funnel per wizard session: aggregated by the session id property (funnelAggregateByHogQL);
 *  - a step counts only SUCCESS or SKIPPED outcomes (ERROR and ABORTED are sent under the same
 *    event name and must not advance the funnel);
 *  - every step after `started` is filtered on the track's DISCOVER_RESOURCE_* value;
 *  - `started` carries no resource, so the funnel is broken down by resource with "step"
 *    attribution on the resourceSelection step: the track's bucket then holds exactly the
 *    sessions that selected this resource, and their `started` counts toward it.
 */
import { taxonomy } from '../events/taxonomy.js';
import { UsageError } from '../errors.js';
import type { WindowUnit } from '../engines/types.js';
import type { DateRange } from '../query/schema.js';
import { addedStep, flowSteps, stepEventName, stepTitle, type Deployment, type FlowStep, type Track } from './tracks.js';

export {
  addedStep, DEPLOYMENTS, findTrack, firstView, flowSteps, loadTracks, stepEventName, stepTitle, trackSlugs, trackSteps,
  type Deployment, type FlowStep, type Track,
} from './tracks.js';

export const COUNTED_STATUSES = ['DISCOVER_STATUS_SUCCESS', 'DISCOVER_STATUS_SKIPPED'] as const;

export interface TrackFunnelOptions {
  dateRange: DateRange;
  window: { funnelWindowInterval: number; funnelWindowIntervalUnit: WindowUnit };
  order: 'ordered' | 'strict' | 'unordered';
  deployment: Deployment;
  /** Override the steps (taxonomy step keys or raw event names). */
  steps?: string[];
  /** Extra breakdown property (event property key; `person:KEY` for a person property). */
  breakdown?: string;
  vizType?: 'steps' | 'time_to_convert' | 'trends';
  funnelFromStep?: number;
  funnelToStep?: number;
  binCount?: number;
}

/** HogQL expression for the wizard-session aggregation target. */
export function sessionAggregationHogQL(): string {
  return `properties.\`${taxonomy().discover.properties.sessionId}\``;
}

function statusFilter() {
  return { key: taxonomy().discover.properties.status, type: 'event', operator: 'exact', value: [...COUNTED_STATUSES] };
}

function resourceFilter(resource: string) {
  return { key: taxonomy().discover.properties.resource, type: 'event', operator: 'exact', value: [resource] };
}

export function parseBreakdownProperty(spec: string): { property: string; type: 'event' | 'person' } {
  const typed = /^(person|event):/.exec(spec);
  const out = typed ? { property: spec.slice(typed[0].length), type: typed[1] as 'event' | 'person' } : { property: spec, type: 'event' as const };
  if (out.property.trim() === '') {
    throw new UsageError(`--breakdown: '${spec}' names no property`, 'Give a property key, e.g. --breakdown tp.discover.deploy.method or --breakdown person:email.');
  }
  return out;
}

/**
 * The funnel's breakdownFilter: the track's resource first, then the user's --breakdown. PostHog's
 * funnel runner reads only `breakdown` (a list of properties of one `breakdown_type`) and ignores
 * `breakdowns`, so a person property cannot sit next to the (event) resource property: refused
 * here, before anything is sent.
 */
function trackBreakdownFilter(extra: string | undefined): Record<string, unknown> {
  const resource = taxonomy().discover.properties.resource;
  if (!extra) return { breakdown_type: 'event', breakdown: resource, breakdown_limit: 100 };
  const b = parseBreakdownProperty(extra);
  if (b.type !== 'event') {
    throw new UsageError(
      `--breakdown ${extra}: a funnel breaks down by properties of one type, and the track is already broken down by the event property ${resource}`,
      'PostHog funnels cannot mix an event and a person property in one breakdown. Use an event property (e.g. --breakdown tp.discover.deploy.method), or run a FunnelsQuery of your own with --breakdown on the person property through `discover-metrics query`.',
    );
  }
  return { breakdown_type: 'event', breakdown: [resource, b.property], breakdown_limit: 100 };
}

/**
 * The cluster-kind filter of a report: `tp.is_cloud` (prehog adds it to every cluster event).
 * PostHog compares a boolean property as its string, 'true' or 'false'.
 */
export function deploymentProperties(deployment: Deployment): Record<string, unknown>[] {
  if (deployment === 'all') return [];
  return [{ key: taxonomy().cluster.properties.isCloud, type: 'event', operator: 'exact', value: [deployment === 'cloud' ? 'true' : 'false'] }];
}

/** The steps a track funnel follows: the track's flow, or the --steps override (all required). */
export function funnelSteps(track: Track, o: Pick<TrackFunnelOptions, 'steps' | 'deployment' | 'order'>): FlowStep[] {
  if (o.steps) return o.steps.map((key) => ({ key, optional: false }));
  return flowSteps(track, o.deployment, o.order);
}

function stepNode(track: Track, step: FlowStep): Record<string, unknown> {
  const event = stepEventName(step.key);
  const properties: Record<string, unknown>[] = [statusFilter()];
  if (step.key !== 'started') properties.push(resourceFilter(track.resource));
  return { kind: 'EventsNode', event, name: event, custom_name: stepTitle(step.key), properties, ...(step.optional ? { optionalInFunnel: true } : {}) };
}

/**
 * The FunnelsQuery for one track. The track's own bucket is breakdown value [resource, ...].
 * Optional steps (PostHog's optionalInFunnel) count the sessions that showed them and never
 * hold a session up; time-to-convert funnels cannot have them and follow the required steps.
 */
export function buildTrackFunnelQuery(track: Track, o: TrackFunnelOptions): Record<string, unknown> {
  let steps = funnelSteps(track, o);
  if ((o.vizType ?? 'steps') !== 'steps') steps = steps.filter((s) => !s.optional);
  if (steps.length < 2) throw new UsageError(`--steps: a funnel needs at least 2 steps (got ${steps.length})`);
  const series = steps.map((s) => stepNode(track, s));
  const selectionIndex = steps.findIndex((s) => s.key === 'resourceSelection');
  const attribution =
    o.order === 'unordered' || selectionIndex < 0
      ? { breakdownAttributionType: 'first_touch' }
      : { breakdownAttributionType: 'step', breakdownAttributionValue: selectionIndex };
  const funnelsFilter: Record<string, unknown> = {
    funnelVizType: o.vizType ?? 'steps',
    funnelOrderType: o.order,
    funnelWindowInterval: o.window.funnelWindowInterval,
    funnelWindowIntervalUnit: o.window.funnelWindowIntervalUnit,
    funnelAggregateByHogQL: sessionAggregationHogQL(),
    ...attribution,
  };
  if (o.funnelFromStep !== undefined) funnelsFilter.funnelFromStep = o.funnelFromStep;
  if (o.funnelToStep !== undefined) funnelsFilter.funnelToStep = o.funnelToStep;
  if (o.binCount !== undefined) funnelsFilter.binCount = o.binCount;
  const breakdownFilter = trackBreakdownFilter(o.breakdown);
  return {
    kind: 'FunnelsQuery',
    series,
    dateRange: o.dateRange,
    interval: 'day',
    ...(o.deployment !== 'all' ? { properties: deploymentProperties(o.deployment) } : {}),
    breakdownFilter,
    funnelsFilter,
  };
}

/**
 * A two-step funnel from the track's first step to the step that means "resource added" (its
 * last required step; `completed` is lost when a tab closes). Its step-2 median and average
 * conversion times are the time to complete the wizard for that resource. The breakdown takes
 * the resource from the last step (step attribution): `started` carries no resource.
 */
export function buildTrackCompletionQuery(track: Track, o: TrackFunnelOptions): Record<string, unknown> {
  const required = funnelSteps(track, o).filter((s) => !s.optional);
  const ends = [required[0]!.key, o.steps ? required[required.length - 1]!.key : addedStep(track, o.deployment)];
  if (ends[0] === ends[1]) throw new UsageError('--steps: the first and last step are the same');
  const q = buildTrackFunnelQuery(track, { ...o, steps: ends, breakdown: undefined, vizType: 'steps' });
  const ff = q.funnelsFilter as Record<string, unknown>;
  if (o.order === 'unordered') {
    ff.breakdownAttributionType = 'first_touch';
    delete ff.breakdownAttributionValue;
  } else {
    ff.breakdownAttributionType = 'step';
    ff.breakdownAttributionValue = 1;
  }
  return q;
}

/**
 * One completion funnel for several tracks that share their first and last step (ordered funnels):
 * the last step is not filtered on a resource, the breakdown by resource is attributed to it, and
 * PostHog's step attribution makes each bucket hold exactly the sessions whose last-step event
 * carries that resource, i.e. what buildTrackCompletionQuery gives per track. One query instead
 * of one per track (PostHog's rate limit counts requests).
 */
export function buildSharedCompletionQuery(tracks: readonly Track[], o: TrackFunnelOptions): Record<string, unknown> {
  if (o.order !== 'ordered') throw new Error('buildSharedCompletionQuery: only ordered funnels attribute the breakdown to the last step');
  const q = buildTrackCompletionQuery(tracks[0]!, o);
  const resource = taxonomy().discover.properties.resource;
  for (const s of q.series as { properties: { key: string }[] }[]) s.properties = s.properties.filter((p) => p.key !== resource);
  return q;
}

/** A track's completion funnel without its resource filters: tracks with the same one share a query. */
export function completionEnds(track: Track, o: TrackFunnelOptions): string {
  return JSON.stringify(buildSharedCompletionQuery([track], o).series);
}

/** Breakdown value of a track's own bucket in a response. */
export function trackBucketKey(track: Track): string {
  return track.resource;
}

/** Trends series item as PostHog returns it for a table (total value) display. */
export interface TrendsItem {
  label?: string;
  action?: { order?: number; custom_name?: string | null; name?: string | null } | null;
  breakdown_value?: unknown;
  aggregated_value?: number;
  count?: number;
}

export const NULL_BREAKDOWN = '$$_posthog_breakdown_null_$$';
export const OTHER_BREAKDOWN = '$$_posthog_breakdown_other_$$';

/**
 * Failures per step: one TrendsQuery whose series are (step event × ERROR|ABORTED), broken down
 * by resource, as total values over the range. ABORTED is sent under the step the user was on.
 */
export function buildFailuresByStepQuery(stepKeys: string[], dateRange: DateRange, resources: string[] | undefined, deployment: Deployment = 'all'): Record<string, unknown> {
  const t = taxonomy().discover;
  const status = (value: string) => ({ key: t.properties.status, type: 'event', operator: 'exact', value: [value] });
  const sessions = { math: 'hogql', math_hogql: `count(DISTINCT ${sessionAggregationHogQL()})` };
  const node = (key: string, kind: string, rest: Record<string, unknown>) => ({ kind: 'EventsNode', event: stepEventName(key), name: stepEventName(key), custom_name: `${kind}:${key}`, ...rest });
  // per step: ERROR and ABORTED events, then the wizard sessions that reached the step (any
  // outcome) and those that failed on it at least once (the error rate's two terms)
  const series = stepKeys.flatMap((key) => [
    node(key, 'error', { math: 'total', properties: [status('DISCOVER_STATUS_ERROR')] }),
    node(key, 'aborted', { math: 'total', properties: [status('DISCOVER_STATUS_ABORTED')] }),
    node(key, 'reached', sessions),
    node(key, 'failed', { ...sessions, properties: [status('DISCOVER_STATUS_ERROR')] }),
  ]);
  const properties = [...deploymentProperties(deployment), ...(resources ? [{ key: t.properties.resource, type: 'event', operator: 'exact', value: resources }] : [])];
  return {
    kind: 'TrendsQuery',
    series,
    dateRange,
    interval: 'day',
    properties,
    breakdownFilter: { breakdown_type: 'event', breakdown: t.properties.resource, breakdown_limit: 100 },
    trendsFilter: { display: 'ActionsTable' },
  };
}

/** Most common error texts: ERROR outcomes of any Discover step, by error message. */
export function buildTopErrorsQuery(dateRange: DateRange, resources: string[] | undefined, limit: number, deployment: Deployment = 'all'): Record<string, unknown> {
  const t = taxonomy().discover;
  const filters: Record<string, unknown>[] = [...deploymentProperties(deployment), { key: t.properties.status, type: 'event', operator: 'exact', value: ['DISCOVER_STATUS_ERROR'] }];
  if (resources) filters.push({ key: t.properties.resource, type: 'event', operator: 'exact', value: resources });
  return {
    kind: 'TrendsQuery',
    series: [
      { kind: 'EventsNode', event: null, name: 'All events', custom_name: 'errors', math: 'total', properties: filters },
      { kind: 'EventsNode', event: null, name: 'All events', custom_name: 'accounts', math: 'dau', properties: filters },
    ],
    dateRange,
    interval: 'day',
    breakdownFilter: { breakdown_type: 'event', breakdown: t.properties.error, breakdown_limit: limit },
    trendsFilter: { display: 'ActionsTable' },
  };
}

export interface TimeToFirstOptions {
  dateRange: DateRange;
  window: { funnelWindowInterval: number; funnelWindowIntervalUnit: WindowUnit };
  /** Signup event name, or null to measure from the first event seen in the range. */
  signupEvent: string | null;
  vizType: 'steps' | 'time_to_convert';
  binCount?: number;
  /** Wizard mode: from `started` to `completed` per wizard session, broken down by resource. */
  wizard?: boolean;
  /** Wizard mode only: break the steps down by resource (first-touch: the completion's resource). */
  byResource?: boolean;
}

/**
 * Time to first resource. Account mode: per person (a cluster account), from the signup event
 * (or the first event seen: an "All events" first step, whose earliest attempt wins) to the first
 * successfully completed Discover wizard. Wizard mode: per session, started → completed.
 */
export function buildTimeToFirstQuery(o: TimeToFirstOptions): Record<string, unknown> {
  const t = taxonomy().discover;
  const success = { key: t.properties.status, type: 'event', operator: 'exact', value: ['DISCOVER_STATUS_SUCCESS'] };
  // Resource added: the last real step of a guided flow (testConnection, SKIPPED on EKS
  // auto-enroll) or `completed` (lost when a tab closes, but the only end SAML and the legacy
  // desktop flow have). One node with an event-name filter: PostHog steps cannot OR two events.
  const completed = {
    kind: 'EventsNode',
    event: null,
    name: 'All events',
    custom_name: 'Resource added',
    properties: [
      { key: 'event', type: 'event_metadata', operator: 'exact', value: [t.events.testConnection, t.events.completed] },
      { ...success, value: [...COUNTED_STATUSES] },
    ],
  };
  const first = o.wizard
    ? { kind: 'EventsNode', event: t.events.started, name: t.events.started, custom_name: 'Wizard started', properties: [{ ...success, value: [...COUNTED_STATUSES] }] }
    : o.signupEvent
      ? { kind: 'EventsNode', event: o.signupEvent, name: o.signupEvent, custom_name: 'Signed up' }
      : {
          // First seen = the account's first-ever cluster event (Connect installations and CDN
          // downloaders are persons too, but carry no account id). first_time_for_user keeps
          // later events from starting new attempts, so the time runs from the very first one.
          kind: 'EventsNode',
          event: null,
          name: 'All events',
          custom_name: 'First seen',
          math: 'first_time_for_user_with_filters',
          properties: [{ key: taxonomy().cluster.properties.accountId, type: 'event', operator: 'is_set', value: 'is_set' }],
        };
  const funnelsFilter: Record<string, unknown> = {
    funnelVizType: o.vizType,
    funnelOrderType: 'ordered',
    funnelWindowInterval: o.window.funnelWindowInterval,
    funnelWindowIntervalUnit: o.window.funnelWindowIntervalUnit,
  };
  if (o.binCount !== undefined) funnelsFilter.binCount = o.binCount;
  const q: Record<string, unknown> = { kind: 'FunnelsQuery', series: [first, completed], dateRange: o.dateRange, interval: 'day', funnelsFilter };
  if (o.wizard) {
    funnelsFilter.funnelAggregateByHogQL = sessionAggregationHogQL();
    if (o.vizType === 'steps' && o.byResource) {
      funnelsFilter.breakdownAttributionType = 'first_touch';
      q.breakdownFilter = { breakdown_type: 'event', breakdown: t.properties.resource, breakdown_limit: 100 };
    }
  }
  return q;
}
