/**
 * `compare --release VERSION`: the first day any cluster reported tp.teleport_version at or
 * above VERSION splits a range into before and after. One TrendsQuery (events per day, broken
 * down by version) answers it on either engine.
 */
import semver from 'semver';
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';
import { subDays } from 'date-fns/subDays';
import type { Engine, QueryContext } from '../engines/types.js';
import { taxonomy } from '../events/taxonomy.js';
import { UsageError } from '../errors.js';
import type { DateRange } from '../query/schema.js';

const VERSION_LIMIT = 1000;

/** A user-typed version (15, 15.2, v15.2.1) as a full semver, or a usage error naming --release. */
export function parseReleaseVersion(v: string): string {
  const full = semver.valid(v) ?? semver.valid(semver.coerce(v));
  if (!full) throw new UsageError(`--release: '${v}' is not a version`, 'Examples: 16.2.0, 16.2, v17.0.1.');
  return full;
}

export function buildVersionDaysQuery(dateRange: DateRange): Record<string, unknown> {
  return {
    kind: 'TrendsQuery',
    series: [{ kind: 'EventsNode', event: null, name: 'All events', math: 'total' }],
    dateRange,
    interval: 'day',
    breakdownFilter: { breakdown_type: 'event', breakdown: taxonomy().cluster.properties.teleportVersion, breakdown_limit: VERSION_LIMIT },
  };
}

interface DaySeries {
  breakdown_value?: unknown;
  data?: number[];
  days?: string[];
}

/** First day (YYYY-MM-DD, team timezone) with an event from a version ≥ target, and that version. */
export function firstReleaseDay(results: unknown, target: string): { day: string; version: string } | null {
  let best: { day: string; version: string } | null = null;
  for (const s of (Array.isArray(results) ? results : []) as DaySeries[]) {
    const raw = Array.isArray(s.breakdown_value) ? s.breakdown_value[0] : s.breakdown_value;
    const v = typeof raw === 'string' ? (semver.valid(raw) ?? semver.valid(semver.coerce(raw))) : null;
    if (!v || semver.lt(v, target)) continue;
    const i = (s.data ?? []).findIndex((n) => n > 0);
    const day = i >= 0 ? s.days?.[i] : undefined;
    if (day && (!best || day < best.day || (day === best.day && semver.lt(v, best.version)))) best = { day: day.slice(0, 10), version: String(raw) };
  }
  return best;
}

export interface ReleaseSplit {
  version: string;
  /** the version seen first on that day (may be a later one when VERSION itself never shipped) */
  firstSeenVersion: string;
  day: string;
  before: DateRange;
  after: DateRange;
}

export async function splitOnRelease(engine: Engine, version: string, range: DateRange, ctx: QueryContext): Promise<ReleaseSplit> {
  const target = parseReleaseVersion(version);
  const [r] = await engine.runMany([buildVersionDaysQuery(range)] as never, ctx);
  const first = firstReleaseDay(r!.results, target);
  if (!first) {
    throw new UsageError(
      `--release: no event in ${range.date_from ?? ''} → ${range.date_to ?? 'today'} has ${taxonomy().cluster.properties.teleportVersion} ${target} or later`,
      'Widen the range with --from/--to, or give --before and --after dates.',
    );
  }
  const rangeStart = ((r!.results as DaySeries[])[0]?.days ?? [])[0]?.slice(0, 10);
  if (rangeStart && first.day <= rangeStart) {
    throw new UsageError(
      `--release: ${first.version} was already out on ${first.day}, the first day of the range: nothing comes before it`,
      'Start the range earlier with --from.',
    );
  }
  const dayBefore = format(subDays(parseISO(first.day), 1), 'yyyy-MM-dd');
  return {
    version: target,
    firstSeenVersion: first.version,
    day: first.day,
    before: { date_from: range.date_from, date_to: dayBefore },
    after: { date_from: first.day, date_to: range.date_to },
  };
}
