/** `failures --resource <slug>|all`: ERROR and ABORTED per step, and the top error messages. */
import type { Deployment, Track } from '../definitions/discover.js';
import { failureQueries, failures, type ErrorMessageRow, type StepFailureRow } from '../discover/failures.js';
import type { DateRange } from '../engines/types.js';
import type { CommandResult } from '../output/report.js';
import { bar } from '../output/chart.js';
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
          { key: 'errors', header: 'Errors', align: 'right' },
          { key: 'aborted', header: 'Left here', align: 'right' },
          { key: 'abortedEvents', header: 'ABORTED events', align: 'right', dataOnly: true },
          { key: 'cameBack', header: 'Came back', align: 'right', dataOnly: true },
          { key: 'wentBack', header: 'Went back', align: 'right', dataOnly: true },
          {
            key: 'bar',
            header: 'errors ▇ / aborted ░',
            terminalOnly: true,
            text: (s: StepFailureRow) => {
              const e = bar(s.errors, max, 24);
              return e + '░'.repeat(Math.max(0, Math.round(((s.errors + s.aborted) / (max || 1)) * 24) - e.length));
            },
          },
        ],
        rows,
        notes: [
          'Errors: ERROR outcomes (a session can fail several times before it succeeds). Left here: sessions whose last outcome was ABORTED on this step —',
          'leaving to create an AWS integration and coming back, or going back from the first view to the resource cards, is not counted.',
          ...(r.abortedBeforeSelection !== null ? [`Aborted before choosing a resource (on "started"): ${r.abortedBeforeSelection.toLocaleString('en-US')}.`] : []),
        ],
      },
      {
        title: `Most common error messages (top ${top})`,
        columns: [
          { key: 'message', header: 'Error' },
          { key: 'errors', header: 'Errors', align: 'right' },
          { key: 'accounts', header: 'Accounts', align: 'right' },
          { key: 'bar', header: '', terminalOnly: true, text: (e: ErrorMessageRow) => bar(e.errors, maxErr, 16) },
        ],
        rows: r.topErrors,
      },
    ],
  };
}
