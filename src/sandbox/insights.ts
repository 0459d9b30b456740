/**
 * The sandbox's saved insights and dashboards, in memory, shaped like PostHog's REST API
 * (posthog/api/insight.py, dashboards/dashboard.py) as far as `push` uses it:
 *   GET    /api/projects/:id/insights/?limit=&offset=      paginated {count, next, previous, results}
 *   POST   /api/projects/:id/insights/                     create (201)
 *   GET    /api/projects/:id/insights/:iid/                one insight
 *   PATCH  /api/projects/:id/insights/:iid/                update; {"deleted": true} soft-deletes
 *   DELETE /api/projects/:id/insights/:iid/                405: PostHog forbids hard deletes
 * and the same for /dashboards/. Soft-deleted objects leave the lists and answer 404.
 * An insight's `dashboards` (ids) places it on dashboards; a dashboard lists its tiles.
 */
import { randomBytes } from 'node:crypto';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

type Obj = Record<string, unknown>;

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

function err(status: number, code: string, detail: string, attr: string | null = null): ApiAnswer {
  return { status, body: { type: status === 404 ? 'invalid_request' : 'validation_error', code, detail, attr } };
}

const notFound = (): ApiAnswer => ({ status: 404, body: { type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null } });

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validate the writable fields of an insight or dashboard body; returns an error answer or undefined. */
function checkFields(kind: 'insights' | 'dashboards', body: Obj, create: boolean): ApiAnswer | undefined {
  if (create && (typeof body.name !== 'string' || body.name.trim() === '')) {
    if (kind === 'dashboards' || body.name !== undefined) return err(400, 'invalid_input', 'This field may not be blank.', 'name');
  }
  for (const k of ['name', 'description'] as const) {
    if (body[k] !== undefined && body[k] !== null && typeof body[k] !== 'string') return err(400, 'invalid_input', 'Not a valid string.', k);
  }
  if (body.tags !== undefined && (!Array.isArray(body.tags) || body.tags.some((t) => typeof t !== 'string'))) return err(400, 'invalid_input', 'Expected a list of items.', 'tags');
  if (kind === 'insights') {
    if (body.query !== undefined && body.query !== null && (!isObj(body.query) || typeof body.query.kind !== 'string')) {
      return err(400, 'invalid_input', 'query: a query object with a "kind" is required', 'query');
    }
    if (body.dashboards !== undefined && (!Array.isArray(body.dashboards) || body.dashboards.some((d) => typeof d !== 'number'))) {
      return err(400, 'invalid_input', 'Expected a list of items.', 'dashboards');
    }
  }
  if (body.deleted !== undefined && typeof body.deleted !== 'boolean') return err(400, 'invalid_input', 'Must be a valid boolean.', 'deleted');
  return undefined;
}

const WRITABLE: Record<'insights' | 'dashboards', string[]> = {
  insights: ['name', 'description', 'query', 'tags', 'dashboards', 'deleted', 'saved', 'favorited'],
  dashboards: ['name', 'description', 'tags', 'deleted', 'pinned'],
};

export class InsightsApi {
  private nextId = { insights: 1, dashboards: 1 };
  private readonly rows = { insights: new Map<number, Obj>(), dashboards: new Map<number, Obj>() };
  /** requests served per method, for tests */
  readonly calls: Record<string, number> = {};

  constructor(private readonly baseUrl: () => string) {}

  /** Live (not deleted) objects of a kind, oldest first. */
  list(kind: 'insights' | 'dashboards'): Obj[] {
    return [...this.rows[kind].values()].filter((o) => !o.deleted).map((o) => this.view(kind, o));
  }

  private view(kind: 'insights' | 'dashboards', o: Obj): Obj {
    if (kind === 'dashboards') {
      const tiles = [...this.rows.insights.values()]
        .filter((i) => !i.deleted && (i.dashboards as number[]).includes(o.id as number))
        .map((i) => ({ id: i.id, insight: { id: i.id, short_id: i.short_id, name: i.name } }));
      return { ...o, tiles };
    }
    return { ...o };
  }

  /** Answer one request under /api/projects/:id/(insights|dashboards)/... */
  serve(req: { method?: string; url?: string }, rest: string[], body: Obj | undefined, projectPath: string, send: (status: number, body: unknown) => void): void {
    const kind = rest[0] === 'dashboards' ? 'dashboards' : 'insights';
    const a = this.handle(req.method ?? 'GET', kind, rest.slice(1), new URL(req.url ?? '/', 'http://sandbox').searchParams, body, projectPath);
    send(a.status, a.body);
  }

  handle(method: string, kind: 'insights' | 'dashboards', rest: string[], search: URLSearchParams, body: Obj | undefined, projectPath: string): ApiAnswer {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const table = this.rows[kind];
    if (rest.length === 0) {
      if (method === 'GET') return this.page(kind, search, projectPath);
      if (method !== 'POST') return err(405, 'method_not_allowed', `Method "${method}" not allowed.`);
      const b = body ?? {};
      const bad = checkFields(kind, b, true) ?? this.checkDashboards(b);
      if (bad) return bad;
      const id = this.nextId[kind]++;
      const now = new Date().toISOString();
      const o: Obj = { id, name: null, description: '', tags: [], deleted: false, created_at: now, last_modified_at: now };
      if (kind === 'insights') Object.assign(o, { short_id: randomBytes(4).toString('hex'), query: null, dashboards: [], saved: true });
      else o.pinned = false;
      for (const k of WRITABLE[kind]) if (b[k] !== undefined) o[k] = b[k];
      table.set(id, o);
      return { status: 201, body: this.view(kind, o) };
    }
    if (rest.length !== 1 || !/^\d+$/.test(rest[0]!)) return notFound();
    const o = table.get(Number(rest[0]));
    if (!o || o.deleted) return notFound();
    if (method === 'GET') return { status: 200, body: this.view(kind, o) };
    if (method === 'DELETE') return err(405, 'method_not_allowed', 'Hard delete of this model is not allowed. Use a patch API call to set "deleted" to true');
    if (method !== 'PATCH' && method !== 'PUT') return err(405, 'method_not_allowed', `Method "${method}" not allowed.`);
    const b = body ?? {};
    const bad = checkFields(kind, b, false) ?? this.checkDashboards(b);
    if (bad) return bad;
    for (const k of WRITABLE[kind]) if (b[k] !== undefined) o[k] = b[k];
    o.last_modified_at = new Date().toISOString();
    return { status: 200, body: this.view(kind, o) };
  }

  private checkDashboards(b: Obj): ApiAnswer | undefined {
    if (!Array.isArray(b.dashboards)) return undefined;
    for (const d of b.dashboards as number[]) {
      const dash = this.rows.dashboards.get(d);
      if (!dash || dash.deleted) return err(400, 'invalid_input', `Dashboard ${d} does not exist.`, 'dashboards');
    }
    return undefined;
  }

  private page(kind: 'insights' | 'dashboards', search: URLSearchParams, projectPath: string): ApiAnswer {
    const limit = Math.min(MAX_LIMIT, Math.max(1, Number(search.get('limit') ?? DEFAULT_LIMIT) || DEFAULT_LIMIT));
    const offset = Math.max(0, Number(search.get('offset') ?? 0) || 0);
    const all = this.list(kind);
    const results = all.slice(offset, offset + limit);
    const link = (off: number) => `${this.baseUrl()}${projectPath}/${kind}/?limit=${limit}&offset=${off}`;
    return {
      status: 200,
      body: {
        count: all.length,
        next: offset + limit < all.length ? link(offset + limit) : null,
        previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
        results,
      },
    };
  }
}
