/**
 * `discover-metrics adoption` — Teleport Connect downloads next to new and active installations
 * per period and platform (RFD 97), with the ratio new installations / downloads.
 */
import { Option, type Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('adoption')
    .description('Connect downloads by platform next to newly active and active installations by OS, per period')
    .addOption(new Option('--interval <interval>', 'period length').choices(['day', 'week', 'month']).default('week'))
    .option('--from <date>', 'start of the range (2026-09-01, or relative: -90d, -12w, mStart)', '-90d')
    .option('--to <date>', 'end of the range (default: now)')
    .option('--logs <paths...>', 'count downloads straight from CloudFront log files or directories instead of the store')
    .option('--salt <secret>', 'with --logs: secret for hashing client addresses (env DISCOVER_METRICS_IP_SALT)')
    .option('--strict', 'with --logs: fail (exit 2) on the first malformed log line');
  addQueryOptions(cmd);
  cmd.action(async (_opts, command: Command) => {
    const { adoptionCommand } = await import('../adoption/command.js');
    await adoptionCommand(command);
  });
}
