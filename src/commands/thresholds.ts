/**
 * The CI checks of the reports (--fail-under, --max-drop): rows below a threshold become a
 * FindingError (exit 1) that names them, thrown once the report is printed.
 */
import { FindingError } from '../errors.js';
import { formatPercent } from '../output/format.js';

export interface RateRow {
  name: string;
  rate: number | null;
  /** "15 of 48 sessions" */
  detail?: string;
}

/** Rows whose rate is below `min` (rows without a rate, i.e. no sessions, are not judged). */
export function failUnder(report: string, what: string, rows: RateRow[], min: number | undefined): FindingError | undefined {
  if (min === undefined) return undefined;
  const low = rows.filter((r) => r.rate !== null && r.rate < min);
  if (low.length === 0) return undefined;
  const list = low.map((r) => `${r.name} ${formatPercent(r.rate)}${r.detail ? ` (${r.detail})` : ''}`);
  return new FindingError(`${report}: ${what} below ${formatPercent(min)} for ${low.length} of ${rows.filter((r) => r.rate !== null).length}: ${list.join(', ')}`);
}

export interface DropRow {
  name: string;
  /** the value compared against (the period before, or the same period of the previous range) */
  before: number;
  after: number;
  beforeLabel: string;
  afterLabel: string;
}

/** Rows that fell by more than `max` (a share: 0.2 = 20%) from `before` to `after`. */
export function maxDrop(report: string, rows: DropRow[], max: number | undefined): FindingError | undefined {
  if (max === undefined) return undefined;
  const fell = rows.filter((r) => r.before > 0 && (r.before - r.after) / r.before > max);
  if (fell.length === 0) return undefined;
  const list = fell.map((r) => `${r.name} ${r.before} → ${r.after} (−${formatPercent((r.before - r.after) / r.before)}, ${r.beforeLabel} → ${r.afterLabel})`);
  return new FindingError(`${report}: dropped more than ${formatPercent(max)}: ${list.join(', ')}`);
}

/** One exit-1 error for several failed checks (each on its own line). */
export function joinFailures(errors: (FindingError | undefined)[]): FindingError | undefined {
  const all = errors.filter((e): e is FindingError => e !== undefined);
  if (all.length <= 1) return all[0];
  return new FindingError(all.map((e) => e.message).join('\n'));
}
