/**
 * `discover-metrics time-to-first-resource` — signup to first resource per account, or wizard
 * start to completion per session (--wizard).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addRangeOptions } from './discover-options.js';
import { taxonomy } from '../events/taxonomy.js';

export function register(program: Command): void {
  const cmd = program
    .command('time-to-first-resource')
    .alias('ttfr')
    .description('Time from signup (or first seen) to the first resource added per account; --wizard: wizard start to completion per session')
    .option('--wizard', 'measure wizard start → completion per wizard session, by resource')
    .option('--signup-event <name>', "event that marks signup, for projects that send one (default: the taxonomy's discover.signupEvent; none: the account's first-seen event)", taxonomy().discover.signupEvent ?? undefined)
    .option('--first-seen', 'measure from the first event seen in the range instead of a signup event')
    .option('--window <span>', 'longest time counted as converting (default: 90d per account, 1d per wizard session)')
    .option('--bins <n>', 'histogram bins (PostHog: 1-90; default automatic)');
  addRangeOptions(cmd, '-90d');
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { ttfrCommand } = await import('./ttfr-run.js');
    await ttfrCommand(command);
  });
}
