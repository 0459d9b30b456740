/**
 * `discover-metrics dau` — active Teleport Connect installations over time (RFD 97 DAU/WAU/MAU).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('dau')
    .description('Active Teleport Connect installations per day/week/month (any Connect event counts), optionally split by platform')
    .option('--interval <interval>', 'bucket size: day, week or month', 'day')
    .option('--math <math>', 'dau (unique per interval), wau (active in the last 7 days) or mau (last 30 days)', 'dau')
    .option('--breakdown <dimension>', 'split by a person property: os, arch, os_version, app_version')
    .option('--compare', 'add the previous period of the same length')
    .option('--compare-to <offset>', 'compare with the range moved back by an offset instead (e.g. -1w, -1m)')
    .option('--from <date>', 'start of the range: a date or relative (-30d, -12w, mStart)', '-30d')
    .option('--to <date>', 'end of the range (default: end of today)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { dauCommand } = await import('../connect/cli.js');
    await dauCommand(command);
  });
}
