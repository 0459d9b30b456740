/**
 * Connect growth definitions (RFD 97: does usage grow or shrink?) compiled to PostHog's own
 * insight queries: LifecycleQuery (new / returning / resurrecting / dormant installations),
 * RetentionQuery (cohorts of installations by first activity) and StickinessQuery (active
 * intervals per installation). "Active" is the same as for DAU: any Connect event from an
 * installation (activityProperties in ./connect.ts), so every count is of installations.
 */
import type { DateRange } from '../query/schema.js';
import type { LifecycleQuery, RetentionQuery, StickinessQuery } from '../query/schema.js';
import { activityProperties, type ConnectDefinitions, type ReportInterval } from './connect.js';

const ANY_EVENT = { kind: 'EventsNode', event: null, name: 'All events', custom_name: 'Active installations' } as const;

export interface LifecycleOptions {
  dateRange: DateRange;
  interval: ReportInterval;
}

/** A one-series insight over "any Connect event" (lifecycle and stickiness share this shape). */
function activityQuery(kind: 'LifecycleQuery' | 'StickinessQuery', defs: ConnectDefinitions, o: { dateRange: DateRange; interval: ReportInterval }): Record<string, unknown> {
  return {
    kind,
    series: [{ ...ANY_EVENT }],
    interval: o.interval,
    dateRange: { date_from: o.dateRange.date_from, date_to: o.dateRange.date_to },
    properties: activityProperties(defs.activity),
    filterTestAccounts: false,
  };
}

export function buildLifecycleQuery(defs: ConnectDefinitions, o: LifecycleOptions): LifecycleQuery {
  return activityQuery('LifecycleQuery', defs, o) as LifecycleQuery;
}

export type RetentionKind = 'first_time' | 'recurring';

export interface RetentionOptions {
  dateRange: DateRange;
  period: ReportInterval;
  /** cohorts and offsets shown (PostHog's totalIntervals) */
  intervals: number;
  kind: RetentionKind;
}

export function buildRetentionQuery(defs: ConnectDefinitions, o: RetentionOptions): RetentionQuery {
  const entity = { id: null, type: 'events', name: 'All events' };
  const dateRange: Record<string, string | null> = { date_to: o.dateRange.date_to };
  if (o.dateRange.date_from) dateRange.date_from = o.dateRange.date_from;
  return {
    kind: 'RetentionQuery',
    dateRange,
    properties: activityProperties(defs.activity),
    filterTestAccounts: false,
    retentionFilter: {
      period: (o.period.charAt(0).toUpperCase() + o.period.slice(1)) as 'Day' | 'Week' | 'Month',
      totalIntervals: o.intervals,
      retentionType: o.kind === 'first_time' ? 'retention_first_time' : 'retention_recurring',
      targetEntity: entity,
      returningEntity: entity,
    },
  } as RetentionQuery;
}

export interface StickinessOptions {
  dateRange: DateRange;
  interval: ReportInterval;
}

export function buildStickinessQuery(defs: ConnectDefinitions, o: StickinessOptions): StickinessQuery {
  return activityQuery('StickinessQuery', defs, o) as StickinessQuery;
}
