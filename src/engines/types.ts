/**
 * The one intermediate language is PostHog's own query objects (FunnelsQuery, TrendsQuery,
 * HogQLQuery). Both engines take them and answer in PostHog's response shapes.
 */
export type PostHogQuery = { kind: string; [k: string]: unknown };

/** PostHog's dateRange (absolute or relative dates, resolved by the engine) lives with the query types. */
export type { DateRange } from '../query/schema.js';
import type { DataSpan } from '../time/report-range.js';
export type { DataSpan };

/** PostHog's funnelWindowIntervalUnit. */
export type WindowUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month';

/** Team-level settings that change query semantics, plus a pinned "now" for relative dates. */
export interface QueryContext {
  /** IANA timezone of the team (PostHog "project timezone"). Default UTC. */
  timezone: string;
  /** 0 = Sunday (PostHog default), 1 = Monday. */
  weekStart: 0 | 1;
  /** Current time for relative date ranges; default the real clock. */
  now: Date;
}

export function defaultQueryContext(over: Partial<QueryContext> = {}): QueryContext {
  return { timezone: 'UTC', weekStart: 0, now: new Date(), ...over };
}

/** Response of a query in PostHog's shape (`results` plus runner fields). */
export interface QueryResponse {
  results: unknown;
  [k: string]: unknown;
}

export interface Engine {
  readonly name: 'local' | 'posthog';
  run(query: PostHogQuery, ctx: QueryContext): Promise<QueryResponse>;
  /**
   * Run several queries; engines may share work between them (the local engine scans the
   * events once for compatible funnels). Results come back in the same order.
   */
  runMany(queries: readonly PostHogQuery[], ctx: QueryContext): Promise<QueryResponse[]>;
  /** The first and last event the data holds, when the engine can tell cheaply (the local store); null when empty. */
  span?(): Promise<DataSpan | null>;
  close(): Promise<void>;
}
