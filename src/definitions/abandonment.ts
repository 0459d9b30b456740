/**
 * When an ABORTED is an abandonment, as PostHog queries.
 *
 * The wizard sends ABORTED under the step the user was on whenever they leave it — also when they
 * leave to create an AWS integration and come back (SUCCESS follows with the same session id), and
 * when they go back from the first view to the resource cards (a new session starts at once).
 * An ABORTED counts as an abandonment only when the session ended there:
 *  - "came back": a session funnel [ABORTED on the step, any later SUCCESS/SKIPPED/ERROR outcome
 *    of the same session]; sessions that drop off between the two ended with that ABORTED;
 *  - "went back": on a track's first view, a funnel per account [ABORTED on the view, a new
 *    `started` within a minute]; those are subtracted (an account counts once per range).
 */
import { taxonomy } from '../events/taxonomy.js';
import type { DateRange } from '../query/schema.js';
import { deploymentProperties, sessionAggregationHogQL } from './discover.js';
import { stepEventName, type Deployment } from './tracks.js';

/** How long after leaving a session may come back and still count as one visit. */
export const CAME_BACK_WINDOW = { funnelWindowInterval: 14, funnelWindowIntervalUnit: 'day' } as const;
/** Going back to the resource cards starts the new session on the same click. */
export const WENT_BACK_WINDOW = { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'minute' } as const;

function statusIs(values: string[]) {
  return { key: taxonomy().discover.properties.status, type: 'event', operator: 'exact', value: values };
}

function base(dateRange: DateRange, deployment: Deployment, resources: string[] | undefined) {
  const t = taxonomy().discover;
  const properties = [...deploymentProperties(deployment)];
  return {
    dateRange,
    interval: 'day',
    ...(properties.length ? { properties } : {}),
    breakdownFilter: { breakdown_type: 'event', breakdown: t.properties.resource, breakdown_limit: 100 },
    resourceFilter: resources ? [{ key: t.properties.resource, type: 'event', operator: 'exact', value: resources }] : [],
  };
}

function abortedNode(stepKey: string, resourceFilter: unknown[]) {
  const event = stepEventName(stepKey);
  return { kind: 'EventsNode', event, name: event, custom_name: `aborted:${stepKey}`, properties: [statusIs(['DISCOVER_STATUS_ABORTED']), ...resourceFilter] };
}

/** Sessions that left from a step (step 1) and came back to the wizard later (step 2), by resource. */
export function buildCameBackQuery(stepKey: string, dateRange: DateRange, deployment: Deployment, resources: string[] | undefined): Record<string, unknown> {
  const { resourceFilter, ...rest } = base(dateRange, deployment, resources);
  return {
    kind: 'FunnelsQuery',
    series: [
      abortedNode(stepKey, resourceFilter),
      {
        kind: 'EventsNode',
        event: null,
        name: 'All events',
        custom_name: 'Came back',
        properties: [statusIs(['DISCOVER_STATUS_SUCCESS', 'DISCOVER_STATUS_SKIPPED', 'DISCOVER_STATUS_ERROR'])],
      },
    ],
    ...rest,
    funnelsFilter: {
      funnelVizType: 'steps',
      funnelOrderType: 'ordered',
      ...CAME_BACK_WINDOW,
      funnelAggregateByHogQL: sessionAggregationHogQL(),
      breakdownAttributionType: 'step',
      breakdownAttributionValue: 0,
    },
  };
}

/** Accounts that left a first view (step 1) and started a new wizard session at once (step 2), by resource. */
export function buildWentBackQuery(stepKey: string, dateRange: DateRange, deployment: Deployment, resources: string[]): Record<string, unknown> {
  const { resourceFilter, ...rest } = base(dateRange, deployment, resources);
  const started = taxonomy().discover.events.started!;
  return {
    kind: 'FunnelsQuery',
    series: [
      abortedNode(stepKey, resourceFilter),
      { kind: 'EventsNode', event: started, name: started, custom_name: 'New session', properties: [statusIs(['DISCOVER_STATUS_SUCCESS'])] },
    ],
    ...rest,
    funnelsFilter: {
      funnelVizType: 'steps',
      funnelOrderType: 'ordered',
      ...WENT_BACK_WINDOW,
      breakdownAttributionType: 'step',
      breakdownAttributionValue: 0,
    },
  };
}
