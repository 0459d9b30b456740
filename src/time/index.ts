/**
 * Time: PostHog's date parser, date ranges, interval buckets and labels, on date-fns and
 * @date-fns/tz. Imports only errors.ts and query types; serves the CLI, engines and reports.
 */
export * from './wallclock.js';
export * from './parse.js';
export * from './buckets.js';
export * from './range.js';
export * from './labels.js';
export * from './report-range.js';
