/**
 * `discover-metrics seed` — load the built-in demo data set into the event store (idempotent).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('seed')
    .description('Load the built-in demo data (≈60 days of Discover and Connect usage, plus downloads) into the event store')
    .option('--now <iso>', 'end the demo window at the start of this day (UTC) instead of 2026-11-16')
    .option('--no-downloads', 'skip the generated CDN download logs')
    .action(async (_opts, command: Command) => {
      const { seedCommand } = await import('../fixtures/command.js');
      await seedCommand(command);
    });
}
