/**
 * `discover-metrics compare --before FROM..TO --after FROM..TO` (or `--release VERSION`) —
 * did a change help? Each track's completion and steps before and after, with significance.
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addFunnelShapeOptions } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('compare')
    .description('Did a change help? Completion and every step before vs after, with a 95% CI, a p-value and a verdict')
    .option('-r, --resource <slug>', "resource track slug or 'all'", 'all')
    .option('--before <range>', 'the period before the change: FROM..TO (dates inclusive, or relative: -60d..-31d)')
    .option('--after <range>', 'the period after the change: FROM..TO')
    .option('--release <version>', 'split --from..--to on the first day tp.teleport_version reached VERSION (instead of --before/--after)')
    .option('--from <date>', 'with --release: start of the range to split', '-60d')
    .option('--to <date>', 'with --release: end of the range to split (default: end of today)')
    .option('--fail-on-regression', 'exit 1 when a track regressed significantly (for CI)');
  addFunnelShapeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { compareCommand } = await import('./compare-run.js');
    await compareCommand(command);
  });
}
