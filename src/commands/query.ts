/**
 * `discover-metrics query run FILE|-` — run any PostHog query JSON ({"kind": ...} or
 * {"query": {...}}) on the selected engine. `--format json` prints PostHog's response as is.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const group = program.command('query').description('run PostHog query JSON (FunnelsQuery, TrendsQuery, ActorsQuery, ...) on the local engine or PostHog');
  const run = group
    .command('run')
    .description('run one or more query files ("-" reads stdin); several files run together (the local engine shares one scan)')
    .argument('<files...>', 'query JSON files, or - for stdin');
  addQueryOptions(run);
  run.action(async (files: string[], _opts, command: Command) => {
    const { queryRunCommand } = await import('../query/command.js');
    await queryRunCommand(files, command);
  });
}
