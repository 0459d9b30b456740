/**
 * `correlation --resource X`: which events and property values go with completing or failing a
 * track's wizard (PostHog's funnel correlation, per wizard session).
 */
import { trackSteps, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { buildCorrelationActorsQuery, correlation, MAX_ACTORS, type EventCorrelation, type PropertyCorrelation } from '../discover/correlation.js';
import { formatPValue } from '../discover/compare.js';
import type { CommandResult } from '../output/report.js';
import type { Column } from '../output/table.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface CorrelationOptions {
  track: Track;
  funnel: TrackFunnelOptions;
  query: QueryOptions;
}

/** "9.0× likelier to complete" / "to fail": the odds ratio read in the direction it points. */
export function likelier(r: { oddsRatio: number; correlation: 'success' | 'failure' }): string {
  const x = r.correlation === 'success' ? r.oddsRatio : 1 / r.oddsRatio;
  return `${x.toFixed(1)}× likelier to ${r.correlation === 'success' ? 'complete' : 'fail'}`;
}

function shared<R extends EventCorrelation | PropertyCorrelation>(): Column<R>[] {
  return [
    { key: 'oddsRatio', header: 'Odds ratio', align: 'right', text: (r) => r.oddsRatio.toFixed(2) },
    { key: 'reading', header: 'Sessions with it are', value: (r) => likelier(r), text: (r) => likelier(r) },
    { key: 'successCount', header: 'Completed', align: 'right' },
    { key: 'failureCount', header: 'Failed', align: 'right' },
    { key: 'pValue', header: 'p', align: 'right', text: (r) => formatPValue(r.pValue) },
    { key: 'significant', header: 'Significant', text: (r) => (r.significant ? 'yes' : 'no') },
  ];
}

export async function correlationCommand(o: CorrelationOptions, c: CommandContext): Promise<CommandResult> {
  const { track, funnel: opts } = o;
  if (o.query.printQuery) {
    return {
      queries: [buildCorrelationActorsQuery(track, opts, 1), buildCorrelationActorsQuery(track, opts, trackSteps(track, opts.deployment).length)],
      note: 'Then, for those sessions, TrendsQuery breakdowns of their event names and property values.',
    };
  }
  const { result: r, range } = await withEngineRange(o.query, c, opts.dateRange, (engine, dateRange) => correlation(engine, track, { ...opts, dateRange }, o.query.ctx));
  if (r.truncated) c.out.warn(`more than ${MAX_ACTORS} sessions: the first ${MAX_ACTORS} are used (narrow the range)`);
  if (r.skewed && r.sessions > 0) c.out.warn(r.successTotal && r.failureTotal ? 'one outcome outnumbers the other more than 10 to 1: read the ratios with care' : 'every session had the same outcome: nothing to correlate');
  const notes = [
    `${r.sessions} sessions: ${r.successTotal} completed, ${r.failureTotal} did not · engine ${o.query.engine}`,
    'Odds ratios as PostHog computes them (a prior of 1 in every cell; values seen by fewer than min(25, 2% of sessions) left out; ten strongest each way). p: two-proportion test of completion with vs without.',
  ];
  return {
    range,
    json: { engine: o.query.engine, dateRange: opts.dateRange, slug: r.slug, sessions: r.sessions, successTotal: r.successTotal, failureTotal: r.failureTotal, skewed: r.skewed, truncated: r.truncated, events: r.events, properties: r.properties },
    tables: [
      {
        title: `${r.title} — property values that go with completing or failing (${r.slug})`,
        columns: [{ key: 'property', header: 'Property' }, { key: 'value', header: 'Value' }, ...shared<PropertyCorrelation>()],
        rows: r.properties,
        notes: [`Properties looked at: ${r.propertyKeys.join(', ')}.`, ...notes],
      },
      { title: `${r.title} — events that go with completing or failing (funnel steps left out)`, columns: [{ key: 'event', header: 'Event' }, ...shared<EventCorrelation>()], rows: r.events },
    ],
  };
}
