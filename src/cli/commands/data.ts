/** Getting data in and looking at it: query run, load, store, seed, fixtures generate. */
import type { Command } from 'commander';
import { DEMO_ACCOUNTS, DEMO_DAYS, DEMO_END_DAY, DEMO_INSTALLATIONS, DEMO_SEED, MAX_ACCOUNTS, MAX_DAYS, MAX_INSTALLATIONS } from '../../synthetic/defaults.js';
import { UsageError } from '../../errors.js';
import { action } from '../action.js';
import { numberOption, queryOptions } from '../options.js';
import { queryOptionsOf } from '../query.js';
import { withOptions } from './with-options.js';

export function register(program: Command): void {
  const group = program.command('query').description('run PostHog query JSON (FunnelsQuery, TrendsQuery, ActorsQuery, ...) on the local engine or PostHog');
  const run = withOptions(
    group
      .command('run')
      .description('run one or more query files ("-" reads stdin); several files run together (the local engine shares one scan)')
      .argument('<files...>', 'query JSON files, or - for stdin'),
    queryOptions(),
  );
  action(run, (o, [files], cmd) => ({ files: files!, query: queryOptionsOf(o, cmd) }), async () => (await import('../../commands/query-run.js')).queryRunCommand);

  program
    .command('seed')
    .description(
      `Load the built-in demo data into the event store: ${DEMO_DAYS} days of Discover and Connect usage (${DEMO_ACCOUNTS} accounts, ${DEMO_INSTALLATIONS} installations) plus downloads; re-running adds nothing`,
    )
    .option('--now <iso>', 'end the demo window at the start of this day (UTC) instead of today')
    .option('--no-downloads', 'skip the generated CDN download logs');
  action(
    program.commands.at(-1)!,
    async (o) => {
      const { parseNowOption } = await import('../../synthetic/options.js');
      return { now: o.now !== undefined ? parseNowOption('--now', o.now) : undefined, downloads: o.downloads !== false };
    },
    async () => (await import('../../commands/fixtures.js')).seedCommand,
  );

  const fixtures = program.command('fixtures').description('Synthetic Teleport usage events for tests and demos');
  const generate = withOptions(
    fixtures
      .command('generate')
      .description('Write seeded, realistic PostHog-shaped JSONL (Discover wizard sessions, Connect installations)')
      .requiredOption('--out <file>', 'output file (.gz = gzip) or - for stdout'),
    [
      numberOption('--seed <n>', `random seed (same seed and options = same bytes; default: ${DEMO_SEED})`, { min: 0, max: Number.MAX_SAFE_INTEGER }),
      numberOption('--accounts <n>', `Teleport accounts, the cluster side running Discover (default: ${DEMO_ACCOUNTS})`, { min: 0, max: MAX_ACCOUNTS }),
      numberOption('--installations <n>', `Teleport Connect installations (default: ${DEMO_INSTALLATIONS})`, { min: 0, max: MAX_INSTALLATIONS }),
      numberOption('--days <n>', `days of activity (default: ${DEMO_DAYS})`, { min: 1, max: MAX_DAYS }),
    ],
  )
    .option('--start <date>', `first day (YYYY-MM-DD, UTC; default: --days before ${DEMO_END_DAY})`)
    .option('--cdn-logs <dir>', 'also write CloudFront download logs matching the installations into DIR');
  action(
    generate,
    async (o) => {
      const { generateOptionsFrom } = await import('../../synthetic/options.js');
      return { generate: generateOptionsFrom(o), out: o.out as string, cdnLogs: o.cdnLogs as string | undefined };
    },
    async () => (await import('../../commands/fixtures.js')).fixturesGenerateCommand,
  );

  const load = program
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
    );
  action(load, (o, [files]) => ({ files: files!, strictVocabulary: !!o.strictVocabulary }), async () => (await import('../../commands/load.js')).loadCommand);

  const store = program.command('store').description('Inspect or tune the embedded event store');
  action(
    store.command('info').description('Events, persons, date span and event names with counts'),
    () => undefined,
    async () => {
      const { storeInfoCommand } = await import('../../commands/store.js');
      return (_o: undefined, c) => storeInfoCommand(c);
    },
  );
  action(
    store
      .command('materialize')
      .description('Add a column for each property KEY (filled from stored events) so queries on it skip JSON parsing')
      .argument('<key...>', 'event property keys, e.g. $browser tp.discover.deploy.method'),
    (_o, [keys]) => {
      if (keys!.some((k) => k.trim() === '')) throw new UsageError('store materialize: property keys must not be empty');
      return keys!;
    },
    async () => (await import('../../commands/store.js')).storeMaterializeCommand,
  );
  action(
    store
      .command('index')
      .description('Rebuild the session index funnels per wizard session read (load keeps it current; for stores written by older versions)'),
    () => undefined,
    async () => {
      const { storeIndexCommand } = await import('../../commands/store.js');
      return (_o: undefined, c) => storeIndexCommand(c);
    },
  );
}
