/**
 * `discover-metrics features` — Teleport Connect feature adoption: installations and events per
 * feature event (logins, connections, access requests, file transfers, Connect My Computer).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('features')
    .description('Teleport Connect feature usage: installations, events and share of active installations per feature')
    .option('--from <date>', 'start of the range: a date or relative (-30d, -12w, mStart)', '-30d')
    .option('--to <date>', 'end of the range (default: end of today)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { featuresCommand } = await import('../connect/cli.js');
    await featuresCommand(command);
  });
}
