/**
 * `discover-metrics push` — keep every definition as a saved insight in a PostHog project, on one
 * dashboard (PostHog's insights and dashboards REST API).
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('push')
    .description('Save every definition (Discover funnels, time to first resource, Connect trends and growth) as PostHog insights on one dashboard')
    .option('--dry-run', 'print the plan (create / update / unchanged, with what changes) and change nothing')
    .option('--prune', 'remove insights pushed earlier that no definition produces any more (PostHog soft delete)')
    .option('--dashboard <name>', 'dashboard name', 'Teleport Discover & Connect (discover-metrics)')
    .option('--host <url>', 'PostHog app host (env POSTHOG_HOST)')
    .option('--project-id <id>', 'PostHog project id (env POSTHOG_PROJECT_ID)')
    .option('--personal-api-key <key>', 'PostHog personal API key with insight and dashboard write scopes (env POSTHOG_PERSONAL_API_KEY)')
    .option('--config <file>', 'config file with PostHog connection settings (JSON)')
    .action(async (_o, command: Command) => {
      const { pushCommand } = await import('../push/cli.js');
      await pushCommand(command);
    });
}
