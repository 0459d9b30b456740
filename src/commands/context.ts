/**
 * What every command receives besides its own options: where the event store is, and the output
 * streams for warnings and notes. Commands return their result; the CLI prints it.
 */
import type { Output } from '../output/output.js';
import type { DateRange, Engine, QueryContext } from '../engines/types.js';
import { resolveReportRange, type ReportRange } from '../time/index.js';
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

/**
 * A report's range: resolved against --now, refused when it misses the data the engine holds,
 * and started at the first day with data. Query with the returned `dateRange`.
 */
export async function rangeOn(engine: Engine, dateRange: DateRange, q: QueryOptions): Promise<{ range: ReportRange; dateRange: DateRange }> {
  return resolveReportRange(dateRange, q.ctx, { span: engine.span ? await engine.span() : null });
}

/** withEngine for a report over a range: `fn` queries the checked range (see rangeOn). */
export async function withEngineRange<T>(
  q: QueryOptions,
  c: CommandContext,
  dateRange: DateRange,
  fn: (engine: Engine, dateRange: DateRange) => Promise<T>,
  opts: { checkData?: boolean } = {},
): Promise<{ result: T; range: ReportRange }> {
  return withEngine(q, c, async (engine) => {
    const r = opts.checkData === false ? resolveReportRange(dateRange, q.ctx) : await rangeOn(engine, dateRange, q);
    return { result: await fn(engine, r.dateRange), range: r.range };
  });
}
