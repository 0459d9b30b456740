/**
 * `discover-metrics downloads LOG...` — Teleport Connect installer downloads from CloudFront
 * access logs (breakdowns by period/platform/arch/version), optionally loaded into the store;
 * `discover-metrics load-downloads LOG...` — load them only.
 */
import { Option, type Command } from 'commander';

export function register(program: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--salt <secret>', 'secret for hashing client addresses, never stored (env DISCOVER_METRICS_IP_SALT; default: a random one for this run)')
      .option('--strict', 'fail (exit 2) on the first malformed log line instead of skipping it');

  const downloads = program
    .command('downloads')
    .description('Teleport Connect downloads from CloudFront access logs (gzipped or not; files or directories)')
    .argument('<log...>', 'CloudFront standard log files or directories (read recursively)')
    .option('--by <dims>', 'breakdown: comma-separated period, platform, arch, version, artifact, kind', 'platform')
    .addOption(new Option('--interval <interval>', 'period length for --by period').choices(['day', 'week', 'month']).default('day'))
    .addOption(new Option('--kind <kind>', 'which downloads: fresh installs, updater fetches, or all').choices(['all', 'install', 'update']).default('all'))
    .option('--from <date>', 'first day (YYYY-MM-DD, in --timezone)')
    .option('--to <date>', 'last day (YYYY-MM-DD, inclusive)')
    .option('--timezone <tz>', 'timezone for days/weeks/months (IANA name; env DISCOVER_METRICS_TIMEZONE; default UTC)')
    .addOption(new Option('--week-start <day>', 'first day of the week').choices(['sunday', 'monday']).default('sunday'))
    .option('--load', 'also load the counted downloads into the event store (idempotent)');
  common(downloads);
  downloads.action(async (logs: string[], _opts, command: Command) => {
    const { downloadsCommand } = await import('../downloads/command.js');
    await downloadsCommand(logs, command);
  });

  const load = program
    .command('load-downloads')
    .description('Load Teleport Connect downloads from CloudFront access logs into the event store as events')
    .argument('<log...>', 'CloudFront standard log files or directories (read recursively)');
  common(load);
  load.action(async (logs: string[], _opts, command: Command) => {
    const { loadDownloadsCommand } = await import('../downloads/command.js');
    await loadDownloadsCommand(logs, command);
  });
}
