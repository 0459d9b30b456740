/**
 * Percentiles from PostHog's time-to-convert histogram. PostHog returns bins, not samples, so a
 * percentile is interpolated linearly inside the bin where the rank falls: exact to within one
 * bin width (ask for binCount 90, PostHog's maximum, to keep that small).
 */
export type Bins = [number, number][];

export function binWidth(bins: Bins): number {
  return bins.length >= 2 ? bins[1]![0] - bins[0]![0] : 60;
}

export function percentileFromBins(bins: Bins, p: number): number | null {
  const total = bins.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const width = binWidth(bins);
  const rank = p * total;
  let cum = 0;
  for (const [start, n] of bins) {
    if (n > 0 && cum + n >= rank) {
      const frac = n === 0 ? 0 : (rank - cum) / n;
      return start + Math.max(0, Math.min(1, frac)) * width;
    }
    cum += n;
  }
  return bins[bins.length - 1]![0];
}

export function isBins(x: unknown): x is Bins {
  return Array.isArray(x) && x.every((b) => Array.isArray(b) && b.length === 2 && typeof b[0] === 'number' && typeof b[1] === 'number');
}

/** PostHog's time_to_convert response `results`: {bins, average_conversion_time}. */
export function ttcOf(results: unknown): { bins: Bins; average: number | null } {
  const r = (results ?? {}) as { bins?: unknown; average_conversion_time?: unknown };
  const bins = isBins(r.bins) ? r.bins : [];
  const average = typeof r.average_conversion_time === 'number' ? r.average_conversion_time : null;
  return { bins, average };
}
