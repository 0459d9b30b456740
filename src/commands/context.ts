/**
 * What every command receives besides its own options: where the event store is, and the output
 * streams for warnings and notes. Commands return their result; the CLI prints it.
 */
import type { Output } from '../output/output.js';
import type { Engine, QueryContext } from '../engines/types.js';
import type { PostHogConnection } from '../config/posthog.js';

export interface CommandContext {
  /** The event store file (--store, DISCOVER_METRICS_STORE, or the default path). */
  store: string;
  /** Whether the store was chosen by --store or DISCOVER_METRICS_STORE rather than defaulted. */
  storeChosen: boolean;
  quiet: boolean;
  /** Warnings, notes and a command's own stdout line (never its report: that is returned). */
  out: Output;
}

/** The engine options shared by every report. */
export interface QueryOptions {
  engine: 'local' | 'posthog';
  ctx: QueryContext;
  printQuery: boolean;
  /** Only what the user set (flag or environment): the posthog engine checks these against the project. */
  asked: { timezone?: string; weekStart?: 0 | 1; now?: Date };
  /** Flags for the PostHog connection (environment and config files are merged by resolveConnection). */
  connection: PostHogConnection & { config?: string };
}

/**
 * How the local engine treats an event store without events: reports say how to load some
 * (requireEvents, the default); raw queries answer PostHog's empty results.
 */
export interface EngineOptions {
  requireEvents?: boolean;
}

/** Open the engine selected by the options. Callers must close() it. */
export async function openEngine(q: QueryOptions, c: CommandContext, opts: EngineOptions = {}): Promise<Engine> {
  if (q.engine === 'posthog') {
    const { requireQueryConnection, resolveConnection } = await import('../config/posthog.js');
    const { openPostHogEngine } = await import('../engines/posthog/index.js');
    return openPostHogEngine(requireQueryConnection(resolveConnection(q.connection)), {
      ...q.asked,
      onWarning: (m) => c.out.warn(m),
      onNote: (m) => c.out.status(`note: ${m}`),
    });
  }
  const { createLocalEngine } = await import('../engines/local/index.js');
  return createLocalEngine(c.store, opts);
}

/** Run `fn` on the selected engine and close it afterwards. */
export async function withEngine<T>(q: QueryOptions, c: CommandContext, fn: (engine: Engine) => Promise<T>, opts: EngineOptions = {}): Promise<T> {
  const engine = await openEngine(q, c, opts);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}
