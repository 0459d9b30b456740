/**
 * `discover-metrics dropoffs --resource X --step KEY` — the sessions that reached a step and not
 * the next, with their error and what the account did next.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addFunnelShapeOptions, addRangeOptions } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('dropoffs')
    .description('Who dropped off after a step: their sessions, accounts, errors, and what each account did next')
    .requiredOption('-r, --resource <slug>', 'resource track slug')
    .requiredOption('--step <key>', 'the step they reached (a step key of the track, e.g. deployService)');
  addRangeOptions(cmd);
  addFunnelShapeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { dropoffsCommand } = await import('./dropoffs-run.js');
    await dropoffsCommand(command);
  });
}
