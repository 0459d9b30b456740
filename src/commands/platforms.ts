/**
 * `discover-metrics platforms` — OS, architecture, OS version and Connect version shares among
 * active Teleport Connect installations.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('platforms')
    .description('Platform shares (OS, arch, OS version, Connect version) among active Teleport Connect installations')
    .option('--dimension <keys>', 'only these dimensions, comma-separated: os, arch, os_version, app_version')
    .option('--from <date>', 'start of the range: a date or relative (-30d, -12w, mStart)', '-30d')
    .option('--to <date>', 'end of the range (default: end of today)');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { platformsCommand } = await import('../connect/cli.js');
    await platformsCommand(command);
  });
}
