/**
 * `discover-metrics funnel --resource <slug>|all|list` — Discover wizard funnels per resource.
 */
import { Option, type Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addFunnelShapeOptions, addRangeOptions } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('funnel')
    .description('Discover wizard funnel per resource track: sessions per step, conversion, drop-off and time per step')
    .option('-r, --resource <slug>', "resource track slug, 'all' to rank every track, or 'list'", 'all')
    .option('--breakdown <prop>', 'split each funnel by an event property (person:KEY for a person property)')
    .option('--steps <keys>', 'override the steps: comma-separated taxonomy step keys or event names')
    .addOption(new Option('--interval <unit>', 'conversion per period (one --resource): sessions, completed and rate per day, week or month').choices(['day', 'week', 'month']));
  addRangeOptions(cmd);
  addFunnelShapeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { funnelCommand } = await import('./funnel-run.js');
    await funnelCommand(command);
  });
}
