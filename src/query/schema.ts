/**
 * zod schemas for the PostHog query objects discover-metrics reads and runs, aligned with the
 * published PostHog/posthog frontend/src/queries/schema.json (operators, intervals, the keys each
 * node allows). Defaults are NOT applied here; the engines apply PostHog's defaults, so a parsed
 * query round-trips byte for byte.
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
  'semver_eq',
  'semver_neq',
  'semver_gt',
  'semver_gte',
  'semver_lt',
  'semver_lte',
  'semver_tilde',
  'semver_caret',
  'semver_wildcard',
  'icontains_multi',
  'not_icontains_multi',
] as const;

export interface PropertyGroup {
  type: 'AND' | 'OR';
  values: (PropertyGroup | PropertyFilter)[];
  [k: string]: unknown;
}

/** PostHog's IntervalType. */
export const IntervalSchema = z.enum(['second', 'minute', 'hour', 'day', 'week', 'month']);

/**
 * The query nodes, built in two modes from one definition:
 *  - `loose` (what `parseQuery` uses): unknown keys are kept, so a user's query file with keys we
 *    do not model is forwarded to PostHog unchanged;
 *  - `strict` (`POSTHOG_QUERY_SCHEMAS`): an unknown key is an error, as in PostHog's own pydantic
 *    models (extra="forbid"). Every key PostHog's frontend/src/queries/schema.json lists for these
 *    nodes is accepted (those we do not interpret as `unknown`), so a query PostHog accepts passes.
 *    Tests validate every query the CLI sends against it, and the sandbox refuses what fails it.
 */
function buildSchemas(mode: 'strict' | 'loose') {
  const obj = <T extends z.core.$ZodLooseShape>(shape: T) => (mode === 'strict' ? z.strictObject(shape) : z.looseObject(shape));
  const any = z.unknown().optional();

  const PropertyFilterSchema = obj({
    key: z.union([z.string(), z.number()]),
    type: z.string().optional(),
    operator: z.enum(PROPERTY_OPERATORS).nullish(),
    value: z.unknown().optional(),
    label: z.string().nullish(),
    group_type_index: z.number().int().nullish(),
    cohort_name: z.string().nullish(),
  });

  const PropertyGroupSchema: z.ZodType<PropertyGroup> = z.lazy(() =>
    obj({
      type: z.enum(['AND', 'OR']),
      values: z.array(z.union([PropertyGroupSchema, PropertyFilterSchema])),
    }),
  ) as unknown as z.ZodType<PropertyGroup>;

  /** Global `properties`: a list (AND) or a group. */
  const PropertiesSchema = z.union([z.array(z.union([PropertyFilterSchema, PropertyGroupSchema])), PropertyGroupSchema]).nullish();

  const DateRangeSchema = obj({
    date_from: z.string().nullish(),
    date_to: z.string().nullish(),
    explicitDate: z.boolean().nullish(),
  });

  /** Keys every series node may carry (PostHog's EntityNode). */
  const MATH_FIELDS = {
    name: z.string().nullish(),
    custom_name: z.string().nullish(),
    math: z.string().nullish(),
    math_property: z.string().nullish(),
    math_group_type_index: any,
    math_hogql: any,
    math_multiplier: any,
    math_property_revenue_currency: any,
    math_property_type: any,
    properties: PropertiesSchema,
    fixedProperties: any,
    optionalInFunnel: z.boolean().nullish(),
    response: any,
    version: any,
  };

  const EventsNodeSchema = obj({
    kind: z.literal('EventsNode'),
    event: z.string().nullish(),
    limit: any,
    orderBy: any,
    ...MATH_FIELDS,
  });

  const ActionsNodeSchema = obj({
    kind: z.literal('ActionsNode'),
    id: z.number(),
    ...MATH_FIELDS,
  });

  const SeriesNodeSchema = z.discriminatedUnion('kind', [EventsNodeSchema, ActionsNodeSchema]);

  const BreakdownSchema = obj({
    property: z.union([z.string(), z.number()]),
    type: BreakdownTypeSchema.nullish(),
    normalize_url: z.boolean().nullish(),
    group_type_index: z.number().nullish(),
    histogram_bin_count: z.number().nullish(),
  });

  const BreakdownFilterSchema = obj({
    breakdown_type: BreakdownTypeSchema.nullish(),
    breakdown: z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]).nullish(),
    // PostHog allows at most 3 (schema.json maxItems)
    breakdowns: z.array(BreakdownSchema).max(3).nullish(),
    breakdown_limit: z.number().int().nullish(),
    breakdown_normalize_url: z.boolean().nullish(),
    breakdown_group_type_index: z.number().nullish(),
    breakdown_hide_other_aggregation: z.boolean().nullish(),
    breakdown_histogram_bin_count: z.number().nullish(),
    breakdown_path_cleaning: z.boolean().nullish(),
  });

  const FunnelExclusionSchema = obj({
    kind: z.literal('EventsNode'),
    event: z.string().nullish(),
    limit: any,
    orderBy: any,
    ...MATH_FIELDS,
    funnelFromStep: z.number().int(),
    funnelToStep: z.number().int(),
  });

  const FunnelsFilterSchema = obj({
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
    resultCustomizations: any,
    showValuesOnSeries: z.boolean().nullish(),
    breakdownSorting: any,
    goalLines: any,
  });

  const CompareFilterSchema = obj({
    compare: z.boolean().nullish(),
    compare_to: z.string().nullish(),
  });

  /** Keys PostHog lets every query node carry (execution, versioning): accepted, not read. */
  const EXECUTION_FIELDS = { modifiers: any, response: any, tags: any, version: any };
  /** … and every insight node (its colours too). */
  const NODE_FIELDS = { dataColorTheme: any, ...EXECUTION_FIELDS };

  /** Fields every insight query shares (PostHog's InsightsQueryBase). */
  const INSIGHT_BASE_FIELDS = {
    dateRange: DateRangeSchema.nullish(),
    properties: PropertiesSchema,
    filterTestAccounts: z.boolean().nullish(),
    aggregation_group_type_index: z.number().int().nullish(),
    samplingFactor: z.number().nullish(),
    ...NODE_FIELDS,
  };

  /** Insights over series on an interval axis (trends, funnels, lifecycle, stickiness). */
  const SERIES_INSIGHT_FIELDS = { series: z.array(SeriesNodeSchema), interval: IntervalSchema.nullish(), ...INSIGHT_BASE_FIELDS };

  /** … and those that break down (trends, funnels). */
  const INSIGHT_QUERY_FIELDS = { ...SERIES_INSIGHT_FIELDS, breakdownFilter: BreakdownFilterSchema.nullish() };

  // no compareFilter: PostHog's FunnelsQuery has none (schema.json, additionalProperties false)
  const FunnelsQuerySchema = obj({
    kind: z.literal('FunnelsQuery'),
    ...INSIGHT_QUERY_FIELDS,
    funnelsFilter: FunnelsFilterSchema.nullish(),
  });

  const FunnelsActorsQuerySchema = obj({
    kind: z.literal('FunnelsActorsQuery'),
    source: FunnelsQuerySchema,
    funnelStep: z.number().int().nullish(),
    funnelStepBreakdown: z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]).nullish(),
    funnelTrendsDropOff: z.boolean().nullish(),
    funnelTrendsEntrancePeriodStart: z.string().nullish(),
    includeRecordings: z.boolean().nullish(),
    funnelCustomSteps: any,
    ...EXECUTION_FIELDS,
  });

  const ActorsQuerySchema = obj({
    kind: z.literal('ActorsQuery'),
    source: z.looseObject({ kind: z.string() }).nullish(),
    select: z.array(z.string()).nullish(),
    limit: z.number().int().nullish(),
    offset: z.number().int().nullish(),
    orderBy: z.array(z.string()).nullish(),
    search: z.string().nullish(),
    properties: PropertiesSchema,
    fixedProperties: any,
    ...EXECUTION_FIELDS,
  });

  const TrendsFilterSchema = obj({
    display: z.string().nullish(),
    formula: z.string().nullish(),
    showLegend: z.boolean().nullish(),
    aggregationAxisFormat: z.string().nullish(),
    ...Object.fromEntries(TRENDS_FILTER_DISPLAY_KEYS.map((k) => [k, any])),
  });

  const TrendsQuerySchema = obj({
    kind: z.literal('TrendsQuery'),
    ...INSIGHT_QUERY_FIELDS,
    trendsFilter: TrendsFilterSchema.nullish(),
    compareFilter: CompareFilterSchema.nullish(),
    conversionGoal: any,
    intervalCount: z.number().int().nullish(),
  });

  const HogQLQuerySchema = obj({
    kind: z.literal('HogQLQuery'),
    query: z.string(),
    values: z.record(z.string(), z.unknown()).nullish(),
    filters: any,
    modifiers: any,
    name: any,
    explain: any,
    variables: any,
    connectionId: any,
    sendRawQuery: any,
    response: any,
    tags: any,
    version: any,
  });

  const LifecycleFilterSchema = obj({
    showValuesOnSeries: z.boolean().nullish(),
    showLegend: z.boolean().nullish(),
    stacked: z.boolean().nullish(),
    toggledLifecycles: z.array(z.enum(['new', 'returning', 'resurrecting', 'dormant'])).nullish(),
  });

  /** LifecycleQuery: new / returning / resurrecting / dormant actors per interval. */
  const LifecycleQuerySchema = obj({
    kind: z.literal('LifecycleQuery'),
    ...SERIES_INSIGHT_FIELDS,
    lifecycleFilter: LifecycleFilterSchema.nullish(),
  });

  /** RetentionEntity: the start ("targetEntity") or return ("returningEntity") event of a retention query. */
  const RetentionEntitySchema = obj({
    id: z.union([z.string(), z.number()]).nullish(),
    type: z.enum(['events', 'actions', 'new_entity', 'data_warehouse']).nullish(),
    kind: z.enum(['EventsNode', 'ActionsNode', 'DataWarehouseNode']).nullish(),
    name: z.string().nullish(),
    custom_name: z.string().nullish(),
    order: z.number().nullish(),
    uuid: z.string().nullish(),
    properties: PropertiesSchema,
  });

  // display options PostHog adds over time are accepted (a looser object even in strict mode):
  // refusing one the CLI does not read would refuse a query PostHog runs
  const RetentionFilterSchema = z.looseObject({
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

  const RetentionQuerySchema = obj({
    kind: z.literal('RetentionQuery'),
    retentionFilter: RetentionFilterSchema,
    breakdownFilter: BreakdownFilterSchema.nullish(),
    ...INSIGHT_BASE_FIELDS,
  });

  const StickinessFilterSchema = z.looseObject({
    display: z.string().nullish(),
    computedAs: z.enum(['non_cumulative', 'cumulative']).nullish(),
    stickinessCriteria: z.looseObject({ operator: z.enum(['gte', 'lte', 'exact']), value: z.number().int() }).nullish(),
    showLegend: z.boolean().nullish(),
    showValuesOnSeries: z.boolean().nullish(),
    hiddenLegendIndexes: z.array(z.number()).nullish(),
  });

  /** StickinessQuery: how many intervals of the range each actor was active in. */
  const StickinessQuerySchema = obj({
    kind: z.literal('StickinessQuery'),
    ...SERIES_INSIGHT_FIELDS,
    intervalCount: z.number().int().min(1).nullish(),
    stickinessFilter: StickinessFilterSchema.nullish(),
    compareFilter: CompareFilterSchema.nullish(),
  });

  return {
    PropertyFilterSchema,
    FunnelsQuerySchema,
    FunnelsActorsQuerySchema,
    ActorsQuerySchema,
    TrendsQuerySchema,
    HogQLQuerySchema,
    LifecycleQuerySchema,
    RetentionQuerySchema,
    StickinessQuerySchema,
    RetentionEntitySchema,
  };

}

/** TrendsFilter keys that only change how PostHog draws the chart (accepted, not interpreted). */
const TRENDS_FILTER_DISPLAY_KEYS = [
  'aggregationAxisPostfix',
  'aggregationAxisPrefix',
  'breakdown_histogram_bin_count',
  'confidenceLevel',
  'decimalPlaces',
  'detailedResultsAggregationType',
  'formulaNodes',
  'formulas',
  'goalLines',
  'hiddenLegendIndexes',
  'minDecimalPlaces',
  'movingAverageIntervals',
  'resultCustomizationBy',
  'resultCustomizations',
  'showAlertThresholdLines',
  'showConfidenceIntervals',
  'showLabelsOnSeries',
  'showMovingAverage',
  'showMultipleYAxes',
  'showPercentStackView',
  'showTrendLines',
  'showValuesOnSeries',
  'smoothingIntervals',
  'yAxisScaleType',
] as const;

export const BreakdownTypeSchema = z.enum(['event', 'person', 'event_metadata', 'cohort', 'group', 'session', 'hogql', 'data_warehouse', 'data_warehouse_person_property']);

const loose = buildSchemas('loose');
export const {
  PropertyFilterSchema,
  FunnelsQuerySchema,
  FunnelsActorsQuerySchema,
  ActorsQuerySchema,
  TrendsQuerySchema,
  HogQLQuerySchema,
  LifecycleQuerySchema,
  RetentionQuerySchema,
  StickinessQuerySchema,
  RetentionEntitySchema,
} = loose;
export type PropertyFilter = z.infer<typeof PropertyFilterSchema>;
export type FunnelsQuery = z.infer<typeof FunnelsQuerySchema>;
/** A query's dateRange as the engines read it. */
export type DateRangeInput = NonNullable<FunnelsQuery['dateRange']>;

/** The dateRange the reports build (from --from/--to or a definition's default). */
export interface DateRange {
  date_from: string | null;
  date_to: string | null;
  explicitDate?: boolean;
}
export type SeriesNode = FunnelsQuery['series'][number];
export type EventsNode = Extract<SeriesNode, { kind: 'EventsNode' }>;
export type BreakdownFilter = NonNullable<FunnelsQuery['breakdownFilter']>;
export type FunnelsFilter = NonNullable<FunnelsQuery['funnelsFilter']>;
export type FunnelExclusion = NonNullable<FunnelsFilter['exclusions']>[number];
export type FunnelsActorsQuery = z.infer<typeof FunnelsActorsQuerySchema>;
export type ActorsQuery = z.infer<typeof ActorsQuerySchema>;
export type TrendsQuery = z.infer<typeof TrendsQuerySchema>;
export type HogQLQuery = z.infer<typeof HogQLQuerySchema>;
export type LifecycleQuery = z.infer<typeof LifecycleQuerySchema>;
export type RetentionQuery = z.infer<typeof RetentionQuerySchema>;
export type RetentionFilter = RetentionQuery['retentionFilter'];
export type RetentionEntity = z.infer<typeof RetentionEntitySchema>;
export type StickinessQuery = z.infer<typeof StickinessQuerySchema>;

/** Kinds with a schema here (validated in full, unknown keys kept). */
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

const strict = buildSchemas('strict');
/** The same kinds as PostHog validates them: unknown keys are errors. */
export const POSTHOG_QUERY_SCHEMAS = {
  FunnelsQuery: strict.FunnelsQuerySchema,
  FunnelsActorsQuery: strict.FunnelsActorsQuerySchema,
  ActorsQuery: strict.ActorsQuerySchema,
  TrendsQuery: strict.TrendsQuerySchema,
  HogQLQuery: strict.HogQLQuerySchema,
  LifecycleQuery: strict.LifecycleQuerySchema,
  RetentionQuery: strict.RetentionQuerySchema,
  StickinessQuery: strict.StickinessQuerySchema,
} as const;

/** Other PostHog query kinds accepted as-is (forwarded to PostHog; the local engine rejects them). */
export const PASSTHROUGH_KINDS = [
  'PathsQuery',
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
