/**
 * `discover-metrics fixtures generate` — seeded, realistic PostHog-shaped JSONL of Teleport
 * Discover and Connect usage (byte-identical for the same seed and options).
 */
import type { Command } from 'commander';
import { DEMO_ACCOUNTS, DEMO_DAYS, DEMO_END_DAY, DEMO_INSTALLATIONS, DEMO_SEED } from '../synthetic/defaults.js';

export function register(program: Command): void {
  const fixtures = program.command('fixtures').description('Synthetic Teleport usage events for tests and demos');
  fixtures
    .command('generate')
    .description('Write seeded, realistic PostHog-shaped JSONL (Discover wizard sessions, Connect installations)')
    .requiredOption('--out <file>', 'output file (.gz = gzip) or - for stdout')
    .option('--seed <n>', `random seed (same seed and options = same bytes; default: ${DEMO_SEED})`)
    .option('--accounts <n>', `Teleport accounts, the cluster side running Discover (default: ${DEMO_ACCOUNTS})`)
    .option('--installations <n>', `Teleport Connect installations (default: ${DEMO_INSTALLATIONS})`)
    .option('--days <n>', `days of activity (default: ${DEMO_DAYS})`)
    .option('--start <date>', `first day (YYYY-MM-DD, UTC; default: --days before ${DEMO_END_DAY})`)
    .option('--cdn-logs <dir>', 'also write CloudFront download logs matching the installations into DIR')
    .action(async (_opts, command: Command) => {
      const { fixturesGenerateCommand } = await import('../synthetic/command.js');
      await fixturesGenerateCommand(command);
    });
}
