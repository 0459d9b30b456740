/** The Discover reports: funnel, time-to-first-resource, steps, failures. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { findTrack, loadTracks, type Deployment, type Track, type TrackFunnelOptions } from '../../definitions/discover.js';
import { taxonomy } from '../../events/taxonomy.js';
import type { QueryOptions } from '../../commands/context.js';
import { action } from '../action.js';
import { deploymentOption, funnelShapeOptions, numberOption, queryOptions, rangeOptions } from '../options.js';
import { queryOptionsOf, rangeOf } from '../query.js';
import { parseWindow } from '../range-options.js';
import { withOptions } from './with-options.js';

type Raw = Record<string, any>;

const DEFAULT_FROM = '-30d';

/** `--resource` value to tracks: a slug, or `all`. */
export function tracksFor(resource: string): Track[] {
  if (resource === 'all') return loadTracks();
  return [findTrack(resource)];
}

export function parseSteps(v: string): string[] {
  const steps = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (steps.length < 2) throw new UsageError(`--steps: give at least two comma-separated steps (got '${v}')`);
  return steps;
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
      .option('--steps <keys>', 'override the steps: comma-separated taxonomy step keys or event names'),
    [...rangeOptions(DEFAULT_FROM), ...funnelShapeOptions(), ...queryOptions()],
  );
  action(
    funnel,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      if (o.resource === 'list') return { list: true as const };
      return { tracks: tracksFor(o.resource), funnel: funnelOptionsOf(o, query), query };
    },
    async () => (await import('../../commands/funnel.js')).funnelCommand,
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
    [numberOption('--bins <n>', 'histogram bins (PostHog: 1-90; default automatic)', { min: 1, max: 90 }), ...rangeOptions('-90d'), ...queryOptions()],
  );
  action(
    ttfr,
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return {
        dateRange: rangeOf(o, query, '-90d'),
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
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return { tracks: tracksFor(o.resource), funnel: funnelOptionsOf(o, query), top: o.top as number, query };
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
    (o, _a, cmd) => {
      const query = queryOptionsOf(o, cmd);
      return {
        tracks: tracksFor(o.resource),
        all: o.resource === 'all',
        dateRange: rangeOf(o, query, DEFAULT_FROM),
        deployment: o.deployment as Deployment,
        top: o.top as number,
        query,
      };
    },
    async () => (await import('../../commands/failures.js')).failuresCommand,
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
