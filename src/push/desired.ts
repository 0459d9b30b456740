/**
 * What `push` keeps in a PostHog project: one saved insight per definition in this repository
 * (each Discover track's funnel, time to first resource, the Connect trends and the growth
 * queries), all on one dashboard. Each insight carries a stable key in its description, so a
 * later push finds it again even when tags are unavailable (tags need a paid PostHog plan).
 * Ranges are relative, so the saved insights stay current.
 */
import { taxonomy } from '../events/taxonomy.js';
import { buildTimeToFirstQuery, buildTrackFunnelQuery, loadTracks } from '../definitions/discover.js';
import { buildDauQuery, buildFeatureTotalsQuery, buildPlatformQuery, loadConnectDefinitions } from '../definitions/connect.js';
import { buildLifecycleQuery, buildRetentionQuery, buildStickinessQuery } from '../definitions/connect-growth.js';

export const MANAGED_TAG = 'discover-metrics';
const KEY_MARK = 'discover-metrics key:';

export interface DesiredInsight {
  key: string;
  name: string;
  description: string;
  /** PostHog's saved-insight query: an InsightVizNode around the insight query */
  query: { kind: 'InsightVizNode'; source: Record<string, unknown> };
  tags: string[];
}

export interface DesiredDashboard {
  key: string;
  name: string;
  description: string;
  tags: string[];
}

/** "<text>\n\nManaged by discover-metrics … (discover-metrics key: <key>)" */
export function managedDescription(text: string, key: string): string {
  return `${text}\n\nManaged by \`discover-metrics push\`: edits here are overwritten on the next push. (${KEY_MARK} ${key})`;
}

/** The key of an object push created, or undefined for anything else. */
export function keyOf(description: unknown): string | undefined {
  if (typeof description !== 'string') return undefined;
  const m = /\(discover-metrics key: ([^)\s]+)\)\s*$/.exec(description);
  return m?.[1];
}

function insight(key: string, area: 'discover' | 'connect', name: string, text: string, source: Record<string, unknown>): DesiredInsight {
  return { key, name, description: managedDescription(text, key), query: { kind: 'InsightVizNode', source }, tags: [MANAGED_TAG, area] };
}

export function desiredDashboard(name = 'Teleport Discover & Connect (discover-metrics)'): DesiredDashboard {
  return {
    key: 'dashboard',
    name,
    description: managedDescription('Discover wizard funnels (RFD 0094) and Teleport Connect usage (RFD 97), kept as code in the discover-metrics repository.', 'dashboard'),
    tags: [MANAGED_TAG],
  };
}

/** Every insight the repository's definitions produce, in a stable order. */
export function desiredInsights(): DesiredInsight[] {
  const out: DesiredInsight[] = [];
  const window = { funnelWindowInterval: 1, funnelWindowIntervalUnit: 'day' as const };
  const last30 = { date_from: '-30d', date_to: null };
  for (const t of loadTracks()) {
    const source = buildTrackFunnelQuery(t, { dateRange: last30, window, order: 'ordered', deployment: 'cloud' });
    out.push(insight(`discover/funnel/${t.slug}`, 'discover', `Discover funnel: ${t.title}`, `Wizard sessions of the ${t.slug} track, step by step (queries/discover/${t.slug}.json), last 30 days.`, source));
  }
  out.push(
    insight(
      'discover/time-to-first-resource',
      'discover',
      'Discover: time to first resource',
      'Per account, from signup to the first successfully added resource (90-day window), last 90 days.',
      buildTimeToFirstQuery({
        dateRange: { date_from: '-90d', date_to: null },
        window: { funnelWindowInterval: 90, funnelWindowIntervalUnit: 'day' },
        signupEvent: taxonomy().discover.signupEvent,
        vizType: 'time_to_convert',
      }),
    ),
  );
  const defs = loadConnectDefinitions();
  out.push(
    insight('connect/dau', 'connect', 'Connect: active installations per day', 'Installations that sent any Connect event, per day, last 30 days.', buildDauQuery(defs, { dateRange: last30, interval: 'day', math: 'dau' }) as Record<string, unknown>),
    insight('connect/wau', 'connect', 'Connect: weekly active installations', 'Installations active in the 7 days ending each day, last 90 days.', buildDauQuery(defs, { dateRange: { date_from: '-90d', date_to: null }, interval: 'day', math: 'wau' }) as Record<string, unknown>),
    insight('connect/features', 'connect', 'Connect: feature usage', 'Installations and events per Connect feature, last 30 days.', buildFeatureTotalsQuery(defs, last30) as Record<string, unknown>),
  );
  for (const d of defs.dimensions) {
    out.push(insight(`connect/platforms/${d.key}`, 'connect', `Connect: installations by ${d.title.toLowerCase()}`, `Active installations per ${d.title.toLowerCase()}, last 30 days.`, buildPlatformQuery(defs, d, last30) as Record<string, unknown>));
  }
  out.push(
    insight('connect/lifecycle', 'connect', 'Connect: installation lifecycle', 'New, returning, resurrecting and dormant installations per week, last 12 weeks.', buildLifecycleQuery(defs, { dateRange: { date_from: '-12w', date_to: null }, interval: 'week' }) as Record<string, unknown>),
    insight(
      'connect/retention',
      'connect',
      'Connect: retention of new installations',
      'Weekly cohorts of installations by their first Connect event, and the share active again in later weeks (8 weeks).',
      buildRetentionQuery(defs, { dateRange: { date_from: null, date_to: null }, period: 'week', intervals: 8, kind: 'first_time' }) as Record<string, unknown>,
    ),
    insight('connect/stickiness', 'connect', 'Connect: active days per installation', 'On how many of the last 7 whole days each installation was active.', buildStickinessQuery(defs, { dateRange: { date_from: '-7d', date_to: '-1d' }, interval: 'day' }) as Record<string, unknown>),
  );
  return out;
}
