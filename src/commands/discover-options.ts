/**
 * Options shared by the Discover reports (funnel, steps, failures, time-to-first-resource).
 */
import { Option, type Command } from 'commander';
import { dateRangeFromOptions, checkRelativeOrder, parseWindow } from '../cli/range-options.js';
import { DEPLOYMENTS, type TrackFunnelOptions, type Deployment } from '../definitions/discover.js';
import { findTrack, loadTracks, type Track } from '../definitions/discover.js';
import { UsageError } from '../errors.js';
import type { QueryContext } from '../engines/types.js';

export const DEFAULT_FROM = '-30d';
export const DEFAULT_WINDOW = '1d';

export function addRangeOptions(cmd: Command, defaultFrom = DEFAULT_FROM): Command {
  return cmd
    .option('--from <date>', `start of the range: a date or relative (-30d, -4w, mStart)`, defaultFrom)
    .option('--to <date>', 'end of the range (default: end of today)');
}

export function addFunnelShapeOptions(cmd: Command): Command {
  return cmd
    .option('--window <span>', 'conversion window per wizard session (30m, 2h, 1d, 14d)', DEFAULT_WINDOW)
    .addOption(new Option('--order <order>', 'step order').choices(['ordered', 'strict', 'unordered']).default('ordered'))
    .addOption(deploymentOption());
}

/** --deployment: filter on tp.is_cloud; by default every cluster counts. */
export function deploymentOption(): Option {
  return new Option('--deployment <kind>', "clusters to count, told apart by tp.is_cloud ('all': every cluster; a step one kind never shows is optional)")
    .choices([...DEPLOYMENTS])
    .default('all');
}

export function funnelOptionsFrom(o: Record<string, unknown>, ctx: QueryContext): TrackFunnelOptions {
  const dateRange = dateRangeFromOptions(o.from as string | undefined, o.to as string | undefined, DEFAULT_FROM);
  checkRelativeOrder(dateRange, ctx.now);
  return {
    dateRange,
    window: parseWindow(String(o.window ?? DEFAULT_WINDOW)),
    order: (o.order as TrackFunnelOptions['order']) ?? 'ordered',
    deployment: (o.deployment as Deployment) ?? 'all',
    breakdown: o.breakdown as string | undefined,
    steps: o.steps ? parseSteps(String(o.steps)) : undefined,
  };
}

export function parseSteps(v: string): string[] {
  const steps = v.split(',').map((s) => s.trim()).filter(Boolean);
  if (steps.length < 2) throw new UsageError(`--steps: give at least two comma-separated steps (got '${v}')`);
  return steps;
}

/** `--resource` value to tracks: a slug, or `all`. (`list` is handled by the caller.) */
export function tracksFor(resource: string): Track[] {
  if (resource === 'all') return loadTracks();
  return [findTrack(resource)];
}
