/**
 * `discover-metrics demand` — what users look for in the Discover wizard: selections per
 * resource card (guided, dialog or documentation link), and sessions that never chose.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addRangeOptions, deploymentOption } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('demand')
    .description('What users look for: wizard sessions selecting each resource card (guided, dialog, link), and sessions that never chose')
    .option('--window <span>', 'time a session has to choose after starting', '1d')
    .addOption(deploymentOption());
  addRangeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { demandCommand } = await import('./demand-run.js');
    await demandCommand(command);
  });
}
