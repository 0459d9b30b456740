/**
 * `discover-metrics failures --resource <slug>|all` — ERROR and ABORTED per step, top errors.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addRangeOptions, deploymentOption } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('failures')
    .description('Where Discover sessions fail: errors and abandonments per step, and the most common error messages')
    .option('-r, --resource <slug>', "resource track slug or 'all'", 'all')
    .option('--top <n>', 'how many error messages to list', '10')
    .addOption(deploymentOption());
  addRangeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { failuresCommand } = await import('./failures-run.js');
    await failuresCommand(command);
  });
}
