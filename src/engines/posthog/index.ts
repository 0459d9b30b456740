/**
 * The PostHog engine: runs PostHog query objects on a real PostHog project (or the sandbox)
 * through the query API. Results are PostHog's own, so they are the reference the local engine
 * must equal.
 *
 * The QueryContext cannot be sent: the project owns its timezone and week start. When the caller
 * asks for a timezone, week start or pinned "now", the project's settings are fetched and each
 * mismatch is handed to onWarning instead of being ignored silently.
 */
import type { Engine, PostHogQuery, QueryContext, QueryResponse } from '../types.js';
import { PostHogClient, type PostHogClientConfig, type ProjectInfo } from './client.js';
import { POSTHOG_QUERY_LIMITS, RequestBudget, ledgerPathFor, type RequestCounts } from './budget.js';
import { normalizeHost, type QueryConnection } from '../../config/posthog.js';
import pLimit from 'p-limit';

export { PostHogClient, throttleWaitSeconds } from './client.js';
export type { FetchLike, ProjectInfo } from './client.js';
export { RequestBudget, POSTHOG_QUERY_LIMITS } from './budget.js';

/** PostHog runs at most 3 queries concurrently per project (posthog-api.md §4.4). */
export const MAX_CONCURRENT_QUERIES = POSTHOG_QUERY_LIMITS.concurrentQueries;

/** The engine takes the client's settings as they are (host is normalized first). */
export type PostHogEngineConfig = PostHogClientConfig;

export interface PostHogEngine extends Engine {
  readonly name: 'posthog';
  readonly client: PostHogClient;
  /** The project's settings (GET /api/projects/{id}/), fetched once. */
  project(): Promise<ProjectInfo>;
  /** HTTP requests sent so far (queries, polls, other), 429s received, time paced. */
  requests(): RequestCounts;
}

/** One line on the requests a run sent, against PostHog's limits. */
export function describeRequests(c: RequestCounts): string {
  const paced = c.pacedMs >= 1000 ? `; paced ${Math.round(c.pacedMs / 1000)} s` : '';
  const throttled = c.throttled ? `; ${c.throttled} throttled (429)` : '';
  return (
    `${c.total} PostHog API request${c.total === 1 ? '' : 's'} (${c.queries} quer${c.queries === 1 ? 'y' : 'ies'}, ${c.polls} poll${c.polls === 1 ? '' : 's'}, ${c.other} other${throttled}${paced}); ` +
    `PostHog allows ${POSTHOG_QUERY_LIMITS.perMinute}/min and ${POSTHOG_QUERY_LIMITS.perHour.toLocaleString('en-US')}/h per personal API key`
  );
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
      const plan = client.budget.plan(queries.length);
      if (plan.paceSeconds > 0) {
        config.onNote?.(
          `this step sends ${plan.requests} queries; ${plan.usedLastHour} requests went to this project in the last hour ` +
            `(PostHog allows ${client.budget.perHour.toLocaleString('en-US')}/h and ${client.budget.perMinute}/min per key), ` +
            `so it paces itself: about ${Math.ceil(plan.paceSeconds / 60)} min`,
        );
      }
      return Promise.all(queries.map((q) => run(q)));
    },
    requests() {
      return { ...client.budget.counts };
    },
    async close() {
      /* stateless HTTP: nothing to release */
    },
  };
}

const WEEKDAY = ['Sunday', 'Monday'];

/** What the caller asked for (undefined: not asked), compared with the project's own settings. */
export interface RequestedContext {
  timezone?: string;
  weekStart?: 0 | 1;
  now?: Date;
}

export interface PostHogEngineOptions extends RequestedContext {
  /** Settings the project cannot honour (its timezone differs, a pinned clock cannot be sent). */
  onWarning?: (message: string) => void;
  /** Informational lines from the client (throttling waits). */
  onNote?: (message: string) => void;
}

/**
 * Compare the requested timezone, week start and pinned "now" with the project's settings.
 * Returns warning lines (empty when they agree or nothing was asked).
 */
export function contextWarnings(asked: RequestedContext, project: ProjectInfo): string[] {
  const out: string[] = [];
  const projectTz = project.timezone ?? 'UTC';
  if (asked.timezone !== undefined && asked.timezone !== projectTz) {
    out.push(
      `the timezone ${asked.timezone} differs from the PostHog project's timezone ${projectTz}; PostHog buckets days in ${projectTz} (change it in the project settings or use the local engine)`,
    );
  }
  if (asked.weekStart !== undefined) {
    const have = project.week_start_day ?? 0;
    if (asked.weekStart !== have) {
      out.push(`the week start ${WEEKDAY[asked.weekStart]} differs from the PostHog project's week start (${WEEKDAY[have]}); PostHog uses ${WEEKDAY[have]}`);
    }
  }
  if (asked.now !== undefined) {
    out.push(`a pinned current time cannot be sent to PostHog: relative date ranges are resolved against PostHog's clock (use absolute dates to pin them)`);
  }
  return out;
}

/**
 * Open the engine on a resolved connection. When a timezone, week start or "now" was asked for,
 * the project's settings are fetched once and each mismatch goes to onWarning.
 */
export async function openPostHogEngine(conn: QueryConnection, o: PostHogEngineOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<PostHogEngine> {
  // the budget's ledger lets consecutive runs share PostHog's hourly limit (times only, no key)
  const budget = new RequestBudget({ ledgerPath: ledgerPathFor(normalizeHost(conn.host), conn.projectId, env), onWait: o.onNote });
  const engine = createPostHogEngine({ ...conn, onNote: o.onNote, budget });
  const close = engine.close.bind(engine);
  engine.close = async () => {
    await close();
    if (engine.requests().total > 0) o.onNote?.(describeRequests(engine.requests()));
  };
  if (o.timezone !== undefined || o.weekStart !== undefined || o.now !== undefined) {
    const project = await engine.project();
    for (const w of contextWarnings(o, project)) o.onWarning?.(w);
  }
  return engine;
}
