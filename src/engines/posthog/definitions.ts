/**
 * PostHog's event and property definitions APIs (what a project has ever ingested):
 *   GET /api/projects/:id/event_definitions/?limit=&offset=
 *   GET /api/projects/:id/property_definitions/?type=event|person&limit=&offset=
 * Both are paginated lists {count, next, previous, results}.
 */
import { z } from 'zod';
import type { PostHogClient } from './client.js';
import { HttpError } from '../../errors.js';
import type { Definitions, PropertyDefinition } from '../../store/definitions.js';

const PAGE = 500;
/** Stop after this many pages (a project with more definitions than this is listed in part). */
const MAX_PAGES = 200;

const page = <T extends z.ZodType>(item: T) => z.looseObject({ count: z.number().nullish(), next: z.string().nullish(), results: z.array(item) });
const eventDef = z.looseObject({ name: z.string(), volume_30_day: z.number().nullish(), last_seen_at: z.string().nullish() });
const propertyDef = z.looseObject({ name: z.string() });

async function listAll<T>(client: PostHogClient, path: string, schema: z.ZodType<{ results: T[]; next?: string | null }>): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0, pages = 0; pages < MAX_PAGES; pages++, offset += PAGE) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await client.request('GET', `${path}${sep}limit=${PAGE}&offset=${offset}`);
    const parsed = schema.safeParse(r.json);
    if (!parsed.success) throw new HttpError(r.status, `PostHog's ${path.split('?')[0]} response has an unexpected shape: ${z.prettifyError(parsed.error).slice(0, 300)}`);
    out.push(...parsed.data.results);
    if (!parsed.data.next || parsed.data.results.length === 0) break;
  }
  return out;
}

export async function postHogDefinitions(client: PostHogClient): Promise<Definitions> {
  const events = (await listAll(client, '/event_definitions/', page(eventDef))).map((e) => ({
    name: e.name,
    volume: e.volume_30_day ?? null,
    lastSeenAt: e.last_seen_at ?? null,
  }));
  const properties: PropertyDefinition[] = [];
  for (const type of ['event', 'person'] as const) {
    for (const p of await listAll(client, `/property_definitions/?type=${type}`, page(propertyDef))) properties.push({ name: p.name, type });
  }
  return { events, properties };
}
