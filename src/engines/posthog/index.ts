/**
 * The PostHog engine: runs PostHog query objects on a real PostHog project (or the sandbox)
 * through the query API. Results are PostHog's own, so they are the reference the local engine
 * must equal.
 *
 * The QueryContext cannot be sent: the project owns its timezone and week start. When the user
 * passes --timezone/--week-start/--now, the project's settings are fetched and a mismatch is
 * reported as a warning on stderr instead of being ignored silently.
 */
import type { Engine, PostHogQuery, QueryContext, QueryResponse } from '../types.js';
import { PostHogClient, type PostHogClientConfig, type ProjectInfo } from './client.js';
import { requireQueryConnection, resolveConnection, normalizeHost } from '../../config/posthog.js';
import pLimit from 'p-limit';

export { PostHogClient, throttleWaitSeconds } from './client.js';
export type { FetchLike, ProjectInfo } from './client.js';

/** PostHog runs at most 3 queries concurrently per project (posthog-api.md §4.4). */
export const MAX_CONCURRENT_QUERIES = 3;

/** The engine takes the client's settings as they are (host is normalized first). */
export type PostHogEngineConfig = PostHogClientConfig;

export interface PostHogEngine extends Engine {
  readonly name: 'posthog';
  readonly client: PostHogClient;
  /** The project's settings (GET /api/projects/{id}/), fetched once. */
  project(): Promise<ProjectInfo>;
}

export function createPostHogEngine(config: PostHogEngineConfig): PostHogEngine {
  const client = new PostHogClient({ ...config, host: normalizeHost(config.host) });
  const limit = pLimit(MAX_CONCURRENT_QUERIES);
  let projectInfo: Promise<ProjectInfo> | undefined;
  const run = (query: PostHogQuery): Promise<QueryResponse> => limit(() => client.query(query));
  return {
    name: 'posthog',
    client,
    project() {
      projectInfo ??= client.project();
      return projectInfo;
    },
    run(query: PostHogQuery, _ctx: QueryContext) {
      return run(query);
    },
    runMany(queries: readonly PostHogQuery[], _ctx: QueryContext) {
      return Promise.all(queries.map((q) => run(q)));
    },
    async close() {
      /* stateless HTTP: nothing to release */
    },
  };
}

const WEEKDAY = ['Sunday', 'Monday'];

/**
 * Compare what the user asked for (--timezone/--week-start/--now) with the project's settings.
 * Returns warning lines (empty when they agree or nothing was asked).
 */
export function contextWarnings(opts: Record<string, unknown>, env: NodeJS.ProcessEnv, project: ProjectInfo): string[] {
  const out: string[] = [];
  const tz = (typeof opts.timezone === 'string' ? opts.timezone : undefined) ?? env.DISCOVER_METRICS_TIMEZONE;
  const projectTz = project.timezone ?? 'UTC';
  if (tz !== undefined && tz !== projectTz) {
    out.push(
      `--timezone ${tz} differs from the PostHog project's timezone ${projectTz}; PostHog buckets days in ${projectTz} (change it in the project settings or use --engine local)`,
    );
  }
  if (typeof opts.weekStart === 'string') {
    const want = opts.weekStart === 'monday' ? 1 : 0;
    const have = project.week_start_day ?? 0;
    if (want !== have) {
      out.push(`--week-start ${opts.weekStart} differs from the PostHog project's week start (${WEEKDAY[have]}); PostHog uses ${WEEKDAY[have]}`);
    }
  }
  if (typeof opts.now === 'string') {
    out.push(`--now cannot be sent to PostHog: relative date ranges are resolved against PostHog's clock (use absolute dates to pin them)`);
  }
  return out;
}

/**
 * Build the engine from command options (flags > env > --config > default config file).
 * Warns on stderr when --timezone/--week-start/--now cannot be honoured by the project.
 */
export async function createPostHogEngineFromOptions(opts: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const conn = requireQueryConnection(resolveConnection(opts, env));
  const quiet = !!opts.quiet;
  const note = (m: string) => {
    if (!quiet) process.stderr.write(`note: ${m}\n`);
  };
  const engine = createPostHogEngine({ ...conn, onNote: note });
  const asked = typeof opts.timezone === 'string' || typeof opts.weekStart === 'string' || typeof opts.now === 'string' || !!env.DISCOVER_METRICS_TIMEZONE;
  if (asked) {
    const project = await engine.project();
    for (const w of contextWarnings(opts, env, project)) process.stderr.write(`warning: ${w}\n`);
  }
  return engine;
}
