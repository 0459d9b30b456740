/**
 * `discover-metrics steps --resource <slug>|all` — which wizard steps take the most time.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addFunnelShapeOptions, addRangeOptions } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('steps')
    .description('Which Discover steps take the most time: median and p90 per step, slowest first')
    .option('-r, --resource <slug>', "resource track slug or 'all'", 'all')
    .option('--top <n>', 'with --resource all, show the N slowest steps', '15');
  addRangeOptions(cmd);
  addFunnelShapeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { stepsCommand } = await import('./steps-run.js');
    await stepsCommand(command);
  });
}
