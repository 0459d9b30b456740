/**
 * `connect-share`: per period, the share of a cluster's active users who used Teleport Connect.
 * Users are (cluster, user) pairs of anonymized names. Connect's pairs join the cluster side's only
 * when both anonymized with the same key; when no Connect pair matches any cluster-side pair the
 * share is unknown (not 0%), and the report says why instead of printing a number.
 */
import type { Engine, QueryContext } from '../engines/types.js';
import type { DateRange } from '../query/schema.js';
import { isIncompletePeriod } from '../time/index.js';
import type { ConnectDefinitions, ReportInterval } from '../definitions/connect.js';
import { buildShareQueries, type ShareDefinition, type ShareQueryOptions } from '../definitions/connect-share.js';
import { NULL_VALUE, OTHER_VALUE } from './reports.js';

export interface SharePeriod {
  period: string;
  label: string;
  /** distinct (cluster, user) pairs active on the cluster side */
  clusterUsers: number;
  /** of those, pairs that also sent Connect events in the period */
  connectUsers: number;
  /** connectUsers / clusterUsers; null when it cannot be known */
  share: number | null;
  /** the period is not over at --now (PostHog's incomplete period) */
  incomplete: boolean;
}

export interface ShareReport {
  title: string;
  engine: string;
  timezone: string;
  dateRange: DateRange;
  interval: ReportInterval;
  periods: SharePeriod[];
  /** Connect pairs seen in the range, and how many of them match a cluster-side pair */
  connectPairs: number;
  matchedPairs: number;
  caveat: string | null;
  queries: unknown[];
}

interface PairItem {
  breakdown_value?: unknown;
  data?: number[];
  days?: string[];
  labels?: string[];
}

interface Side {
  perPeriod: Set<string>[];
  all: Set<string>;
  truncated: boolean;
  days: string[];
  labels: string[];
}

function side(res: { results: unknown }): Side {
  const items = (Array.isArray(res.results) ? res.results : []) as PairItem[];
  const days = items[0]?.days ?? [];
  const out: Side = { perPeriod: days.map(() => new Set()), all: new Set(), truncated: false, days, labels: items[0]?.labels ?? days };
  for (const it of items) {
    const bv = Array.isArray(it.breakdown_value) ? it.breakdown_value.map(String) : [String(it.breakdown_value)];
    if (bv.includes(OTHER_VALUE)) {
      out.truncated = true;
      continue;
    }
    if (bv.includes(NULL_VALUE)) continue;
    const key = JSON.stringify(bv);
    (it.data ?? []).forEach((v, i) => {
      if (v > 0) {
        out.perPeriod[i]?.add(key);
        out.all.add(key);
      }
    });
  }
  return out;
}

export async function runShareReport(engine: Engine, defs: ConnectDefinitions, share: ShareDefinition, o: ShareQueryOptions, ctx: QueryContext): Promise<ShareReport> {
  const queries = buildShareQueries(defs, share, o);
  const [cr, kr] = await engine.runMany(queries, ctx);
  const c = side(cr!);
  const k = side(kr!);
  const matched = [...k.all].filter((p) => c.all.has(p)).length;
  const caveats: string[] = [];
  let known = true;
  if (c.all.size === 0) {
    known = false;
    caveats.push('no cluster-side events with a cluster and a user in the range, so there is nothing to take a share of; load the clusters\' events (user logins, Discover) to compute it');
  } else if (k.all.size > 0 && matched === 0) {
    known = false;
    caveats.push(
      `none of the ${k.all.size} Connect (cluster, user) pairs appears on the cluster side: Connect (tshd) anonymizes with the root cluster's id, and these clusters anonymize with another key (a cloud or license key), so the hashes cannot be joined and the share is unknown, not 0%`,
    );
  } else if (matched < k.all.size) {
    caveats.push(
      `${k.all.size - matched} of ${k.all.size} Connect (cluster, user) pairs match no cluster-side pair (clusters that anonymize with another key, or users not active on the cluster side); they are left out, so the share is a lower bound`,
    );
  }
  if (c.truncated || k.truncated) caveats.push(`more than ${share.maxPairs} (cluster, user) pairs: the pairs beyond that were not compared, so the counts are lower bounds`);
  const axis = c.days.length ? c : k;
  const periods = axis.days.map((day, i) => {
    const cs = c.perPeriod[i] ?? new Set<string>();
    const ks = k.perPeriod[i] ?? new Set<string>();
    const connectUsers = [...ks].filter((p) => cs.has(p)).length;
    return { period: day, label: axis.labels[i] ?? day, clusterUsers: cs.size, connectUsers, share: known && cs.size > 0 ? connectUsers / cs.size : null, incomplete: isIncompletePeriod(day, o.interval, ctx) };
  });
  return {
    title: share.title,
    engine: engine.name,
    timezone: ctx.timezone,
    dateRange: o.dateRange,
    interval: o.interval,
    periods,
    connectPairs: k.all.size,
    matchedPairs: matched,
    caveat: caveats.length ? caveats.join('; ') : null,
    queries,
  };
}
