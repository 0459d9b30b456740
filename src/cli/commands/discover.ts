/**
 * The Discover reports: funnel (and conversion per period), compare, time-to-first-resource,
 * steps, failures, dropoffs, correlation, and the digest of every report (report).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { Deployment, Track, TrackFunnelOptions } from '../../definitions/discover.js';
import { parseReleaseVersion } from '../../discover/release.js';
import { DEFAULT_REPORT_FROM, type PeriodInterval } from '../../time/index.js';
import { taxonomy } from '../../events/taxonomy.js';
import type { QueryOptions } from '../../commands/context.js';
import { action } from '../action.js';
import { deploymentOption, failUnderOption, funnelShapeOptions, numberOption, queryOptions, rangeOptions } from '../options.js';
import { queryOptionsOf, rangeOf } from '../query.js';
import { globalsOf } from '../globals.js';
import { parseSpan, parseWindow } from '../range-options.js';
import { withOptions } from './with-options.js';

type Raw = Record<string, any>;

/** Every report over a range defaults to the same last 30 days (src/time/report-range.ts). */
const DEFAULT_FROM = DEFAULT_REPORT_FROM;

// The track definitions (and zod, which validates them) load when a command runs, not for every
// start of the CLI: `--help`, `--version` and the other commands never need them.
const definitions = () => import('../../definitions/discover.js');

/** `--resource` value to tracks: a slug, or `all`. */
export async function tracksFor(resource: string): Promise<Track[]> {
  const { findTrack, loadTracks } = await definitions();
  if (resource === 'all') return loadTracks();
  return [findTrack(resource)];
}

export function parseSteps(v: string): string[] {
  const steps = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (steps.length < 2) throw new UsageError(`--steps: give at least two comma-separated steps (got '${v}')`);
  return steps;
}

/** The one track of a report that explains one funnel (`all` and `list` are not a track). */
async function oneTrack(resource: string, why: string): Promise<Track> {
  if (resource === 'all' || resource === 'list') throw new UsageError(`--resource: give one track (${why})`);
  return (await definitions()).findTrack(resource);
}

/** The funnel's shape without dates (compare and the digest bring their own). */
function shapeOf(o: Raw): Omit<TrackFunnelOptions, 'dateRange' | 'breakdown' | 'steps'> {
  return { window: parseWindow(String(o.window)), order: o.order, deployment: o.deployment as Deployment };
}

function funnelOptionsOf(o: Raw, q: QueryOptions): TrackFunnelOptions {
  return {
    dateRange: rangeOf(o, q, DEFAULT_FROM),
    window: parseWindow(String(o.window)),
    order: o.order,
    deployment: o.deployment as Deployment,
    breakdown: o.breakdown,
    steps: o.steps !== undefined ? parseSteps(String(o.steps)) : undefined,
  };
}

export function register(program: Command): void {
  const funnel = withOptions(
    program
      .command('funnel')
      .description('Discover wizard funnel per resource track: sessions per step, conversion, drop-off and time per step')
      .option('-r, --resource <slug>', "resource track slug, 'all' to rank every track, or 'list'", 'all')
      .option('--breakdown <prop>', 'split each funnel by an event property (person:KEY for a person property)')
      .option('--steps <keys>', 'override the steps: comma-separated taxonomy step keys or event names')
      .addOption(new Option('--interval <unit>', 'conversion per period (one --resource): sessions, completed and rate per day, week or month').choices(['day', 'week', 'month']))
      .addOption(failUnderOption("a track's completion (with --interval: a complete period's)")),
    [...rangeOptions(DEFAULT_FROM), ...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    funnel,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      if (o.resource === 'list') return { list: true as const };
      const tracks = await tracksFor(o.resource);
      const options = { tracks, funnel: funnelOptionsOf(o, query), query, failUnder: o.failUnder as number | undefined };
      if (o.interval === undefined) return options;
      if (tracks.length !== 1) throw new UsageError("--interval: give one --resource (conversion per period is one track's)", `For example: --resource ${tracks[0]?.slug ?? 'server'} --interval week.`);
      if (o.breakdown) throw new UsageError('--interval: cannot be combined with --breakdown');
      return { ...options, interval: o.interval as PeriodInterval };
    },
    async () => (await import('../../commands/funnel.js')).funnelCommand,
  );

  const compare = withOptions(
    program
      .command('compare')
      .description('Did a change help? Completion and every step before vs after, with a 95% CI, a p-value and a verdict')
      .option('-r, --resource <slug>', "resource track slug or 'all'", 'all')
      .option('--before <range>', 'the period before the change: FROM..TO (dates inclusive, or relative: -60d..-31d)')
      .option('--after <range>', 'the period after the change: FROM..TO')
      .option('--release <version>', 'split --from..--to on the first day tp.teleport_version reached VERSION (instead of --before/--after)')
      .option('--from <date>', 'with --release: start of the range to split', '-60d')
      .option('--to <date>', 'with --release: end of the range to split (default: end of today)')
      .option('--fail-on-regression', 'exit 1 when a track regressed significantly (for CI)')
      .addOption(failUnderOption("a track's completion after the change")),
    [...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    compare,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      const tracks = await tracksFor(o.resource);
      const shape = shapeOf(o);
      const release = o.release as string | undefined;
      if (release && (o.before || o.after)) throw new UsageError('--release: give either --release or --before/--after, not both');
      if (!release && (!o.before || !o.after)) {
        throw new UsageError(
          `compare: ${o.before ? '--after' : o.after ? '--before' : '--before and --after'} missing`,
          'Give --before FROM..TO and --after FROM..TO, or --release VERSION.',
        );
      }
      const split = release
        ? { release: parseReleaseVersion(release), range: rangeOf(o, query, '-60d') }
        : { before: parseSpan('--before', String(o.before), query.ctx.now), after: parseSpan('--after', String(o.after), query.ctx.now) };
      return { tracks, shape, split, failOnRegression: !!o.failOnRegression, failUnder: o.failUnder as number | undefined, query };
    },
    async () => (await import('../../commands/compare.js')).compareCommand,
  );

  const ttfr = withOptions(
    program
      .command('time-to-first-resource')
      .alias('ttfr')
      .description('Time from signup (or first seen) to the first resource added per account; --wizard: wizard start to completion per session')
      .option('--wizard', 'measure wizard start → completion per wizard session, by resource')
      .option('--signup-event <name>', "event that marks signup, for projects that send one (default: the taxonomy's discover.signupEvent; none: the account's first-seen event)", taxonomy().discover.signupEvent ?? undefined)
      .option('--first-seen', 'measure from the first event seen in the range instead of a signup event')
      .option('--window <span>', 'longest time counted as converting (default: 90d per account, 1d per wizard session)'),
    [numberOption('--bins <n>', 'histogram bins (PostHog: 1-90; default automatic)', { min: 1, max: 90 }), ...rangeOptions(DEFAULT_FROM), ...queryOptions()],
  );
  action(
    ttfr,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return {
        dateRange: rangeOf(o, query, DEFAULT_FROM),
        window: parseWindow(o.window !== undefined ? String(o.window) : o.wizard ? '1d' : '90d'),
        signupEvent: o.firstSeen ? null : ((o.signupEvent as string | undefined) ?? null),
        wizard: !!o.wizard,
        bins: o.bins as number | undefined,
        query,
      };
    },
    async () => (await import('../../commands/ttfr.js')).ttfrCommand,
  );

  const steps = withOptions(
    program
      .command('steps')
      .description('Which Discover steps take the most time: median and p90 per step, slowest first')
      .option('-r, --resource <slug>', "resource track slug or 'all'", 'all'),
    [numberOption('--top <n>', 'with --resource all, show the N slowest steps', { min: 1, max: 1000, def: 15 }), ...rangeOptions(DEFAULT_FROM), ...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    steps,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { tracks: await tracksFor(o.resource), funnel: funnelOptionsOf(o, query), top: o.top as number, query };
    },
    async () => (await import('../../commands/steps.js')).stepsCommand,
  );

  const failures = withOptions(
    program
      .command('failures')
      .description('Where Discover sessions fail: errors and abandonments per step, and the most common error messages')
      .option('-r, --resource <slug>', "resource track slug or 'all'", 'all'),
    [numberOption('--top <n>', 'how many error messages to list', { min: 1, max: 1000, def: 10 }), deploymentOption(), ...rangeOptions(DEFAULT_FROM), ...queryOptions()],
  );
  action(
    failures,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return {
        tracks: await tracksFor(o.resource),
        all: o.resource === 'all',
        dateRange: rangeOf(o, query, DEFAULT_FROM),
        deployment: o.deployment as Deployment,
        top: o.top as number,
        query,
      };
    },
    async () => (await import('../../commands/failures.js')).failuresCommand,
  );

  const dropoffs = withOptions(
    program
      .command('dropoffs')
      .description('Who dropped off after a step: their sessions, accounts, errors, and what each account did next')
      .requiredOption('-r, --resource <slug>', 'resource track slug')
      .requiredOption('--step <key>', 'the step they reached (a step key of the track, e.g. deployService)'),
    [...rangeOptions(DEFAULT_FROM), ...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    dropoffs,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      const track = await oneTrack(o.resource, 'dropoffs are one step of one track');
      const funnel = funnelOptionsOf(o, query);
      const step = String(o.step);
      const { stepIndex } = await import('../../discover/dropoffs.js');
      return { track, funnel, step, stepIndex: stepIndex(track, (await definitions()).trackSteps(track, funnel.deployment), step), query };
    },
    async () => (await import('../../commands/dropoffs.js')).dropoffsCommand,
  );

  const correlation = withOptions(
    program
      .command('correlation')
      .description('Why sessions fail: events and property values that correlate with completing or failing a track (odds ratios as PostHog computes them)')
      .requiredOption('-r, --resource <slug>', 'resource track slug'),
    [...rangeOptions(DEFAULT_FROM), ...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    correlation,
    async (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { track: await oneTrack(o.resource, 'correlation explains one funnel'), funnel: funnelOptionsOf(o, query), query };
    },
    async () => (await import('../../commands/correlation.js')).correlationCommand,
  );

  const report = withOptions(
    program
      .command('report')
      .description('A digest to share: Discover and Connect for a range vs the previous period, as a self-contained HTML page or markdown')
      .option('-o, --out <file>', 'write the digest to FILE: HTML, or markdown with --format markdown or a .md name'),
    [...rangeOptions(DEFAULT_FROM), ...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    report,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      const dateRange = rangeOf(o, query, DEFAULT_FROM);
      if (dateRange.date_from === 'all') throw new UsageError('--from: the digest compares a range with the one before it; give a date or a relative range, not all');
      const out = o.out as string | undefined;
      if (out !== undefined && out.trim() === '') throw new UsageError('--out: give a file name');
      const { format } = globalsOf(cmd);
      if (format === 'csv') throw new UsageError('--format: the digest is html (with --out), markdown or json, not csv');
      const as = format === 'json' ? ('json' as const) : format === 'markdown' || out === undefined || /\.(md|markdown)$/i.test(out) ? ('markdown' as const) : ('html' as const);
      return { dateRange, shape: shapeOf(o), out, as, query };
    },
    async () => (await import('../../commands/report.js')).reportCommand,
  );

  const demand = withOptions(
    program
      .command('demand')
      .description('What users look for: wizard sessions selecting each resource card (guided, dialog, link), and sessions that never chose')
      .option('--window <span>', 'time a session has to choose after starting', '1d'),
    [deploymentOption(), ...rangeOptions(DEFAULT_FROM), ...queryOptions()],
  );
  action(
    demand,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { dateRange: rangeOf(o, query, DEFAULT_FROM), deployment: o.deployment as Deployment, window: parseWindow(String(o.window)), query };
    },
    async () => (await import('../../commands/demand.js')).demandCommand,
  );

  const doctor = withOptions(
    program
      .command('doctor')
      .description("Check the taxonomy's event names and property keys against the project (local store, or PostHog's definitions with --engine posthog)")
      .option('--missing', 'list only the names the project does not have'),
    [...queryOptions({ printQuery: false })],
  );
  action(
    doctor,
    (o, _a, cmd) => ({ missing: !!o.missing, query: queryOptionsOf(o, cmd) }),
    async () => (await import('../../commands/doctor.js')).doctorCommand,
  );
}
