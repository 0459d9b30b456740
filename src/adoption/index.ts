/**
 * Connect adoption (RFD 97 "how many users download and use Teleport Connect", "which platforms
 * are most popular"): per period and platform, installer downloads next to newly active and
 * active Connect installations, and the ratio new installations / downloads.
 *
 * Installations come from TrendsQuery objects run through the Engine (local or PostHog):
 *  - active: math `dau` over any event of a Connect installation (distinct_id prefix from the
 *    taxonomy), per period — distinct installations seen in the period;
 *  - new: math `first_time_for_user` — installations whose first Connect event falls in the period;
 *  both broken down by the person property connect.os (Electron's darwin/win32/linux).
 * Downloads come from the download events in the store (TrendsQuery total on the download event,
 * split by platform and kind) or straight from CloudFront logs.
 */
import { taxonomy } from '../events/taxonomy.js';
import type { Engine, PostHogQuery, QueryContext, QueryResponse } from '../engines/types.js';
import { PLATFORMS, platformOfOs, type Platform } from '../downloads/artifacts.js';
import type { Download } from '../downloads/count.js';
import { isIncompletePeriod, periodOf, periodsBetween, startOfLocalDay, type PeriodInterval } from '../time/index.js';

export interface AdoptionOptions {
  interval: PeriodInterval;
  dateRange: { date_from: string | null; date_to: string | null };
  ctx: QueryContext;
  /** Count downloads from these (already counted) log downloads instead of store events. */
  logDownloads?: readonly Download[];
}

/** Platform column value: one of the download platforms, or the OS as reported when unmapped. */
export type PlatformKey = Platform | 'unknown' | string;

export interface AdoptionRow {
  period: string;
  platform: PlatformKey;
  /** Fresh installer downloads. */
  downloads: number;
  /** In-app updater fetches (not part of the ratio). */
  updates: number;
  /** Installations first seen in the period. */
  newInstallations: number;
  /** Installations with any event in the period. */
  activeInstallations: number;
  /** newInstallations / downloads; null without downloads. */
  ratio: number | null;
  /** The period is not over at --now (PostHog's incomplete period): its counts can still grow. */
  incomplete: boolean;
}

export interface AdoptionReport {
  interval: PeriodInterval;
  timezone: string;
  dateRange: { date_from: string | null; date_to: string | null };
  resolvedDateRange: { date_from: string; date_to: string } | null;
  downloadsSource: 'store' | 'logs';
  periods: string[];
  /** One row per period and platform (platforms with nothing at all are left out). */
  rows: AdoptionRow[];
  /** Per platform over the whole range (active = distinct installations over the range is not
   *  derivable from per-period counts, so it is the peak period value). */
  totals: (Omit<AdoptionRow, 'period' | 'activeInstallations' | 'incomplete'> & { peakActiveInstallations: number })[];
  queries: { activeInstallations: PostHogQuery; newInstallations: PostHogQuery; downloads?: PostHogQuery };
}

const NULL_BREAKDOWN = '$$_posthog_breakdown_null_$$';
const OTHER_BREAKDOWN = '$$_posthog_breakdown_other_$$';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Property filter selecting Connect installations' events (distinct_id prefix from the taxonomy). */
export function connectFilter(): Record<string, unknown>[] {
  return [{ type: 'event_metadata', key: 'distinct_id', operator: 'regex', value: `^${escapeRegex(taxonomy().connect.distinctIdPrefix)}` }];
}

function osBreakdown(): Record<string, unknown> {
  return { breakdown: taxonomy().connect.personProperties.os, breakdown_type: 'person', breakdown_limit: 25 };
}

export function installationsQuery(math: 'dau' | 'first_time_for_user', o: Pick<AdoptionOptions, 'interval' | 'dateRange'>): PostHogQuery {
  return {
    kind: 'TrendsQuery',
    series: [
      {
        kind: 'EventsNode',
        event: null,
        name: 'All events',
        custom_name: math === 'dau' ? 'Active Connect installations' : 'New Connect installations',
        math,
        properties: connectFilter(),
      },
    ],
    interval: o.interval,
    dateRange: { date_from: o.dateRange.date_from, date_to: o.dateRange.date_to },
    breakdownFilter: osBreakdown(),
    trendsFilter: { display: 'ActionsLineGraph' },
    filterTestAccounts: false,
  };
}

export function downloadsQuery(o: Pick<AdoptionOptions, 'interval' | 'dateRange'>): PostHogQuery {
  const d = taxonomy().downloads;
  const kind = (value: string, name: string) => ({
    kind: 'EventsNode',
    event: d.event,
    name: d.event,
    custom_name: name,
    math: 'total',
    properties: [{ type: 'event', key: d.properties.kind!, operator: 'exact', value: [value] }],
  });
  return {
    kind: 'TrendsQuery',
    series: [kind('install', 'Installer downloads'), kind('update', 'Updater fetches')],
    interval: o.interval,
    dateRange: { date_from: o.dateRange.date_from, date_to: o.dateRange.date_to },
    breakdownFilter: { breakdown: d.properties.platform!, breakdown_type: 'event', breakdown_limit: 25 },
    trendsFilter: { display: 'ActionsLineGraph' },
    filterTestAccounts: false,
  };
}

interface SeriesItem {
  data?: unknown;
  days?: unknown;
  breakdown_value?: unknown;
  action?: { order?: unknown } | null;
}

/** (period → platform → value) per series order from a trends response. */
function collect(resp: QueryResponse, map: (bv: string) => PlatformKey): { periods: string[]; bySeries: Map<number, Map<string, Map<PlatformKey, number>>> } {
  const items = Array.isArray(resp.results) ? (resp.results as SeriesItem[]) : [];
  const periods = new Set<string>();
  const bySeries = new Map<number, Map<string, Map<PlatformKey, number>>>();
  for (const it of items) {
    const days = Array.isArray(it.days) ? it.days.map((x) => String(x).slice(0, 10)) : [];
    const data = Array.isArray(it.data) ? it.data.map(Number) : [];
    const order = typeof it.action?.order === 'number' ? it.action.order : 0;
    const bv = Array.isArray(it.breakdown_value) ? String(it.breakdown_value[0]) : it.breakdown_value == null ? NULL_BREAKDOWN : String(it.breakdown_value);
    const platform = map(bv);
    let s = bySeries.get(order);
    if (!s) bySeries.set(order, (s = new Map()));
    days.forEach((day, i) => {
      periods.add(day);
      let p = s!.get(day);
      if (!p) s!.set(day, (p = new Map()));
      p.set(platform, (p.get(platform) ?? 0) + (data[i] ?? 0));
    });
  }
  return { periods: [...periods].sort(), bySeries };
}

function osToPlatform(bv: string): PlatformKey {
  if (bv === NULL_BREAKDOWN || bv === '') return 'unknown';
  if (bv === OTHER_BREAKDOWN) return 'other';
  return platformOfOs(bv) ?? bv;
}

function downloadPlatform(bv: string): PlatformKey {
  if (bv === NULL_BREAKDOWN || bv === '') return 'unknown';
  if (bv === OTHER_BREAKDOWN) return 'other';
  return bv;
}

/** Run the queries and put downloads next to new and active installations. */
export async function adoption(engine: Engine, o: AdoptionOptions): Promise<AdoptionReport> {
  const activeQ = installationsQuery('dau', o);
  const newQ = installationsQuery('first_time_for_user', o);
  const dlQ = o.logDownloads ? undefined : downloadsQuery(o);
  const responses = await engine.runMany(dlQ ? [activeQ, newQ, dlQ] : [activeQ, newQ], o.ctx);
  const active = collect(responses[0]!, osToPlatform);
  const fresh = collect(responses[1]!, osToPlatform);
  const resolved = readResolved(responses[0]!);
  // Periods: every bucket of the resolved range (a trends series without any breakdown value
  // comes back empty, so the responses alone may not name them all).
  const periodSet = new Set([...active.periods, ...fresh.periods]);
  if (resolved) {
    for (const p of periodsBetween(Date.parse(resolved.date_from), Date.parse(resolved.date_to), { interval: o.interval, timezone: o.ctx.timezone, weekStart: o.ctx.weekStart })) {
      periodSet.add(p);
    }
  }

  const downloads = new Map<string, Map<PlatformKey, number>>();
  const updates = new Map<string, Map<PlatformKey, number>>();
  if (dlQ) {
    const dl = collect(responses[2]!, downloadPlatform);
    for (const p of dl.periods) periodSet.add(p);
    for (const [p, m] of dl.bySeries.get(0) ?? []) downloads.set(p, m);
    for (const [p, m] of dl.bySeries.get(1) ?? []) updates.set(p, m);
  } else {
    // PostHog rounds date_from down to the month's start for month intervals (earlier events in
    // that month count); week intervals count only events from date_from on.
    const po = { interval: o.interval, timezone: o.ctx.timezone, weekStart: o.ctx.weekStart };
    let from = resolved ? Date.parse(resolved.date_from) : -Infinity;
    if (resolved && o.interval === 'month') from = startOfLocalDay(periodOf(from, po), o.ctx.timezone);
    const to = resolved ? Date.parse(resolved.date_to) : Infinity;
    const known = periodSet;
    for (const d of o.logDownloads!) {
      if (d.ts < from || d.ts > to) continue;
      const period = periodOf(d.ts, po);
      if (known.size && !known.has(period)) continue;
      const target = d.kind === 'install' ? downloads : updates;
      let m = target.get(period);
      if (!m) target.set(period, (m = new Map()));
      m.set(d.platform, (m.get(d.platform) ?? 0) + 1);
    }
  }

  const periods = [...periodSet].sort();
  const platformsSeen = new Set<PlatformKey>();
  for (const src of [active.bySeries.get(0), fresh.bySeries.get(0), downloads, updates]) {
    for (const m of src?.values() ?? []) for (const [k, v] of m) if (v > 0) platformsSeen.add(k);
  }
  const platforms = [...PLATFORMS.filter((p) => platformsSeen.has(p)), ...[...platformsSeen].filter((p) => !(PLATFORMS as readonly string[]).includes(p)).sort()];
  const get = (src: Map<string, Map<PlatformKey, number>> | undefined, period: string, platform: PlatformKey) => src?.get(period)?.get(platform) ?? 0;

  const rows: AdoptionRow[] = [];
  for (const period of periods) {
    for (const platform of platforms) {
      const row: AdoptionRow = {
        period,
        platform,
        downloads: get(downloads, period, platform),
        updates: get(updates, period, platform),
        newInstallations: get(fresh.bySeries.get(0), period, platform),
        activeInstallations: get(active.bySeries.get(0), period, platform),
        ratio: null,
        incomplete: isIncompletePeriod(period, o.interval, o.ctx),
      };
      row.ratio = row.downloads > 0 ? row.newInstallations / row.downloads : null;
      rows.push(row);
    }
  }
  const totals = platforms.map((platform) => {
    const mine = rows.filter((r) => r.platform === platform);
    const t = {
      platform,
      downloads: sum(mine.map((r) => r.downloads)),
      updates: sum(mine.map((r) => r.updates)),
      newInstallations: sum(mine.map((r) => r.newInstallations)),
      peakActiveInstallations: Math.max(0, ...mine.map((r) => r.activeInstallations)),
      ratio: null as number | null,
    };
    t.ratio = t.downloads > 0 ? t.newInstallations / t.downloads : null;
    return t;
  });
  return {
    interval: o.interval,
    timezone: o.ctx.timezone,
    dateRange: o.dateRange,
    resolvedDateRange: resolved,
    downloadsSource: o.logDownloads ? 'logs' : 'store',
    periods,
    rows,
    totals,
    queries: { activeInstallations: activeQ, newInstallations: newQ, ...(dlQ ? { downloads: dlQ } : {}) },
  };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function readResolved(r: QueryResponse): { date_from: string; date_to: string } | null {
  const x = r.resolved_date_range as { date_from?: unknown; date_to?: unknown } | undefined;
  if (x && typeof x.date_from === 'string' && typeof x.date_to === 'string') return { date_from: x.date_from, date_to: x.date_to };
  return null;
}
