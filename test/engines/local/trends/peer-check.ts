/**
 * Checks a TrendsQuery response against a peer case's `expected` (only what PostHog's test
 * asserts; conventions in peer-cases-posthog.json). Returns the list of mismatches.
 */
export interface TrendsExpected {
  series: Record<string, unknown>[];
  sorted_by_label?: boolean;
}

const close = (a: unknown, b: unknown) => typeof a === 'number' && typeof b === 'number' ? Math.abs(a - b) < 1e-9 : JSON.stringify(a) === JSON.stringify(b);

export function checkTrends(expected: TrendsExpected, results: Record<string, unknown>[]): string[] {
  const problems: string[] = [];
  let rs = results;
  if (expected.sorted_by_label) rs = [...results].sort((a, b) => String(a.label).localeCompare(String(b.label)));
  if (rs.length < expected.series.length) problems.push(`expected at least ${expected.series.length} results, got ${rs.length}`);
  expected.series.forEach((exp, i) => {
    const got = rs[i];
    if (!got) return;
    for (const [k, v] of Object.entries(exp)) {
      const at = `results[${i}]`;
      switch (k) {
        case 'labels_at':
        case 'data_at':
        case 'days_at': {
          const arr = got[k.replace('_at', '')] as unknown[];
          for (const [idx, want] of Object.entries(v as Record<string, unknown>)) {
            if (!close(arr?.[Number(idx)], want)) problems.push(`${at}.${k.replace('_at', '')}[${idx}]: expected ${JSON.stringify(want)}, got ${JSON.stringify(arr?.[Number(idx)])}`);
          }
          break;
        }
        case 'sum_data': {
          const s = ((got.data as number[]) ?? []).reduce((a, b) => a + b, 0);
          if (!close(s, v)) problems.push(`${at}: sum(data) expected ${JSON.stringify(v)}, got ${s}`);
          break;
        }
        case 'data_slice_all_equal': {
          const { from, to_exclusive, value } = v as { from: number; to_exclusive: number; value: number };
          const slice = ((got.data as number[]) ?? []).slice(from, to_exclusive);
          if (slice.length !== to_exclusive - from || slice.some((x) => x !== value)) problems.push(`${at}.data[${from}:${to_exclusive}] expected all ${value}, got ${JSON.stringify(slice)}`);
          break;
        }
        case 'data':
        case 'labels':
        case 'days': {
          const arr = got[k] as unknown[];
          const want = v as unknown[];
          if (!Array.isArray(arr) || arr.length !== want.length || want.some((w, j) => !close(arr[j], w))) {
            problems.push(`${at}.${k}: expected ${JSON.stringify(want)}, got ${JSON.stringify(arr)}`);
          }
          break;
        }
        default:
          if (!close(got[k], v)) problems.push(`${at}.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(got[k])}`);
      }
    }
  });
  return problems;
}
