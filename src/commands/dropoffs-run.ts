/** The `dropoffs` action: parse → run → render. */
import type { Command } from 'commander';
import { globalsOf } from '../cli/globals.js';
import { openEngine, queryOptionsOf } from '../cli/query-options.js';
import { funnelOptionsFrom } from './discover-options.js';
import { findTrack, trackSteps } from '../definitions/discover.js';
import { buildDropoffActorsQuery, dropoffs, stepIndex, MAX_SESSIONS, type DropoffSession } from '../discover/dropoffs.js';
import { emit, info, printQueries, warn } from '../output/emit.js';
import { formatPercent } from '../output/duration.js';
import { UsageError } from '../errors.js';

export async function dropoffsCommand(command: Command): Promise<void> {
  const o = command.opts() as Record<string, string>;
  const g = globalsOf(command);
  const q = queryOptionsOf(command);
  if (o.resource === 'all' || o.resource === 'list') throw new UsageError('--resource: give one track (dropoffs are one step of one track)');
  const track = findTrack(o.resource!);
  const opts = funnelOptionsFrom(o, q.ctx);
  const steps = trackSteps(track, opts.deployment);
  const index = stepIndex(track, steps, o.step!);
  if (q.printQuery) {
    printQueries([buildDropoffActorsQuery(track, opts, index)]);
    info(g, 'Then TrendsQuery breakdowns for those sessions: their errors, accounts, the accounts\' next sessions and whether those completed.');
    return;
  }
  const engine = await openEngine(command, q);
  try {
    const r = await dropoffs(engine, track, opts, o.step!, q.ctx);
    if (r.truncated) warn(g, `more than ${MAX_SESSIONS} sessions dropped off: the first ${MAX_SESSIONS} are listed (narrow the range)`);
    const s = r.summary;
    const notes = [
      `${r.count.toLocaleString('en-US')} sessions reached step ${r.step.number} "${r.step.name}" and not step ${r.nextStep.number} "${r.nextStep.name}" · ${opts.dateRange.date_from ?? ''} → ${opts.dateRange.date_to ?? 'today'} · engine ${q.engine}`,
      `${s.withError} hit an error on "${r.nextStep.name}"; ${s.accounts} accounts; ${s.cameBack} came back for another Discover session, ${s.completedNext} of them completed it.`,
      ...(s.nextTracks.length ? [`Next sessions by track: ${s.nextTracks.map((x) => `${x.track} ${x.sessions} (${x.completed} completed)`).join(', ')}.`] : []),
      ...(s.errors.length ? [`Errors: ${s.errors.slice(0, 5).map((e) => `"${e.message}" ${e.sessions}`).join(', ')}${s.errors.length > 5 ? ', …' : ''}.`] : []),
      'Session order is known to the hour: a next session is the account\'s first other session starting in the same hour or later.',
    ];
    emit(g, {
      json: { engine: q.engine, dateRange: opts.dateRange, slug: r.slug, step: r.step, nextStep: r.nextStep, count: r.count, truncated: r.truncated, summary: r.summary, sessions: r.sessions },
      table: {
        title: `${r.title} — dropped off after "${r.step.name}" (${r.count})${r.count ? ` · ${formatPercent(s.cameBack / r.count)} came back` : ''}`,
        columns: [
          { key: 'session', header: 'Session' },
          { key: 'account', header: 'Account' },
          { key: 'startedHour', header: 'Started (hour)' },
          { key: 'lastError', header: 'Error', text: (x: DropoffSession) => x.lastError ?? '' },
          { key: 'nextTrack', header: 'Next session', value: (x: DropoffSession) => x.next?.track ?? null, text: (x: DropoffSession) => (x.next ? `${x.next.track} (${x.next.startedHour})` : '–') },
          { key: 'nextCompleted', header: 'Completed it', value: (x: DropoffSession) => x.next?.completed ?? null, text: (x: DropoffSession) => (x.next ? (x.next.completed ? 'yes' : 'no') : '') },
          { key: 'nextSession', header: 'Next session id', dataOnly: true, value: (x: DropoffSession) => x.next?.session ?? null },
        ],
        rows: r.sessions,
        notes,
      },
    });
  } finally {
    await engine.close();
  }
}
