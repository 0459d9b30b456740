/**
 * `discover-metrics lifecycle` — new / returning / resurrecting / dormant Teleport Connect
 * installations per period (PostHog LifecycleQuery).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('lifecycle')
    .description('Connect installations per period: new (first event ever), returning, resurrecting and dormant')
    .option('--interval <interval>', 'period: day, week or month', 'week')
    .option('--from <date>', 'start of the range: a date or relative (-30d, -12w, mStart)', '-12w')
    .option('--to <date>', 'end of the range (default: end of today)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { lifecycleCommand } = await import('../connect/growth-cli.js');
    await lifecycleCommand(command);
  });
}
