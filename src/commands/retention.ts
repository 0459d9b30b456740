/**
 * `discover-metrics retention` — cohorts of Teleport Connect installations and how many come back
 * in each later period (PostHog RetentionQuery), as a triangle table with the mean curve.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('retention')
    .description('Connect retention: installations by the period they were first seen, and the share active again N periods later')
    .option('--period <period>', 'cohort period: day, week or month', 'week')
    .option('--intervals <n>', 'number of cohorts and of periods followed (PostHog totalIntervals)', '8')
    .option('--recurring', 'cohorts of every installation active in a period, not only first-time ones')
    .option('--from <date>', 'first cohort (default: --intervals periods before --to)')
    .option('--to <date>', 'last cohort: a date or relative (default: today)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { retentionCommand } = await import('../connect/growth-cli.js');
    await retentionCommand(command);
  });
}
