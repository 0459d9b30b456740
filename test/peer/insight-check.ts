/**
 * Checks a lifecycle / retention / stickiness response against a peer case's `expected`
 * (convention `insight_results_expected` in peer-cases-posthog.json): expected.results[i] is a
 * partial results[i]; lists compare element by element, objects only on the keys given.
 * Returns the list of mismatches (empty when the response agrees).
 */
export interface InsightExpected {
  results: Record<string, unknown>[];
  match_by?: string;
  length_asserted?: boolean;
}

function diffs(want: unknown, got: unknown, path: string): string[] {
  if (typeof want === 'number') return typeof got === 'number' && Math.abs(got - want) < 1e-9 ? [] : [`${path}: expected ${want}, got ${JSON.stringify(got)}`];
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return [`${path}: expected a list, got ${JSON.stringify(got)}`];
    if (got.length !== want.length) return [`${path}: expected ${want.length} items, got ${got.length} (${JSON.stringify(got)})`];
    return want.flatMap((w, i) => diffs(w, got[i], `${path}[${i}]`));
  }
  if (want && typeof want === 'object') {
    if (!got || typeof got !== 'object') return [`${path}: expected an object, got ${JSON.stringify(got)}`];
    return Object.entries(want).flatMap(([k, v]) => diffs(v, (got as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return want === got ? [] : [`${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

export function checkInsight(expected: InsightExpected, results: Record<string, unknown>[]): string[] {
  const out: string[] = [];
  if (expected.length_asserted && results.length !== expected.results.length) out.push(`expected ${expected.results.length} results, got ${results.length}`);
  expected.results.forEach((exp, i) => {
    const key = expected.match_by;
    const got = key ? results.find((r) => r[key] === exp[key]) : results[i];
    const at = key ? `results[${key}=${String(exp[key])}]` : `results[${i}]`;
    if (!got) out.push(`${at}: missing`);
    else out.push(...diffs(exp, got, at));
  });
  return out;
}
