/**
 * The embedded local engine: PostHog query objects answered from the DuckDB event store.
 *   FunnelsQuery / FunnelsActorsQuery / ActorsQuery -> ./funnels
 *   TrendsQuery -> ./trends (runTrends)
 *   LifecycleQuery -> ./lifecycle, RetentionQuery -> ./retention, StickinessQuery -> ./stickiness
 */
import { Store } from '../../store/store.js';
import { UsageError } from '../../errors.js';
import { parseQuery } from '../../query/parse.js';
import type { ActorsQuery, FunnelsActorsQuery, FunnelsQuery, LifecycleQuery, RetentionQuery, StickinessQuery, TrendsQuery } from '../../query/schema.js';
import type { DataSpan, Engine, PostHogQuery, QueryContext, QueryResponse } from '../types.js';

export const LOCAL_KINDS = ['FunnelsQuery', 'FunnelsActorsQuery', 'ActorsQuery', 'TrendsQuery', 'LifecycleQuery', 'RetentionQuery', 'StickinessQuery'] as const;

const DEFAULT_ACTORS_LIMIT = 100;

export interface LocalEngineOptions {
  /**
   * Reports: an event store without events is an error that says how to load some (after the
   * queries' own validation). Raw queries (`query run`) answer PostHog's empty results instead.
   */
  requireEvents?: boolean;
}

export async function createLocalEngine(storePath: string, opts: LocalEngineOptions = {}): Promise<Engine> {
  const store = await Store.open(storePath, { readOnly: true });
  return new LocalEngine(store, true, opts.requireEvents ?? true);
}

/** Engine over an already open store (tests, benchmarks). The engine does not own the store. */
export function localEngineForStore(store: Store): Engine {
  return new LocalEngine(store, false);
}

class LocalEngine implements Engine {
  readonly name = 'local' as const;
  private checked = false;

  constructor(
    readonly store: Store,
    private readonly ownsStore = true,
    private readonly requireEvents = false,
  ) {}

  /** With requireEvents: an empty store is an error naming how to fill it. */
  private async ensureData(): Promise<void> {
    if (this.checked || !this.requireEvents) return;
    const r = await this.store.conn.runAndReadAll('SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1)');
    if (Number(r.getRows()[0]?.[0] ?? 0) === 0) {
      throw new UsageError(
        `the event store ${this.store.path} has no events`,
        'Load PostHog events with `discover-metrics load FILE...` (JSONL/CSV export), or try the demo data with `discover-metrics seed`.',
      );
    }
    this.checked = true;
  }

  /** The first and last event of the store (null when it has none). */
  async span(): Promise<DataSpan | null> {
    const r = await this.store.conn.runAndReadAll('SELECT epoch_ms(min(timestamp)), epoch_ms(max(timestamp)) FROM events');
    const [first, last] = r.getRows()[0] ?? [];
    if (first === null || first === undefined || last === null || last === undefined) return null;
    return { first: new Date(Number(first)), last: new Date(Number(last)) };
  }

  async run(query: PostHogQuery, ctx: QueryContext): Promise<QueryResponse> {
    const [r] = await this.runMany([query], ctx);
    return r!;
  }

  async runMany(queries: readonly PostHogQuery[], ctx: QueryContext): Promise<QueryResponse[]> {
    for (const q of queries) {
      if (!(LOCAL_KINDS as readonly string[]).includes(q.kind)) {
        throw new UsageError(
          `the local engine cannot run ${q.kind} queries`,
          `Supported kinds: ${LOCAL_KINDS.join(', ')}. Run other kinds with --engine posthog.`,
        );
      }
    }
    const out: QueryResponse[] = new Array(queries.length);
    const funnelIdx: number[] = [];
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i]!;
      if (q.kind === 'FunnelsQuery') funnelIdx.push(i);
    }
    if (funnelIdx.length > 0) {
      const { runFunnels } = await import('./funnels/run.js');
      const parsed = funnelIdx.map((i) => parseQuery(queries[i], 'query') as unknown as FunnelsQuery);
      const res = await runFunnels(this.store, parsed, ctx);
      funnelIdx.forEach((qi, k) => (out[qi] = res[k]!));
    }
    for (let i = 0; i < queries.length; i++) {
      if (out[i]) continue;
      const q = queries[i]!;
      if (q.kind === 'TrendsQuery') {
        const { runTrends } = await import('./trends/index.js');
        out[i] = await runTrends(this.store, parseQuery(q, 'query') as unknown as TrendsQuery, ctx);
      } else if (q.kind === 'LifecycleQuery') {
        const { runLifecycle } = await import('./lifecycle/index.js');
        out[i] = await runLifecycle(this.store, parseQuery(q, 'query') as unknown as LifecycleQuery, ctx);
      } else if (q.kind === 'RetentionQuery') {
        const { runRetention } = await import('./retention/index.js');
        out[i] = await runRetention(this.store, parseQuery(q, 'query') as unknown as RetentionQuery, ctx);
      } else if (q.kind === 'StickinessQuery') {
        const { runStickiness } = await import('./stickiness/index.js');
        out[i] = await runStickiness(this.store, parseQuery(q, 'query') as unknown as StickinessQuery, ctx);
      } else if (q.kind === 'FunnelsActorsQuery') {
        const faq = parseQuery(q, 'query') as unknown as FunnelsActorsQuery;
        out[i] = await this.actors({ kind: 'ActorsQuery', source: faq } as unknown as ActorsQuery, faq, ctx);
      } else if (q.kind === 'ActorsQuery') {
        const aq = parseQuery(q, 'query') as unknown as ActorsQuery;
        const src = aq.source;
        if (!src || src.kind !== 'FunnelsActorsQuery') {
          throw new UsageError(
            `query.source: the local engine answers ActorsQuery only for a FunnelsActorsQuery source${src ? ` (got ${src.kind})` : ''}`,
            'Run other actors queries with --engine posthog.',
          );
        }
        const faq = parseQuery(src, 'query.source') as unknown as FunnelsActorsQuery;
        out[i] = await this.actors(aq, faq, ctx);
      }
    }
    // after the queries: PostHog's validation errors come first, even on an empty store
    await this.ensureData();
    return out;
  }

  private async actors(aq: ActorsQuery, faq: FunnelsActorsQuery, ctx: QueryContext): Promise<QueryResponse> {
    const { funnelActorIds, actorRows } = await import('./funnels/actors.js');
    const { ids, spec } = await funnelActorIds(this.store, faq, ctx);
    const select = aq.select && aq.select.length > 0 ? aq.select : ['actor'];
    const limit = aq.limit ?? DEFAULT_ACTORS_LIMIT;
    const offset = aq.offset ?? 0;
    const byPerson = spec.aggregateBy.kind === 'column' && spec.aggregateBy.column === 'person_id';
    const all = await actorRows(this.store, ids, byPerson);
    const page = all.slice(offset, offset + limit);
    const results = page.map((a) =>
      select.map((col, ci) => {
        switch (col) {
          case 'actor':
          case 'person':
            return a;
          case 'id':
          case 'person_id':
            return a.id;
          case 'created_at':
            return a.created_at ?? null;
          case 'distinct_ids':
            return a.distinct_ids;
          default:
            throw new UsageError(`query.select[${ci}]: the local engine cannot select '${col}' for actors`, 'Supported: actor, id, created_at, distinct_ids.');
        }
      }),
    );
    return {
      results,
      columns: select,
      types: select.map((c) => (c === 'actor' || c === 'person' ? 'Tuple' : 'String')),
      hasMore: all.length > offset + limit,
      limit,
      offset,
      missing_actors_count: 0,
      hogql: null,
      timings: [],
      modifiers: {},
    };
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.store.close();
  }
}
