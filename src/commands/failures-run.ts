import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { DEFAULT_FROM, tracksFor } from './discover-options.js';
import { checkRelativeOrder, dateRangeFromOptions } from '../cli/range-options.js';
import { type Deployment } from '../definitions/discover.js';
import { failureQueries, failures, type ErrorMessageRow, type StepFailureRow } from '../discover/failures.js';
import { emit, printQueries } from '../output/emit.js';
import { bar } from '../output/chart.js';
import { UsageError } from '../errors.js';

export async function failuresCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  const tracks = tracksFor(o.resource!);
  const all = o.resource === 'all';
  const top = Number(o.top);
  if (!Number.isInteger(top) || top < 1 || top > 1000) throw new UsageError(`--top: '${o.top}' is not an integer between 1 and 1000`);
  const dateRange = dateRangeFromOptions(o.from, o.to, DEFAULT_FROM);
  checkRelativeOrder(dateRange, q.ctx.now);
  const deployment = o.deployment as Deployment;
  if (q.printQuery) {
    printQueries(failureQueries(tracks, { dateRange, deployment, top, all }).all);
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const r = await failures(engine, tracks, { dateRange, deployment, top, all }, q.ctx);
    const rows = r.steps.filter((s) => !all || s.errors + s.aborted > 0).sort((a, b) => (all ? b.errors + b.aborted - (a.errors + a.aborted) : 0));
    const max = Math.max(0, ...rows.map((s) => s.errors + s.aborted));
    const maxErr = Math.max(0, ...r.topErrors.map((e) => e.errors));
    emit(g, {
      json: { engine: q.engine, dateRange, deployment, ...r, queries: undefined },
      table: {
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
      more: [
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
    });
  } finally {
    await engine.close();
  }
}
