/**
 * `compare --before FROM..TO --after FROM..TO` (or `--release VERSION`): did a change help? Each
 * track's completion and steps before and after, with significance.
 */
import { buildTrackFunnelQuery, type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { compareTracks, formatPValue, type StepComparison, type TrackComparison } from '../discover/compare.js';
import { buildVersionDaysQuery, splitOnRelease, type ReleaseSplit } from '../discover/release.js';
import type { DateRange } from '../query/schema.js';
import type { CommandResult } from '../output/report.js';
import { formatDuration, formatPercent } from '../output/format.js';
import type { TableSpec } from '../output/table.js';
import { FindingError } from '../errors.js';
import { rangeJson } from '../output/range.js';
import { resolveReportRange, type RangeContext } from '../time/index.js';
import { failUnder, joinFailures } from './thresholds.js';
import { withEngine, type CommandContext, type QueryOptions } from './context.js';

export interface CompareOptions {
  tracks: Track[];
  /** The funnel's shape; each side brings its own dates. */
  shape: Omit<TrackFunnelOptions, 'dateRange' | 'breakdown' | 'steps'>;
  /** Two fixed periods, or a range split on the first day a release was seen. */
  split: { before: DateRange; after: DateRange } | { release: string; range: DateRange };
  /** Fail (exit 1) when a track regressed significantly. */
  failOnRegression: boolean;
  /** Fail (exit 1) when a track's completion after the change is below this rate. */
  failUnder?: number;
  query: QueryOptions;
}

interface Ranges {
  before: DateRange;
  after: DateRange;
  release?: ReleaseSplit;
}

const onRelease = (release: ReleaseSplit): Ranges => ({ before: release.before, after: release.after, release });

/** A side's dates as days (its input in brackets when relative). */
function describe(r: DateRange, ctx: RangeContext): string {
  const { range } = resolveReportRange(r, ctx);
  const days = `${range.firstDay} → ${range.lastDay}`;
  return days === `${range.from} → ${range.to}` ? days : `${days} (${range.from} → ${range.to})`;
}

export async function compareCommand(o: CompareOptions, c: CommandContext): Promise<CommandResult> {
  const { tracks, shape, split } = o;
  if (o.query.printQuery) {
    if ('release' in split) return { queries: [buildVersionDaysQuery(split.range)], note: "Then each track's funnel on both sides of the release day." };
    return {
      queries: [split.before, split.after].flatMap((side) => tracks.map((t) => buildTrackFunnelQuery(t, { ...shape, dateRange: side }))),
      note: 'Also sent per resource and period: the completion funnel and its time-to-convert histogram.',
    };
  }
  const { ranges, rows } = await withEngine(o.query, c, async (engine) => {
    const ranges: Ranges = 'release' in split ? onRelease(await splitOnRelease(engine, split.release, split.range, o.query.ctx)) : split;
    const { tracks: rows } = await compareTracks(engine, tracks, shape, ranges, o.query.ctx);
    return { ranges, rows };
  });
  const regressed = rows.filter((r) => r.verdict === 'regressed');
  const meta = {
    engine: o.query.engine,
    before: rangeJson(resolveReportRange(ranges.before, o.query.ctx).range),
    after: rangeJson(resolveReportRange(ranges.after, o.query.ctx).range),
    ...(ranges.release ? { release: ranges.release } : {}),
    window: shape.window,
    order: shape.order,
    deployment: shape.deployment,
    aggregation: 'wizard session',
    alpha: 0.05,
  };
  const detailed = tracks.length === 1 ? rows : rows.filter((r) => r.verdict !== 'no detectable change' || r.steps.some((s) => s.significant));
  return {
    json: { ...meta, tracks: rows },
    tables: [trackTable(rows, ranges, o.query.ctx), ...detailed.map(stepTable)],
    failure: joinFailures([
      o.failOnRegression && regressed.length > 0
        ? new FindingError(`compare: ${regressed.length === 1 ? 'a track' : `${regressed.length} tracks`} regressed significantly (${regressed.map((r) => r.slug).join(', ')})`)
        : undefined,
      failUnder('compare', 'completion after', rows.map((r) => ({ name: r.slug, rate: r.after.sessions > 0 ? r.after.rate : null, detail: `${r.after.completed} of ${r.after.sessions} sessions` })), o.failUnder),
    ]),
  };
}

const points = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`);
const ciText = (ci: [number, number] | null) => (ci ? `${points(ci[0])} … ${points(ci[1])}` : '–');
const medianText = (m: number | null, ci: [number, number] | null) => (m === null ? '–' : `${formatDuration(m)}${ci ? ` (${formatDuration(ci[0])}–${formatDuration(ci[1])})` : ''}`);

function trackTable(rows: TrackComparison[], ranges: Ranges, ctx: RangeContext): TableSpec<TrackComparison> {
  const notes = [
    `Before ${describe(ranges.before, ctx)} · after ${describe(ranges.after, ctx)}, ${ctx.timezone}` +
      (ranges.release ? ` · split on ${ranges.release.day}, the first day ${ranges.release.firstSeenVersion} (≥ ${ranges.release.version}) was seen` : ''),
    'Change in percentage points with its 95% CI (Newcombe); p from a two-proportion z-test, or Fisher\'s exact test when an expected count is under 5. Medians with 95% rank-based intervals.',
  ];
  return {
    title: 'Did it help? Discover completion before vs after',
    columns: [
      { key: 'slug', header: 'Resource' },
      { key: 'beforeRate', header: 'Before', align: 'right', value: (r) => r.before.rate, text: (r) => `${formatPercent(r.before.rate)} of ${r.before.sessions}` },
      { key: 'afterRate', header: 'After', align: 'right', value: (r) => r.after.rate, text: (r) => `${formatPercent(r.after.rate)} of ${r.after.sessions}` },
      { key: 'difference', header: 'Change (pts)', align: 'right', text: (r) => points(r.difference) },
      { key: 'ci', header: '95% CI', align: 'right', value: (r) => (r.ci ? r.ci.join(' ') : ''), text: (r) => ciText(r.ci) },
      { key: 'pValue', header: 'p', align: 'right', text: (r) => formatPValue(r.pValue) },
      { key: 'medianBefore', header: 'Median before', align: 'right', value: (r) => r.before.medianSeconds, text: (r) => medianText(r.before.medianSeconds, r.before.medianCi) },
      { key: 'medianAfter', header: 'Median after', align: 'right', value: (r) => r.after.medianSeconds, text: (r) => medianText(r.after.medianSeconds, r.after.medianCi) },
      { key: 'verdict', header: 'Verdict' },
      { key: 'summary', header: 'Summary', dataOnly: true },
    ],
    rows,
    notes,
  };
}

function stepTable(r: TrackComparison): TableSpec<StepComparison> {
  return {
    title: `${r.title} (${r.slug}) — per step, conversion from the previous step`,
    columns: [
      { key: 'step', header: '#', align: 'right' },
      { key: 'name', header: 'Step' },
      { key: 'before', header: 'Before', align: 'right', value: (s) => s.before.rate, text: (s) => `${formatPercent(s.before.rate)} (${s.before.reached}/${s.before.entered})` },
      { key: 'after', header: 'After', align: 'right', value: (s) => s.after.rate, text: (s) => `${formatPercent(s.after.rate)} (${s.after.reached}/${s.after.entered})` },
      { key: 'difference', header: 'Change (pts)', align: 'right', text: (s) => points(s.difference) },
      { key: 'ci', header: '95% CI', align: 'right', value: (s) => (s.ci ? s.ci.join(' ') : ''), text: (s) => ciText(s.ci) },
      { key: 'pValue', header: 'p', align: 'right', text: (s) => formatPValue(s.pValue) },
      { key: 'verdict', header: 'Verdict' },
    ],
    rows: r.steps,
    notes: [r.summary],
  };
}
