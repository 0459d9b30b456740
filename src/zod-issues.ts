/**
 * The one formatter of zod validation issues: every file, flag or request body that fails its
 * schema is reported as "<JSON path>: <what was expected>, got <what was there>".
 */
import type { z } from 'zod';

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** `query.series[1].event` style path ('' base: `series[1].event`). */
export function formatPath(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(String(p)) ? `${out ? '.' : ''}${String(p)}` : `[${JSON.stringify(String(p))}]`;
  return out;
}

export interface AnyIssue {
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

/** The issue's place and problem (an invalid union reports the branch the input most likely meant). */
export function describeIssue(issue: AnyIssue, base: string): { where: string; problem: string } {
  const where = formatPath(base, issue.path) || '(root)';
  const got = 'input' in issue ? `, got ${typeName(issue.input)}${issue.input === undefined ? '' : ` ${short(issue.input)}`}` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return { where, problem: `expected ${issue.expected}, but it is missing` };
      return { where, problem: `expected ${issue.expected}, got ${typeName(issue.input)}` };
    case 'invalid_value': {
      if (issue.values && issue.values.length === 1) return { where, problem: `expected ${JSON.stringify(issue.values[0])}${got}` };
      const last = issue.path[issue.path.length - 1];
      const what = typeof last === 'string' ? last : 'value';
      return { where, problem: `unknown ${what} ${short(issue.input)}; expected one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}` };
    }
    case 'invalid_union': {
      if (issue.options) {
        // discriminated union: the input is the parent object
        const last = issue.path[issue.path.length - 1];
        const input = issue.input && typeof issue.input === 'object' && last !== undefined ? (issue.input as Record<PropertyKey, unknown>)[last] : issue.input;
        const shown = input === undefined ? 'but it is missing' : `got ${short(input)}`;
        return { where, problem: `unknown ${typeof last === 'string' ? last : 'value'}; expected one of ${issue.options.map((v) => JSON.stringify(v)).join(', ')}, ${shown}` };
      }
      // report the branch with the fewest problems (the one the user most likely meant)
      const branches = (issue.errors ?? []).filter((b) => b.length > 0).sort((a, b) => a.length - b.length || maxDepth(b) - maxDepth(a));
      const deepest = (branches[0] ?? []).slice().sort((a, b) => b.path.length - a.path.length)[0];
      if (deepest && deepest.path.length > 0) return describeIssue({ ...deepest, path: [...issue.path, ...deepest.path] }, base);
      const expected = [...new Set(branches.flat().map((i) => i.expected).filter(Boolean))];
      return { where, problem: `expected ${expected.length ? expected.join(' or ') : 'a different value'}${got}` };
    }
    case 'too_small':
      return { where, problem: `must be at least ${String(issue.minimum)}${got}` };
    case 'too_big':
      return { where, problem: `must be at most ${String(issue.maximum)}${got}` };
    case 'unrecognized_keys':
      return { where, problem: `unknown key${(issue.keys ?? []).length === 1 ? '' : 's'} ${(issue.keys ?? []).map((k) => `'${k}'`).join(', ')}` };
    default:
      return { where, problem: `${issue.message}` };
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

/** Zod issues as "<path>: <problem>" lines (first issue first); paths start at `base`. */
export function zodIssuesMessage(issues: readonly z.core.$ZodIssue[], base = ''): string[] {
  return issues.map((i) => {
    const d = describeIssue(i as unknown as AnyIssue, base);
    return `${d.where}: ${d.problem}`;
  });
}

/** The first issue of a failed parse as one "<path>: <problem>" line. */
export function firstIssue(error: z.ZodError, base = ''): string {
  return zodIssuesMessage(error.issues.slice(0, 1), base)[0] ?? '(root): invalid';
}
