/** `failures --resource <slug>|all`: ERROR and ABORTED per step, and the top error messages. */
import type { Deployment, Track } from '../definitions/discover.js';
import { failureQueries, failures, type ErrorMessageRow, type StepFailureRow } from '../discover/failures.js';
import type { DateRange } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { barColumn, twoToneBar } from '../output/chart.js';
import { formatNumber, formatPercent } from '../output/format.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface FailuresOptions {
  tracks: Track[];
  /** Every track (--resource all): rank steps across resources. */
  all: boolean;
  dateRange: DateRange;
  deployment: Deployment;
  top: number;
  query: QueryOptions;
}

export async function failuresCommand(o: FailuresOptions, c: CommandContext): Promise<CommandResult> {
  const { tracks, all, dateRange, deployment, top } = o;
  if (o.query.printQuery) {
    return { queries: failureQueries(tracks, { dateRange, deployment, top, all }).all };
  }
  const { result: r, range } = await withEngineRange(o.query, c, dateRange, (engine, dr) => failures(engine, tracks, { dateRange: dr, deployment, top, all }, o.query.ctx));
  const rows = r.steps.filter((s) => !all || s.errors + s.aborted > 0).sort((a, b) => (all ? b.errors + b.aborted - (a.errors + a.aborted) : 0));
  const max = Math.max(0, ...rows.map((s) => s.errors + s.aborted));
  const maxErr = Math.max(0, ...r.topErrors.map((e) => e.errors));
  return {
    range,
    json: { engine: o.query.engine, dateRange, deployment, ...r, queries: undefined },
    tables: [
      {
        title: all ? 'Discover failures by resource and step (most first)' : `Failures per step — ${tracks[0]!.title}`,
        columns: [
          ...(all ? [{ key: 'resource', header: 'Resource' }] : [{ key: 'step', header: '#', align: 'right' as const }]),
          { key: 'name', header: 'Step' },
          { key: 'event', header: 'Event', dataOnly: true },
          { key: 'sessions', header: 'Reached', align: 'right' },
          { key: 'failedSessions', header: 'Failed', align: 'right', drop: 1 },
          { key: 'errorRate', header: 'Error rate', shortHeader: 'Err %', align: 'right', text: (s: StepFailureRow) => formatPercent(s.errorRate) },
          { key: 'errors', header: 'Errors', align: 'right' },
          { key: 'aborted', header: 'Left here', align: 'right' },
          { key: 'abortedEvents', header: 'ABORTED events', align: 'right', dataOnly: true },
          { key: 'cameBack', header: 'Came back', align: 'right', dataOnly: true },
          { key: 'wentBack', header: 'Went back', align: 'right', dataOnly: true },
          {
            key: 'bar',
            header: 'errors ▇ / aborted ░',
            terminalOnly: true,
            bar: { width: 24, draw: (s: StepFailureRow, w: number) => twoToneBar(s.errors, s.errors + s.aborted, max, w) },
          },
        ],
        rows,
        notes: [
          'Reached: wizard sessions that got to the step. Error rate: sessions that failed on it at least once ÷ sessions that reached it. Errors: ERROR outcomes (a session can fail several times before it succeeds).',
          'Left here: sessions whose last outcome was ABORTED on this step — leaving to create an AWS integration and coming back, or going back from the first view to the resource cards, is not counted.',
          ...(r.abortedBeforeSelection !== null ? [`Aborted before choosing a resource (on "started"): ${r.abortedBeforeSelection.toLocaleString('en-US')}.`] : []),
        ],
      },
      {
        title: `Most common error messages (top ${top})`,
        columns: [
          { key: 'message', header: 'Error' },
          { key: 'errors', header: 'Errors', align: 'right' },
          { key: 'accounts', header: 'Accounts', align: 'right', text: (e: ErrorMessageRow) => (e.accounts > 0 ? formatNumber(e.accounts) : '–') },
          barColumn((e: ErrorMessageRow) => e.errors, maxErr, 16),
        ],
        rows: r.topErrors,
      },
    ],
  };
}
