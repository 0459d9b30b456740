/**
 * zod schemas for the PostHog query objects discover-metrics reads and runs (the subset of
 * PostHog's schema-general.ts the engines understand). Objects are "loose": unknown keys are
 * kept, so a query can be forwarded to PostHog unchanged. Defaults are NOT applied here; the
 * engines apply PostHog's defaults, so a parsed query round-trips byte for byte.
 */
import { z } from 'zod';

export const PROPERTY_OPERATORS = [
  'exact',
  'is_not',
  'icontains',
  'not_icontains',
  'regex',
  'not_regex',
  'gt',
  'gte',
  'lt',
  'lte',
  'is_set',
  'is_not_set',
  'is_date_exact',
  'is_date_before',
  'is_date_after',
  'between',
  'not_between',
  'min',
  'max',
  'in',
  'not_in',
  'is_cleaned_path_exact',
  'flag_evaluates_to',
] as const;

export const PropertyFilterSchema = z.looseObject({
  key: z.union([z.string(), z.number()]),
  type: z.string().optional(),
  operator: z.enum(PROPERTY_OPERATORS).nullish(),
  value: z.unknown().optional(),
});
export type PropertyFilter = z.infer<typeof PropertyFilterSchema>;

export interface PropertyGroup {
  type: 'AND' | 'OR';
  values: (PropertyGroup | PropertyFilter)[];
  [k: string]: unknown;
}

export const PropertyGroupSchema: z.ZodType<PropertyGroup> = z.lazy(() =>
  z.looseObject({
    type: z.enum(['AND', 'OR']),
    values: z.array(z.union([PropertyGroupSchema, PropertyFilterSchema])),
  }),
) as unknown as z.ZodType<PropertyGroup>;

/** Global `properties`: a list (AND) or a group. */
export const PropertiesSchema = z.union([z.array(z.union([PropertyFilterSchema, PropertyGroupSchema])), PropertyGroupSchema]).nullish();

export const DateRangeSchema = z.looseObject({
  date_from: z.string().nullish(),
  date_to: z.string().nullish(),
  explicitDate: z.boolean().nullish(),
});
/** A query's dateRange as the engines read it. */
export type DateRangeInput = z.infer<typeof DateRangeSchema>;

/** The dateRange the reports build (from --from/--to or a definition's default). */
export interface DateRange {
  date_from: string | null;
  date_to: string | null;
  explicitDate?: boolean;
}

export const IntervalSchema = z.enum(['minute', 'hour', 'day', 'week', 'month']);

export const EventsNodeSchema = z.looseObject({
  kind: z.literal('EventsNode'),
  event: z.string().nullish(),
  name: z.string().nullish(),
  custom_name: z.string().nullish(),
  math: z.string().nullish(),
  math_property: z.string().nullish(),
  properties: PropertiesSchema,
  optionalInFunnel: z.boolean().nullish(),
});
export type EventsNode = z.infer<typeof EventsNodeSchema>;

export const ActionsNodeSchema = z.looseObject({
  kind: z.literal('ActionsNode'),
  id: z.number(),
  name: z.string().nullish(),
  custom_name: z.string().nullish(),
  math: z.string().nullish(),
  properties: PropertiesSchema,
});

export const SeriesNodeSchema = z.discriminatedUnion('kind', [EventsNodeSchema, ActionsNodeSchema]);
export type SeriesNode = z.infer<typeof SeriesNodeSchema>;

export const BreakdownTypeSchema = z.enum(['event', 'person', 'event_metadata', 'cohort', 'group', 'session', 'hogql', 'data_warehouse', 'data_warehouse_person_property']);

export const BreakdownSchema = z.looseObject({
  property: z.union([z.string(), z.number()]),
  type: BreakdownTypeSchema.nullish(),
  normalize_url: z.boolean().nullish(),
  group_type_index: z.number().nullish(),
  histogram_bin_count: z.number().nullish(),
});

export const BreakdownFilterSchema = z.looseObject({
  breakdown_type: BreakdownTypeSchema.nullish(),
  breakdown: z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]).nullish(),
  breakdowns: z.array(BreakdownSchema).nullish(),
  breakdown_limit: z.number().int().nullish(),
  breakdown_normalize_url: z.boolean().nullish(),
  breakdown_group_type_index: z.number().nullish(),
  breakdown_hide_other_aggregation: z.boolean().nullish(),
  breakdown_histogram_bin_count: z.number().nullish(),
});
export type BreakdownFilter = z.infer<typeof BreakdownFilterSchema>;

export const FunnelExclusionSchema = z.looseObject({
  kind: z.literal('EventsNode'),
  event: z.string().nullish(),
  name: z.string().nullish(),
  properties: PropertiesSchema,
  funnelFromStep: z.number().int(),
  funnelToStep: z.number().int(),
});
export type FunnelExclusion = z.infer<typeof FunnelExclusionSchema>;

export const FunnelsFilterSchema = z.looseObject({
  funnelWindowInterval: z.number().int().nullish(),
  funnelWindowIntervalUnit: z.enum(['second', 'minute', 'hour', 'day', 'week', 'month']).nullish(),
  funnelOrderType: z.enum(['ordered', 'strict', 'unordered']).nullish(),
  funnelVizType: z.enum(['steps', 'time_to_convert', 'trends']).nullish(),
  breakdownAttributionType: z.enum(['first_touch', 'last_touch', 'all_events', 'step']).nullish(),
  breakdownAttributionValue: z.number().int().nullish(),
  exclusions: z.array(FunnelExclusionSchema).nullish(),
  funnelStepReference: z.enum(['total', 'previous']).nullish(),
  binCount: z.number().int().nullish(),
  funnelFromStep: z.number().int().nullish(),
  funnelToStep: z.number().int().nullish(),
  funnelAggregateByHogQL: z.string().nullish(),
  layout: z.string().nullish(),
  hiddenLegendBreakdowns: z.array(z.string()).nullish(),
  useUdf: z.boolean().nullish(),
});
export type FunnelsFilter = z.infer<typeof FunnelsFilterSchema>;

export const CompareFilterSchema = z.looseObject({
  compare: z.boolean().nullish(),
  compare_to: z.string().nullish(),
});

/** Fields every insight query shares (PostHog's InsightsQueryBase). */
const INSIGHT_QUERY_FIELDS = {
  series: z.array(SeriesNodeSchema),
  dateRange: DateRangeSchema.nullish(),
  interval: IntervalSchema.nullish(),
  properties: PropertiesSchema,
  filterTestAccounts: z.boolean().nullish(),
  aggregation_group_type_index: z.number().int().nullish(),
  samplingFactor: z.number().nullish(),
  breakdownFilter: BreakdownFilterSchema.nullish(),
};

export const FunnelsQuerySchema = z.looseObject({
  kind: z.literal('FunnelsQuery'),
  ...INSIGHT_QUERY_FIELDS,
  funnelsFilter: FunnelsFilterSchema.nullish(),
  compareFilter: CompareFilterSchema.nullish(),
});
export type FunnelsQuery = z.infer<typeof FunnelsQuerySchema>;

export const FunnelsActorsQuerySchema = z.looseObject({
  kind: z.literal('FunnelsActorsQuery'),
  source: FunnelsQuerySchema,
  funnelStep: z.number().int().nullish(),
  funnelStepBreakdown: z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]).nullish(),
  funnelTrendsDropOff: z.boolean().nullish(),
  funnelTrendsEntrancePeriodStart: z.string().nullish(),
  includeRecordings: z.boolean().nullish(),
});
export type FunnelsActorsQuery = z.infer<typeof FunnelsActorsQuerySchema>;

export const ActorsQuerySchema = z.looseObject({
  kind: z.literal('ActorsQuery'),
  source: z.looseObject({ kind: z.string() }).nullish(),
  select: z.array(z.string()).nullish(),
  limit: z.number().int().nullish(),
  offset: z.number().int().nullish(),
  orderBy: z.array(z.string()).nullish(),
  search: z.string().nullish(),
  properties: PropertiesSchema,
});
export type ActorsQuery = z.infer<typeof ActorsQuerySchema>;

export const TrendsFilterSchema = z.looseObject({
  display: z.string().nullish(),
  formula: z.string().nullish(),
  showLegend: z.boolean().nullish(),
  aggregationAxisFormat: z.string().nullish(),
});

export const TrendsQuerySchema = z.looseObject({
  kind: z.literal('TrendsQuery'),
  ...INSIGHT_QUERY_FIELDS,
  trendsFilter: TrendsFilterSchema.nullish(),
  compareFilter: CompareFilterSchema.nullish(),
});
export type TrendsQuery = z.infer<typeof TrendsQuerySchema>;

/** LifecycleQuery (PostHog schema.json): new / returning / resurrecting / dormant actors per interval. */
export const LifecycleFilterSchema = z.looseObject({
  showValuesOnSeries: z.boolean().nullish(),
  showLegend: z.boolean().nullish(),
  stacked: z.boolean().nullish(),
  toggledLifecycles: z.array(z.enum(['new', 'returning', 'resurrecting', 'dormant'])).nullish(),
});

/** Fields LifecycleQuery and StickinessQuery share (series over an interval axis, no breakdown). */
const SERIES_INSIGHT_FIELDS = {
  series: z.array(SeriesNodeSchema),
  dateRange: DateRangeSchema.nullish(),
  interval: IntervalSchema.nullish(),
  properties: PropertiesSchema,
  filterTestAccounts: z.boolean().nullish(),
  samplingFactor: z.number().nullish(),
};

export const LifecycleQuerySchema = z.looseObject({
  kind: z.literal('LifecycleQuery'),
  ...SERIES_INSIGHT_FIELDS,
  aggregation_group_type_index: z.number().int().nullish(),
  lifecycleFilter: LifecycleFilterSchema.nullish(),
});
export type LifecycleQuery = z.infer<typeof LifecycleQuerySchema>;

/** RetentionEntity: the start ("targetEntity") or return ("returningEntity") event of a retention query. */
export const RetentionEntitySchema = z.looseObject({
  id: z.union([z.string(), z.number()]).nullish(),
  type: z.enum(['events', 'actions', 'new_entity', 'data_warehouse']).nullish(),
  kind: z.enum(['EventsNode', 'ActionsNode', 'DataWarehouseNode']).nullish(),
  name: z.string().nullish(),
  custom_name: z.string().nullish(),
  order: z.number().nullish(),
  uuid: z.string().nullish(),
  properties: PropertiesSchema,
});
export type RetentionEntity = z.infer<typeof RetentionEntitySchema>;

export const RetentionFilterSchema = z.looseObject({
  period: z.enum(['Hour', 'Day', 'Week', 'Month']).nullish(),
  totalIntervals: z.number().int().min(1).nullish(),
  retentionType: z.enum(['retention_recurring', 'retention_first_time', 'retention_first_ever_occurrence']).nullish(),
  targetEntity: RetentionEntitySchema.nullish(),
  returningEntity: RetentionEntitySchema.nullish(),
  cumulative: z.boolean().nullish(),
  display: z.string().nullish(),
  meanRetentionCalculation: z.enum(['simple', 'weighted', 'none']).nullish(),
  retentionReference: z.enum(['total', 'previous']).nullish(),
  showTrendLines: z.boolean().nullish(),
  minimumOccurrences: z.number().int().nullish(),
  timeWindowMode: z.enum(['strict_calendar_dates', '24_hour_windows']).nullish(),
  retentionCustomBrackets: z.array(z.number()).nullish(),
  aggregationType: z.string().nullish(),
});
export type RetentionFilter = z.infer<typeof RetentionFilterSchema>;

export const RetentionQuerySchema = z.looseObject({
  kind: z.literal('RetentionQuery'),
  retentionFilter: RetentionFilterSchema,
  dateRange: DateRangeSchema.nullish(),
  properties: PropertiesSchema,
  filterTestAccounts: z.boolean().nullish(),
  aggregation_group_type_index: z.number().int().nullish(),
  samplingFactor: z.number().nullish(),
  breakdownFilter: BreakdownFilterSchema.nullish(),
});
export type RetentionQuery = z.infer<typeof RetentionQuerySchema>;

/** StickinessQuery: how many intervals of the range each actor was active in. */
export const StickinessFilterSchema = z.looseObject({
  display: z.string().nullish(),
  computedAs: z.enum(['non_cumulative', 'cumulative']).nullish(),
  stickinessCriteria: z.looseObject({ operator: z.enum(['gte', 'lte', 'exact']), value: z.number().int() }).nullish(),
  showLegend: z.boolean().nullish(),
  showValuesOnSeries: z.boolean().nullish(),
  hiddenLegendIndexes: z.array(z.number()).nullish(),
});

export const StickinessQuerySchema = z.looseObject({
  kind: z.literal('StickinessQuery'),
  ...SERIES_INSIGHT_FIELDS,
  intervalCount: z.number().int().min(1).nullish(),
  stickinessFilter: StickinessFilterSchema.nullish(),
  compareFilter: CompareFilterSchema.nullish(),
});
export type StickinessQuery = z.infer<typeof StickinessQuerySchema>;

export const HogQLQuerySchema = z.looseObject({
  kind: z.literal('HogQLQuery'),
  query: z.string(),
  values: z.record(z.string(), z.unknown()).nullish(),
});
export type HogQLQuery = z.infer<typeof HogQLQuerySchema>;

/** Kinds with a schema here (validated in full). */
export const QUERY_SCHEMAS = {
  FunnelsQuery: FunnelsQuerySchema,
  FunnelsActorsQuery: FunnelsActorsQuerySchema,
  ActorsQuery: ActorsQuerySchema,
  TrendsQuery: TrendsQuerySchema,
  HogQLQuery: HogQLQuerySchema,
  LifecycleQuery: LifecycleQuerySchema,
  RetentionQuery: RetentionQuerySchema,
  StickinessQuery: StickinessQuerySchema,
} as const;

/** Other PostHog query kinds accepted as-is (forwarded to PostHog; the local engine rejects them). */
export const PASSTHROUGH_KINDS = [
  'RetentionQuery',
  'PathsQuery',
  'StickinessQuery',
  'LifecycleQuery',
  'EventsQuery',
  'InsightActorsQuery',
  'InsightVizNode',
  'DataTableNode',
  'WebOverviewQuery',
  'WebStatsTableQuery',
  'SessionsTimelineQuery',
  'CalendarHeatmapQuery',
] as const;

export type KnownKind = keyof typeof QUERY_SCHEMAS;
