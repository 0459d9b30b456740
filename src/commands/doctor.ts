/**
 * `discover-metrics doctor` — check queries/taxonomy.json against a project: which events and
 * property keys exist, which never occur, and near-miss names to use instead.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('doctor')
    .description("Check the taxonomy's event names and property keys against the project (local store, or PostHog's definitions with --engine posthog)")
    .option('--missing', 'list only the names the project does not have');
  addQueryOptions(cmd, { printQuery: false });
  cmd.action(async (_o, command: Command) => {
    const { doctorCommand } = await import('./doctor-run.js');
    await doctorCommand(command);
  });
}
