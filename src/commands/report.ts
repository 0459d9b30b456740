/**
 * `discover-metrics report --out digest.html` — one page answering every RFD 0094 and RFD 97
 * question for a range, with what changed since the previous period.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addFunnelShapeOptions } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .description('A digest to share: Discover and Connect for a range vs the previous period, as a self-contained HTML page or markdown')
    .option('--from <date>', 'start of the range: a date or relative (-30d, -4w, mStart)', '-30d')
    .option('--to <date>', 'end of the range (default: end of today)')
    .option('-o, --out <file>', 'write the digest to FILE: HTML, or markdown with --format markdown or a .md name');
  addFunnelShapeOptions(cmd);
  addQueryOptions(cmd, { printQuery: false });
  cmd.action(async (_o, command: Command) => {
    const { reportCommand } = await import('./report-run.js');
    await reportCommand(command);
  });
}
