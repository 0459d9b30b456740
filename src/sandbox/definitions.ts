/**
 * The sandbox's event and property definitions endpoints, answered from its store like PostHog's:
 *   GET /api/projects/:id/event_definitions/?limit=&offset=&search=
 *   GET /api/projects/:id/property_definitions/?type=event|person&limit=&offset=&search=
 * Paginated as {count, next, previous, results}; definitions sorted by name.
 */
import type { Store } from '../store/store.js';
import { storeDefinitions } from '../store/definitions.js';

export const DEFINITION_ROUTES = new Set(['event_definitions', 'property_definitions']);
const DEFAULT_LIMIT = 100;

/** [HTTP status, JSON body] for a definitions request (`host`: the request's Host header, for `next` links). */
export async function definitionsResponse(store: Store, route: string, url: URL, host: string | undefined): Promise<[number, Record<string, unknown>]> {
  const params = url.searchParams;
  const bad = (attr: string, detail: string): [number, Record<string, unknown>] => [400, { type: 'validation_error', code: 'invalid_input', detail, attr }];
  const limit = Number(params.get('limit') ?? DEFAULT_LIMIT);
  const offset = Number(params.get('offset') ?? 0);
  if (!Number.isInteger(limit) || limit < 1) return bad('limit', 'A valid integer is required.');
  if (!Number.isInteger(offset) || offset < 0) return bad('offset', 'A valid integer is required.');
  const type = params.get('type') ?? 'event';
  if (route === 'property_definitions' && type !== 'event' && type !== 'person') return bad('type', `"${type}" is not a valid choice.`);
  const search = (params.get('search') ?? '').toLowerCase();
  const defs = await storeDefinitions(store);
  const now = new Date().toISOString();
  const all =
    route === 'event_definitions'
      ? defs.events.map((e, i) => ({ id: `e${i}`, name: e.name, volume_30_day: e.volume, query_usage_30_day: null, created_at: now, last_seen_at: e.lastSeenAt }))
      : defs.properties
          .filter((p) => p.type === type)
          .map((p, i) => ({ id: `p${i}`, name: p.name, is_numerical: false, property_type: null, type }));
  const matching = all.filter((d) => d.name.toLowerCase().includes(search));
  const page = matching.slice(offset, offset + limit);
  const link = (o: number) => {
    const u = new URL(`http://${host ?? 'localhost'}${url.pathname}${url.search}`);
    u.searchParams.set('limit', String(limit));
    u.searchParams.set('offset', String(o));
    return u.toString();
  };
  return [
    200,
    {
      count: matching.length,
      next: offset + limit < matching.length ? link(offset + limit) : null,
      previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
      results: page,
    },
  ];
}
