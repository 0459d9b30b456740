/**
 * Parse and validate a PostHog query JSON value (`{kind: ...}` or a request body `{query: {...}}`).
 * Errors name the input, the JSON path and what was expected:
 *   query.json: query.series[1].event: expected string, got number
 */
import type { z } from 'zod';
import { UsageError, suggest } from '../errors.js';
import { typeName, zodIssuesMessage } from '../zod-issues.js';
import type { PostHogQuery } from '../engines/types.js';
import { PASSTHROUGH_KINDS, QUERY_SCHEMAS } from './schema.js';

export const KNOWN_KINDS: readonly string[] = [...new Set([...Object.keys(QUERY_SCHEMAS), ...PASSTHROUGH_KINDS])];

/**
 * Validate a query. `where` names the source (file name, "stdin"); the JSON path starts at
 * `query`. Returns the query object (unknown keys kept, no defaults added).
 */
export function parseQuery(json: unknown, where: string): PostHogQuery {
  let q = json;
  let base = 'query';
  if (q && typeof q === 'object' && !Array.isArray(q) && !('kind' in q) && 'query' in q) {
    q = (q as { query: unknown }).query;
  }
  if (!q || typeof q !== 'object' || Array.isArray(q)) {
    throw new UsageError(`${where}: ${base}: expected a PostHog query object ({"kind": ...} or {"query": {"kind": ...}}), got ${typeName(q)}`);
  }
  const kind = (q as { kind?: unknown }).kind;
  if (typeof kind !== 'string') {
    throw new UsageError(
      `${where}: ${base}.kind: expected string, ${kind === undefined ? 'but it is missing' : `got ${typeName(kind)}`}`,
      `Known kinds: ${KNOWN_KINDS.join(', ')}.`,
    );
  }
  const schema = (QUERY_SCHEMAS as Record<string, z.ZodType>)[kind];
  if (!schema) {
    if ((PASSTHROUGH_KINDS as readonly string[]).includes(kind)) return q as PostHogQuery;
    const s = suggest(kind, KNOWN_KINDS);
    throw new UsageError(`${where}: ${base}.kind: unknown query kind '${kind}'${s ? ` (did you mean '${s}'?)` : ''}`, `Known kinds: ${KNOWN_KINDS.join(', ')}.`);
  }
  const r = schema.safeParse(q, { reportInput: true });
  if (!r.success) {
    const lines = zodIssuesMessage(r.error.issues, base);
    const more = lines.length > 1 ? lines.slice(1, 6).map((l) => `  also ${where}: ${l}`).join('\n') : undefined;
    throw new UsageError(`${where}: ${lines[0]}`, more);
  }
  return r.data as PostHogQuery;
}
