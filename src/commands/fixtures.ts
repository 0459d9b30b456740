/**
 * `discover-metrics fixtures generate` — seeded, realistic PostHog-shaped JSONL of Teleport
 * Discover and Connect usage (byte-identical for the same seed and options).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const fixtures = program.command('fixtures').description('Synthetic Teleport usage events for tests and demos');
  fixtures
    .command('generate')
    .description('Write seeded, realistic PostHog-shaped JSONL (Discover wizard sessions, Connect installations)')
    .requiredOption('--out <file>', 'output file (.gz = gzip) or - for stdout')
    .option('--seed <n>', 'random seed (same seed and options = same bytes)', '94')
    .option('--accounts <n>', 'Teleport accounts (cluster side, Discover)')
    .option('--installations <n>', 'Teleport Connect installations')
    .option('--days <n>', 'days of activity')
    .option('--start <date>', 'first day (YYYY-MM-DD, UTC; default: --days before 2026-11-16)')
    .option('--cdn-logs <dir>', 'also write CloudFront download logs matching the installations into DIR')
    .action(async (_opts, command: Command) => {
      const { fixturesGenerateCommand } = await import('../fixtures/command.js');
      await fixturesGenerateCommand(command);
    });
}
