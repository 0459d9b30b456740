/**
 * The one funnel step table: a Discover report's steps and a `query run` FunnelsQuery response
 * both print through it, so a funnel reads the same wherever it comes from.
 */
import { bar, barColumn } from './chart.js';
import { c } from './color.js';
import { formatDuration, formatPercent } from './format.js';
import type { TableSpec } from './table.js';

export interface FunnelStepView {
  step: number;
  name: string;
  event?: string;
  count: number;
  /** Conversion from the previous step (0..1); null for the first step. */
  conversionFromPrevious: number | null;
  /** Conversion from the first step (0..1). */
  conversionFromFirst: number;
  /** Entrants lost since the previous step. */
  dropOff: number;
  medianSeconds: number | null;
  averageSeconds: number | null;
}

/** PostHog's step object (FunnelsQuery `steps` results), as far as the table needs it. */
export interface PostHogStep {
  name?: string;
  custom_name?: string | null;
  count: number;
  average_conversion_time: number | null;
  median_conversion_time: number | null;
}

/** Conversion, drop-off and times per step from PostHog's step list. */
export function stepViews(steps: readonly PostHogStep[], name: (s: PostHogStep, i: number) => string = (s) => String(s.custom_name ?? s.name ?? '')): FunnelStepView[] {
  const first = steps[0]?.count ?? 0;
  return steps.map((s, i) => {
    const prev = i === 0 ? null : (steps[i - 1]?.count ?? 0);
    return {
      step: i + 1,
      name: name(s, i),
      count: s.count,
      conversionFromPrevious: prev === null ? null : prev > 0 ? s.count / prev : 0,
      conversionFromFirst: first > 0 ? s.count / first : 0,
      dropOff: prev === null ? 0 : Math.max(0, prev - s.count),
      medianSeconds: i === 0 ? null : s.median_conversion_time,
      averageSeconds: i === 0 ? null : s.average_conversion_time,
    };
  });
}

export function funnelStepTable<R extends FunnelStepView>(title: string, steps: R[], opts: { notes?: string[]; countHeader?: string } = {}): TableSpec<R> {
  const max = steps[0]?.count ?? 0;
  // the step that loses the most entrants, in red on a terminal
  const worst = steps.slice(1).reduce<R | undefined>((w, s) => (s.dropOff > 0 && (!w || s.dropOff > w.dropOff) ? s : w), undefined);
  const mark = (r: R, text: string) => (r === worst ? c().red.bold(text) : text);
  const columns: TableSpec<R>['columns'] = [
    { key: 'step', header: '#', align: 'right' },
    { key: 'name', header: 'Step', terminalText: (r) => mark(r, r.name) },
    { key: 'event', header: 'Event', dataOnly: true },
    { key: 'count', header: opts.countHeader ?? 'Sessions', align: 'right' },
    { key: 'conversionFromPrevious', header: 'From prev', shortHeader: 'Prev', align: 'right', text: (r) => (r.step === 1 ? '' : formatPercent(r.conversionFromPrevious)) },
    { key: 'conversionFromFirst', header: 'From first', shortHeader: 'Total', align: 'right', text: (r) => formatPercent(r.conversionFromFirst) },
    { key: 'dropOff', header: 'Drop-off', align: 'right', drop: 2, text: (r) => (r.step === 1 ? '' : r.dropOff.toLocaleString('en-US')), terminalText: (r) => (r.step === 1 ? '' : mark(r, r.dropOff.toLocaleString('en-US'))) },
    { key: 'medianSeconds', header: 'Median time', shortHeader: 'Median', align: 'right', text: (r) => (r.step === 1 ? '' : formatDuration(r.medianSeconds)) },
    { key: 'averageSeconds', header: 'Avg time', align: 'right', drop: 1, text: (r) => (r.step === 1 ? '' : formatDuration(r.averageSeconds)) },
    barColumn((r: R) => r.count, max, 24),
  ];
  return { title, columns, rows: steps, notes: opts.notes ?? [] };
}

export interface FunnelBreakdownView<S extends FunnelStepView = FunnelStepView> {
  value: string;
  steps: S[];
}

interface MatrixRow {
  value: string;
  sessions: number;
  steps: FunnelStepView[];
}

/**
 * A funnel broken down by a property as one matrix: a row per value, a column per step (the
 * share of the value's entrants that reached it), the steps numbered as in the step table.
 * `optional(i)`: step i is optional (its column goes first when the terminal is narrow).
 */
export function funnelBreakdownMatrix(
  title: string,
  property: string,
  breakdowns: FunnelBreakdownView[],
  opts: { notes?: string[]; optional?: (stepIndex: number) => boolean; countHeader?: string } = {},
): TableSpec<MatrixRow> {
  const first = breakdowns[0]?.steps ?? [];
  const rows: MatrixRow[] = breakdowns.map((b) => ({ value: b.value, sessions: b.steps[0]?.count ?? 0, steps: b.steps }));
  const columns: TableSpec<MatrixRow>['columns'] = [
    { key: 'value', header: property },
    { key: 'sessions', header: opts.countHeader ?? 'Sessions', align: 'right' },
    ...first.slice(1).map((s, j) => ({
      key: `step${s.step}`,
      header: `${s.step}`,
      align: 'right' as const,
      ...(opts.optional?.(j + 1) ? { drop: 1 } : {}),
      value: (r: MatrixRow) => r.steps[j + 1]?.conversionFromFirst ?? null,
      text: (r: MatrixRow) => formatPercent(r.steps[j + 1]?.conversionFromFirst ?? null),
    })),
  ];
  const legend = `Steps: ${first.map((s) => `${s.step} ${s.name}`).join(' · ')}. Cells: share of the row's entrants that reached the step.`;
  return { title, columns, rows, notes: [legend, ...(opts.notes ?? [])] };
}
