/**
 * Demand, as PostHog queries: what users look for in the Discover wizard.
 *  - selections: wizard sessions (distinct session ids) that selected each resource, and the
 *    accounts behind them — a TrendsQuery on resourceSelection, broken down by resource;
 *  - sessions that never chose: a session funnel [started, resourceSelection]; its drop-off.
 * Counting distinct sessions keeps duplicate emissions (SAML sends `started` twice) out.
 */
import { taxonomy } from '../events/taxonomy.js';
import type { DateRange } from '../query/schema.js';
import { deploymentProperties, sessionAggregationHogQL } from './discover.js';
import type { Deployment } from './tracks.js';

const success = () => ({ key: taxonomy().discover.properties.status, type: 'event', operator: 'exact', value: ['DISCOVER_STATUS_SUCCESS'] });

export function buildSelectionsQuery(dateRange: DateRange, deployment: Deployment): Record<string, unknown> {
  const t = taxonomy().discover;
  const event = t.events.resourceSelection!;
  const node = { kind: 'EventsNode', event, name: event, properties: [success()] };
  const properties = deploymentProperties(deployment);
  return {
    kind: 'TrendsQuery',
    series: [
      { ...node, custom_name: 'sessions', math: 'hogql', math_hogql: `count(distinct ${sessionAggregationHogQL()})` },
      { ...node, custom_name: 'accounts', math: 'dau' },
    ],
    dateRange,
    interval: 'day',
    ...(properties.length ? { properties } : {}),
    breakdownFilter: { breakdown_type: 'event', breakdown: t.properties.resource, breakdown_limit: 100 },
    trendsFilter: { display: 'ActionsTable' },
  };
}

export function buildChoseQuery(dateRange: DateRange, deployment: Deployment, window: { funnelWindowInterval: number; funnelWindowIntervalUnit: string }): Record<string, unknown> {
  const t = taxonomy().discover;
  const properties = deploymentProperties(deployment);
  const node = (key: 'started' | 'resourceSelection', name: string) => ({ kind: 'EventsNode', event: t.events[key], name: t.events[key], custom_name: name, properties: [success()] });
  return {
    kind: 'FunnelsQuery',
    series: [node('started', 'Started'), node('resourceSelection', 'Chose a resource')],
    dateRange,
    interval: 'day',
    ...(properties.length ? { properties } : {}),
    funnelsFilter: {
      funnelVizType: 'steps',
      funnelOrderType: 'ordered',
      ...window,
      funnelAggregateByHogQL: sessionAggregationHogQL(),
    },
  };
}
