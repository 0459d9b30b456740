/**
 * The DiscoverResource catalogue (queries/resources.json): every value the wizard can send, with
 * the kind of card the current UI shows for it. Guided cards lead into a wizard flow (a track);
 * dialog and link cards are selection-only: they measure demand, never conversion.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { QUERIES_DIR } from '../events/taxonomy.js';
import { InputError } from '../errors.js';

export const CARD_KINDS = ['guided', 'dialog', 'link', 'not-sent'] as const;
export type CardKind = (typeof CARD_KINDS)[number];

const CatalogSchema = z.object({
  $comment: z.string().optional(),
  resources: z.array(
    z
      .object({
        resource: z.string().regex(/^DISCOVER_RESOURCE_[A-Z0-9_]+$/),
        kind: z.enum(CARD_KINDS),
        cards: z.array(z.string()),
        note: z.string().optional(),
      })
      .strict(),
  ),
});

export type ResourceCard = z.infer<typeof CatalogSchema>['resources'][number];

export const RESOURCES_FILE = join(QUERIES_DIR, 'resources.json');
let cache: ResourceCard[] | undefined;

export function loadResourceCatalog(file = RESOURCES_FILE): ResourceCard[] {
  if (cache && file === RESOURCES_FILE) return cache;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(file, `not valid JSON: ${(e as Error).message}`);
  }
  const parsed = CatalogSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const seen = new Set<string>();
  parsed.data.resources.forEach((r, i) => {
    if (seen.has(r.resource)) throw new InputError(file, `resources[${i}].resource: '${r.resource}' is listed twice`);
    seen.add(r.resource);
  });
  if (file === RESOURCES_FILE) cache = parsed.data.resources;
  return parsed.data.resources;
}

/** Resources whose card is a dialog or a documentation link (nothing follows resourceSelection). */
export function selectionOnlyResources(): string[] {
  return loadResourceCatalog()
    .filter((r) => r.kind === 'dialog' || r.kind === 'link')
    .map((r) => r.resource);
}
