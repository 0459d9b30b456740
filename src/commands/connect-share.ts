/**
 * `discover-metrics connect-share` — per period, the share of a cluster's active users who used
 * Teleport Connect ((cluster, user) pairs with Connect events ÷ pairs active on the cluster side).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('connect-share')
    .description("Share of each period's active cluster users who used Teleport Connect (says so when the anonymized names cannot be joined)")
    .option('--interval <interval>', 'period: day, week or month', 'week')
    .option('--from <date>', 'start of the range: a date or relative (-30d, -12w, mStart)', '-12w')
    .option('--to <date>', 'end of the range (default: end of today)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { shareCommand } = await import('../connect/growth-cli.js');
    await shareCommand(command);
  });
}
