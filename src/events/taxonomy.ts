/**
 * PostHog event names and property keys, read from queries/taxonomy.json (the one place they live).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface Taxonomy {
  discover: {
    events: Record<string, string>;
    properties: Record<string, string>;
    /** The project's signup event; null: time to first resource starts at the account's first-seen event. */
    signupEvent: string | null;
  };
  cluster: { properties: Record<string, string> };
  connect: {
    distinctIdPrefix: string;
    events: Record<string, string>;
    properties: Record<string, string>;
    personProperties: Record<string, string>;
  };
  downloads: { event: string; properties: Record<string, string> };
  synthetic: { markerProperty: string };
  /** Property keys Teleport documents; every other key is a guess a project may name differently. */
  documented?: string[];
}

/** Project root (holds package.json, queries/). Works from src/ (tests) and dist/ (binary). */
export const PROJECT_ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const QUERIES_DIR = join(PROJECT_ROOT, 'queries');

let cached: Taxonomy | undefined;

export function taxonomy(): Taxonomy {
  cached ??= JSON.parse(readFileSync(join(QUERIES_DIR, 'taxonomy.json'), 'utf8')) as Taxonomy;
  return cached;
}

/** Every property key named in the taxonomy (event and person), materialized in the local store. */
export function taxonomyPropertyKeys(t: Taxonomy = taxonomy()): string[] {
  const keys = new Set<string>([
    ...Object.values(t.discover.properties),
    ...Object.values(t.cluster.properties),
    ...Object.values(t.connect.properties),
    ...Object.values(t.downloads.properties),
    t.synthetic.markerProperty,
  ]);
  return [...keys];
}
