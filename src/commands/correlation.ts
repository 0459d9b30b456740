/**
 * `discover-metrics correlation --resource X` — which events and property values go with
 * completing or failing a track's wizard (PostHog's funnel correlation, per wizard session).
 */
import type { Command } from 'commander';
import { addQueryOptions } from '../cli/query-options.js';
import { addFunnelShapeOptions, addRangeOptions } from './discover-options.js';

export function register(program: Command): void {
  const cmd = program
    .command('correlation')
    .description('Why sessions fail: events and property values that correlate with completing or failing a track (odds ratios as PostHog computes them)')
    .requiredOption('-r, --resource <slug>', 'resource track slug');
  addRangeOptions(cmd);
  addFunnelShapeOptions(cmd);
  addQueryOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    const { correlationCommand } = await import('./correlation-run.js');
    await correlationCommand(command);
  });
}
