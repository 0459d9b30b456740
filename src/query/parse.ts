/**
 * Parse and validate a PostHog query JSON value (`{kind: ...}` or a request body `{query: {...}}`).
 * Errors name the input, the JSON path and what was expected:
 *   query.json: query.series[1].event: expected string, got number
 */
import type { z } from 'zod';
import { UsageError, suggest } from '../errors.js';
import type { PostHogQuery } from '../engines/types.js';
import { PASSTHROUGH_KINDS, QUERY_SCHEMAS } from './schema.js';

export const KNOWN_KINDS: readonly string[] = [...new Set([...Object.keys(QUERY_SCHEMAS), ...PASSTHROUGH_KINDS])];

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** `query.series[1].event` style path. */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(String(p)) ? `.${String(p)}` : `[${JSON.stringify(String(p))}]`;
  return out;
}

interface AnyIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  input?: unknown;
  values?: unknown[];
  errors?: AnyIssue[][];
  keys?: string[];
  options?: unknown[];
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
}

function describe(issue: AnyIssue, base: string): string {
  const where = formatPath(base, issue.path);
  const got = 'input' in issue ? `, got ${typeName(issue.input)}${issue.input === undefined ? '' : ` ${short(issue.input)}`}` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `${where}: expected ${issue.expected}, but it is missing`;
      return `${where}: expected ${issue.expected}, got ${typeName(issue.input)}`;
    case 'invalid_value': {
      if (issue.values && issue.values.length === 1) return `${where}: expected ${JSON.stringify(issue.values[0])}${got}`;
      const last = issue.path[issue.path.length - 1];
      const what = typeof last === 'string' ? last : 'value';
      return `${where}: unknown ${what} ${short(issue.input)}; expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    }
    case 'invalid_union': {
      if (issue.options) {
        // discriminated union: the input is the parent object
        const last = issue.path[issue.path.length - 1];
        const input = issue.input && typeof issue.input === 'object' && last !== undefined ? (issue.input as Record<PropertyKey, unknown>)[last] : issue.input;
        const shown = input === undefined ? 'but it is missing' : `got ${short(input)}`;
        return `${where}: unknown ${typeof last === 'string' ? last : 'value'}; expected one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}, ${shown}`;
      }
      // report the branch with the fewest problems (the one the user most likely meant)
      const branches = (issue.errors ?? []).filter((b) => b.length > 0).sort((a, b) => a.length - b.length || maxDepth(b) - maxDepth(a));
      const deepest = (branches[0] ?? []).slice().sort((a, b) => b.path.length - a.path.length)[0];
      if (deepest && deepest.path.length > 0) return describe({ ...deepest, path: [...issue.path, ...deepest.path] }, base);
      const expected = [...new Set(branches.flat().map((i) => i.expected).filter(Boolean))];
      return `${where}: expected ${expected.length ? expected.join(' or ') : 'a different value'}${got}`;
    }
    case 'too_small':
      return `${where}: must be at least ${String(issue.minimum)}${got}`;
    case 'too_big':
      return `${where}: must be at most ${String(issue.maximum)}${got}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

function maxDepth(issues: AnyIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return '';
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Format zod issues as "<where>: <path>: <problem>" lines (first issue first). */
export function zodIssuesMessage(issues: readonly z.core.$ZodIssue[], base: string): string[] {
  return issues.map((i) => describe(i as unknown as AnyIssue, base));
}

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
