/**
 * `discover-metrics stickiness` — on how many days (or weeks, months) of a range each Teleport
 * Connect installation was active (PostHog StickinessQuery).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('stickiness')
    .description('Connect stickiness: how many installations were active on 1, 2, … days (or weeks, months) of the range')
    .option('--interval <interval>', 'day, week or month', 'day')
    .option('--from <date>', 'start of the range (default: -7d, with --to -1d: the last 7 whole days)')
    .option('--to <date>', 'end of the range (default: end of today, or yesterday when --from is not given)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { stickinessCommand } = await import('../connect/growth-cli.js');
    await stickinessCommand(command);
  });
}
