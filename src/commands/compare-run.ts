/** The `compare` action: parse → run → render. */
import type { Command } from 'commander';
import { globalsOf, type GlobalOptions } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { tracksFor, funnelOptionsFrom } from './discover-options.js';
import { checkRelativeOrder, dateRangeFromOptions, parseDateOption, type DateRange } from '../cli/range-options.js';
import { buildTrackFunnelQuery } from '../definitions/discover.js';
import { compareTracks, formatPValue, type StepComparison, type TrackComparison } from '../discover/compare.js';
import { buildVersionDaysQuery, parseReleaseVersion, splitOnRelease, type ReleaseSplit } from '../discover/release.js';
import { emit, info, printQueries } from '../output/emit.js';
import { formatDuration, formatPercent } from '../output/duration.js';
import type { TableSpec } from '../output/table.js';
import { UsageError } from '../errors.js';
import type { QueryContext } from '../engines/types.js';

/** "FROM..TO" with both ends inclusive; each end is a --from/--to style date. */
export function parseSpan(option: string, value: string, now: Date): DateRange {
  const parts = value.split('..');
  if (parts.length !== 2 || !parts[0]!.trim() || !parts[1]!.trim()) {
    throw new UsageError(`${option}: '${value}' is not a range`, 'Write FROM..TO, for example 2026-10-01..2026-10-31 or -60d..-31d.');
  }
  const date_from = parseDateOption(option, parts[0]!);
  const date_to = parseDateOption(option, parts[1]!);
  try {
    const r = dateRangeFromOptions(date_from, date_to, date_from);
    checkRelativeOrder(r, now);
    return r;
  } catch {
    throw new UsageError(`${option}: ${date_from} is after ${date_to}`);
  }
}

interface Ranges {
  before: DateRange;
  after: DateRange;
  release?: ReleaseSplit;
}

function describe(r: DateRange): string {
  return `${r.date_from ?? ''} → ${r.date_to ?? 'today'}`;
}

export async function compareCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string | boolean | undefined>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const tracks = tracksFor(String(o.resource));
  const shape = funnelOptionsFrom({ ...o, from: undefined, to: undefined }, q.ctx);
  const release = o.release as string | undefined;
  if (release && (o.before || o.after)) throw new UsageError('--release: give either --release or --before/--after, not both');
  if (!release && (!o.before || !o.after)) {
    throw new UsageError(
      `compare: ${o.before ? '--after' : o.after ? '--before' : '--before and --after'} missing`,
      'Give --before FROM..TO and --after FROM..TO, or --release VERSION.',
    );
  }
  const releaseRange = dateRangeFromOptions(o.from as string | undefined, o.to as string | undefined, '-60d');
  if (release) {
    parseReleaseVersion(release);
    checkRelativeOrder(releaseRange, q.ctx.now);
  }
  const fixed: Ranges | undefined = release
    ? undefined
    : { before: parseSpan('--before', String(o.before), q.ctx.now), after: parseSpan('--after', String(o.after), q.ctx.now) };
  if (q.printQuery) {
    const queries: unknown[] = release ? [buildVersionDaysQuery(releaseRange)] : [];
    if (fixed) for (const side of [fixed.before, fixed.after]) queries.push(...tracks.map((t) => buildTrackFunnelQuery(t, { ...shape, dateRange: side })));
    printQueries(queries);
    info(g, release ? 'Then each track\'s funnel on both sides of the release day.' : 'Also sent per resource and period: the completion funnel and its time-to-convert histogram.');
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const ranges: Ranges = fixed ?? (await releaseRanges(engine, release!, releaseRange, q.ctx));
    const { tracks: rows } = await compareTracks(engine, tracks, shape, ranges, q.ctx);
    const regressed = rows.filter((r) => r.verdict === 'regressed');
    const meta = {
      engine: q.engine,
      before: ranges.before,
      after: ranges.after,
      ...(ranges.release ? { release: ranges.release } : {}),
      window: shape.window,
      order: shape.order,
      deployment: shape.deployment,
      aggregation: 'wizard session',
      alpha: 0.05,
    };
    render(g, rows, ranges, meta, tracks.length === 1);
    if (o.failOnRegression && regressed.length > 0) process.exitCode = 1;
  } finally {
    await engine.close();
  }
}

async function releaseRanges(engine: Awaited<ReturnType<typeof openEngine>>, version: string, range: DateRange, ctx: QueryContext): Promise<Ranges> {
  const split = await splitOnRelease(engine, version, range, ctx);
  return { before: split.before, after: split.after, release: split };
}

const points = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}`);
const ciText = (ci: [number, number] | null) => (ci ? `${points(ci[0])} … ${points(ci[1])}` : '–');
const medianText = (m: number | null, ci: [number, number] | null) => (m === null ? '–' : `${formatDuration(m)}${ci ? ` (${formatDuration(ci[0])}–${formatDuration(ci[1])})` : ''}`);

function trackTable(rows: TrackComparison[], ranges: Ranges): TableSpec<TrackComparison> {
  const notes = [
    `Before ${describe(ranges.before)} · after ${describe(ranges.after)}` +
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

function render(g: GlobalOptions, rows: TrackComparison[], ranges: Ranges, meta: Record<string, unknown>, single: boolean): void {
  const detailed = single ? rows : rows.filter((r) => r.verdict !== 'no detectable change' || r.steps.some((s) => s.significant));
  emit(g, {
    json: { ...meta, tracks: rows },
    table: trackTable(rows, ranges),
    more: detailed.map(stepTable),
  });
}
