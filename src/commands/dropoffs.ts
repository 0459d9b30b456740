/**
 * `dropoffs --resource X --step KEY`: the sessions that reached a step and not the next, with
 * their error and what the account did next.
 */
import { type Track, type TrackFunnelOptions } from '../definitions/discover.js';
import { buildDropoffActorsQuery, dropoffs, MAX_SESSIONS, type DropoffSession } from '../discover/dropoffs.js';
import type { CommandResult } from '../output/report.js';
import { formatPercent } from '../output/format.js';
import { withEngineRange, type CommandContext, type QueryOptions } from './context.js';

export interface DropoffsOptions {
  track: Track;
  funnel: TrackFunnelOptions;
  /** The step they reached (a step key of the track). */
  step: string;
  /** Its index among the track's steps (checked: not the last). */
  stepIndex: number;
  query: QueryOptions;
}

export async function dropoffsCommand(o: DropoffsOptions, c: CommandContext): Promise<CommandResult> {
  const { track, funnel: opts } = o;
  if (o.query.printQuery) {
    return {
      queries: [buildDropoffActorsQuery(track, opts, o.stepIndex)],
      note: "Then TrendsQuery breakdowns for those sessions: their errors, accounts, the accounts' next sessions and whether those completed.",
    };
  }
  const { result: r, range } = await withEngineRange(o.query, c, opts.dateRange, (engine, dateRange) => dropoffs(engine, track, { ...opts, dateRange }, o.step, o.query.ctx));
  if (r.truncated) c.out.warn(`more than ${MAX_SESSIONS} sessions dropped off: the first ${MAX_SESSIONS} are listed (narrow the range)`);
  const s = r.summary;
  const notes = [
    `${r.count.toLocaleString('en-US')} sessions reached step ${r.step.number} "${r.step.name}" and not step ${r.nextStep.number} "${r.nextStep.name}" · engine ${o.query.engine}`,
    `${s.withError} hit an error on "${r.nextStep.name}"; ${s.accounts} accounts; ${s.cameBack} came back for another Discover session, ${s.completedNext} of them completed it.`,
    ...(s.nextTracks.length ? [`Next sessions by track: ${s.nextTracks.map((x) => `${x.track} ${x.sessions} (${x.completed} completed)`).join(', ')}.`] : []),
    ...(s.errors.length ? [`Errors: ${s.errors.slice(0, 5).map((e) => `"${e.message}" ${e.sessions}`).join(', ')}${s.errors.length > 5 ? ', …' : ''}.`] : []),
    "Session order is known to the hour: a next session is the account's first other session starting in the same hour or later.",
  ];
  return {
    range,
    json: { engine: o.query.engine, dateRange: opts.dateRange, slug: r.slug, step: r.step, nextStep: r.nextStep, count: r.count, truncated: r.truncated, summary: r.summary, sessions: r.sessions },
    tables: [
      {
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
    ],
  };
}
