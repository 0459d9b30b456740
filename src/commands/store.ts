/**
 * `discover-metrics store info` — what the event store holds;
 * `discover-metrics store materialize KEY...` — store property keys as columns (faster queries).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  const store = program.command('store').description('Inspect or tune the embedded event store');
  store
    .command('info')
    .description('Events, persons, date span and event names with counts')
    .action(async (_opts, command: Command) => {
      const { storeInfoCommand } = await import('../store/cli/store-command.js');
      await storeInfoCommand(command);
    });
  store
    .command('materialize')
    .description('Add a column for each property KEY (filled from stored events) so queries on it skip JSON parsing')
    .argument('<key...>', 'event property keys, e.g. $browser tp.discover.deploy.method')
    .action(async (keys: string[], _opts, command: Command) => {
      const { storeMaterializeCommand } = await import('../store/cli/store-command.js');
      await storeMaterializeCommand(keys, command);
    });
}
