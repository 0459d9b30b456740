/**
 * `discover-metrics seed` — load the built-in demo data set into the event store (idempotent).
 */
import type { Command } from 'commander';
import { DEMO_ACCOUNTS, DEMO_DAYS, DEMO_INSTALLATIONS } from '../synthetic/defaults.js';

export function register(program: Command): void {
  program
    .command('seed')
    .description(
      `Load the built-in demo data into the event store: ${DEMO_DAYS} days of Discover and Connect usage (${DEMO_ACCOUNTS} accounts, ${DEMO_INSTALLATIONS} installations) plus downloads; re-running adds nothing`,
    )
    .option('--now <iso>', 'end the demo window at the start of this day (UTC) instead of today')
    .option('--no-downloads', 'skip the generated CDN download logs')
    .action(async (_opts, command: Command) => {
      const { seedCommand } = await import('../synthetic/command.js');
      await seedCommand(command);
    });
}
