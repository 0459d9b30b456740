/**
 * `discover-metrics load FILE...` — load PostHog-shaped events (JSONL/NDJSON, JSON array, CSV,
 * Parquet; gzipped or not; `-` for stdin) into the event store, all or nothing, idempotent on uuid.
 */
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('load')
    .description('Load PostHog events (JSONL/NDJSON, JSON array, CSV, Parquet; gzipped or not; - for stdin) into the event store')
    .argument('<file...>', 'event files (PostHog shape: uuid, event, distinct_id, timestamp, properties, person_id?, person_properties?)')
    .option('--strict-vocabulary', 'also require the prehog envelope on Teleport events (checkTeleportEvent strict mode)')
    .addHelpText(
      'after',
      `
Every row is checked (event, distinct_id, timestamp, uuid, properties, Teleport enum values); the
first bad one is reported with its place (file:line, file[index] for JSON arrays, "row N" for
Parquet) and nothing is stored (exit 2). Rows whose uuid is already stored are skipped, so
loading a file twice is harmless. Events without a uuid get one derived from their content
(UUID v5 layout over event, distinct_id, timestamp and properties), so re-loading them is
idempotent too. $set / $set_once / $unset and person_properties update persons as PostHog does.`,
    )
    .action(async (files: string[], opts: { strictVocabulary?: boolean }, command: Command) => {
      const { loadCommand } = await import('../store/cli/load-command.js');
      await loadCommand(files, opts, command);
    });
}
