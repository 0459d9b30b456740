/**
 * The digest's data: every RFD 0094 (Discover) and RFD 97 (Connect) question for a range, next
 * to the same answers for the period of equal length just before it, and the changes worth
 * reading first. Built only from the report functions the single commands use, so a digest
 * always agrees with them. Returns data; src/digest/html.ts and markdown.ts render it.
 */
import { format } from 'date-fns/format';
import { parseISO } from 'date-fns/parseISO';
import { subDays } from 'date-fns/subDays';
import { differenceInCalendarDays } from 'date-fns/differenceInCalendarDays';
import type { Engine, QueryContext } from '../engines/types.js';
import { loadTracks, type TrackFunnelOptions } from '../definitions/discover.js';
import { taxonomy } from '../events/taxonomy.js';
import { resolveDateRange, periodOf } from '../time/index.js';
import { compareTracks, type TrackComparison } from '../discover/compare.js';
import { funnelTrends, type TrendRow } from '../discover/trend.js';
import { stepTimes, type StepTimeRow } from '../discover/steps.js';
import { failures, type ErrorMessageRow, type StepFailureRow } from '../discover/failures.js';
import { timeToFirst } from '../discover/ttfr.js';
import { loadConnectDefinitions } from '../definitions/connect.js';
import { runDauReport, runFeaturesReport, runPlatformsReport } from '../connect/reports.js';
import { adoption } from '../adoption/index.js';
import { compareProportions, type ProportionTest } from '../stats/proportions.js';
import type { DateRange } from '../query/schema.js';

export interface DayRange {
  from: string;
  to: string;
}

export interface Change<T = number | null> {
  current: T;
  previous: T;
}

export interface Digest {
  range: DayRange;
  previous: DayRange;
  engine: Engine['name'];
  timezone: string;
  highlights: Highlight[];
  discover: {
    overall: { current: { sessions: number; completed: number; rate: number }; previous: { sessions: number; completed: number; rate: number }; test: ProportionTest };
    tracks: (TrackComparison & { trend: TrendRow[] })[];
    timeToFirstResource: { median: Change; p90: Change; accounts: Change<number>; converted: Change<number>; from: string };
    slowestSteps: StepTimeRow[];
    failingSteps: StepFailureRow[];
    topErrors: (ErrorMessageRow & { previousErrors: number | null; isNew: boolean })[];
  };
  connect: {
    activeByDay: { days: string[]; current: number[]; previous: number[] };
    averageActive: Change;
    activeInRange: Change<number>;
    features: { key: string; title: string; installations: number; share: number | null; previousShare: number | null }[];
    platforms: { title: string; values: { label: string; installations: number; share: number | null }[] }[];
    adoption: { platform: string; downloads: number; newInstallations: number; ratio: number | null; previousDownloads: number; previousNewInstallations: number }[];
  };
}

export interface Highlight {
  kind: 'good' | 'bad' | 'neutral';
  text: string;
}

const day = (ms: number, tz: string) => periodOf(ms, { interval: 'day', timezone: tz, weekStart: 0 });

/** The range as local days, and the period of the same number of days right before it. */
export function digestRanges(dateRange: DateRange, ctx: QueryContext): { range: DayRange; previous: DayRange } {
  const r = resolveDateRange({ ...dateRange }, 'day', ctx, { where: '--from/--to' });
  const from = day(r.from.getTime(), ctx.timezone);
  const to = day(r.to.getTime(), ctx.timezone);
  const days = differenceInCalendarDays(parseISO(to), parseISO(from)) + 1;
  const prevTo = format(subDays(parseISO(from), 1), 'yyyy-MM-dd');
  const prevFrom = format(subDays(parseISO(from), days), 'yyyy-MM-dd');
  return { range: { from, to }, previous: { from: prevFrom, to: prevTo } };
}

const asRange = (r: DayRange): DateRange => ({ date_from: r.from, date_to: r.to });
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export async function collectDigest(
  engine: Engine,
  o: { dateRange: DateRange; shape: Omit<TrackFunnelOptions, 'dateRange'> },
  ctx: QueryContext,
): Promise<Digest> {
  const { range, previous } = digestRanges(o.dateRange, ctx);
  const cur = asRange(range);
  const prev = asRange(previous);
  const tracks = loadTracks();
  const shape = { ...o.shape, breakdown: undefined, steps: undefined };

  const { tracks: compared } = await compareTracks(engine, tracks, shape, { before: prev, after: cur }, ctx);
  const trends = await funnelTrends(engine, tracks, { ...shape, dateRange: cur }, 'week', ctx);
  const steps = await stepTimes(engine, tracks, { ...shape, dateRange: cur }, ctx);
  const fails = await failures(engine, tracks, { dateRange: cur, deployment: shape.deployment, top: 10, all: true }, ctx);
  const prevFails = await failures(engine, tracks, { dateRange: prev, deployment: shape.deployment, top: 50, all: true }, ctx);
  const ttfrOpts = { window: { funnelWindowInterval: 90, funnelWindowIntervalUnit: 'day' as const }, signupEvent: taxonomy().discover.signupEvent, wizard: false };
  const ttfr = await timeToFirst(engine, { ...ttfrOpts, dateRange: cur }, ctx);
  const ttfrPrev = await timeToFirst(engine, { ...ttfrOpts, dateRange: prev }, ctx);

  const defs = loadConnectDefinitions();
  const dau = await runDauReport(engine, defs, { dateRange: cur, interval: 'day', math: 'dau', compare: true }, ctx);
  const currentSeries = dau.series.find((s) => s.compare !== 'previous');
  const previousSeries = dau.series.find((s) => s.compare === 'previous');
  const features = await runFeaturesReport(engine, defs, cur, ctx);
  const prevFeatures = await runFeaturesReport(engine, defs, prev, ctx);
  const platforms = await runPlatformsReport(engine, defs, cur, ctx);
  const adopt = await adoption(engine, { interval: 'month', dateRange: cur, ctx });
  const prevAdopt = await adoption(engine, { interval: 'month', dateRange: prev, ctx });

  const sum = (f: (t: TrackComparison) => number) => compared.reduce((s, t) => s + f(t), 0);
  const overallCur = { sessions: sum((t) => t.after.sessions), completed: sum((t) => t.after.completed), rate: 0 };
  const overallPrev = { sessions: sum((t) => t.before.sessions), completed: sum((t) => t.before.completed), rate: 0 };
  overallCur.rate = overallCur.sessions ? overallCur.completed / overallCur.sessions : 0;
  overallPrev.rate = overallPrev.sessions ? overallPrev.completed / overallPrev.sessions : 0;
  const overallTest = compareProportions({ x: overallPrev.completed, n: overallPrev.sessions }, { x: overallCur.completed, n: overallCur.sessions });

  const prevErrors = new Map(prevFails.topErrors.map((e) => [e.message, e.errors]));
  // the catch-all buckets are not messages: they are never "new"
  const bucket = (m: string) => m.startsWith('(') && m.endsWith(')');
  const topErrors = fails.topErrors.slice(0, 8).map((e) => ({
    ...e,
    previousErrors: bucket(e.message) ? null : (prevErrors.get(e.message) ?? 0),
    isNew: !bucket(e.message) && !prevErrors.has(e.message),
  }));
  const prevShare = new Map(prevFeatures.features.map((f) => [f.key, f.share]));
  const prevAdoptBy = new Map(prevAdopt.totals.map((t) => [t.platform, t]));

  const digest: Digest = {
    range,
    previous,
    engine: engine.name,
    timezone: ctx.timezone,
    highlights: [],
    discover: {
      overall: { current: overallCur, previous: overallPrev, test: overallTest },
      tracks: compared.map((t) => ({ ...t, trend: trends.get(t.slug) ?? [] })).sort((a, b) => b.after.sessions - a.after.sessions || a.slug.localeCompare(b.slug)),
      timeToFirstResource: {
        median: { current: ttfr.medianSeconds, previous: ttfrPrev.medianSeconds },
        p90: { current: ttfr.p90Seconds, previous: ttfrPrev.p90Seconds },
        accounts: { current: ttfr.entered, previous: ttfrPrev.entered },
        converted: { current: ttfr.converted, previous: ttfrPrev.converted },
        from: ttfr.from,
      },
      slowestSteps: steps.filter((s) => s.medianSeconds !== null && s.sessions >= 5).sort((a, b) => b.medianSeconds! - a.medianSeconds!).slice(0, 8),
      failingSteps: fails.steps.filter((s) => s.errors + s.aborted > 0).sort((a, b) => b.errors + b.aborted - (a.errors + a.aborted)).slice(0, 8),
      topErrors,
    },
    connect: {
      activeByDay: { days: currentSeries?.days ?? [], current: currentSeries?.data ?? [], previous: previousSeries?.data ?? [] },
      averageActive: { current: mean(currentSeries?.data ?? []), previous: mean(previousSeries?.data ?? []) },
      activeInRange: { current: features.activeInstallations, previous: prevFeatures.activeInstallations },
      features: features.features.map((f) => ({ key: f.key, title: f.title, installations: f.installations, share: f.share, previousShare: prevShare.get(f.key) ?? null })),
      platforms: platforms.dimensions.map((d) => ({ title: d.title, values: d.values.slice(0, 8).map((v) => ({ label: v.label, installations: v.installations, share: v.share })) })),
      adoption: adopt.totals.map((t) => ({
        platform: t.platform,
        downloads: t.downloads,
        newInstallations: t.newInstallations,
        ratio: t.ratio,
        previousDownloads: prevAdoptBy.get(t.platform)?.downloads ?? 0,
        previousNewInstallations: prevAdoptBy.get(t.platform)?.newInstallations ?? 0,
      })),
    },
  };
  digest.highlights = highlights(digest);
  return digest;
}

/** What changed since the previous period, most important first. */
export function highlights(d: Digest): Highlight[] {
  const out: Highlight[] = [];
  const o = d.discover.overall;
  if (o.previous.sessions > 0 && o.current.sessions > 0) {
    const t = o.test;
    out.push({
      kind: !t.significant ? 'neutral' : t.difference > 0 ? 'good' : 'bad',
      text: t.significant
        ? `Discover completion ${t.difference > 0 ? 'rose' : 'fell'} from ${pct(o.previous.rate)} to ${pct(o.current.rate)} (p ${t.pValue !== null && t.pValue < 0.001 ? '< 0.001' : `= ${t.pValue?.toFixed(3)}`}).`
        : `Discover completion held at ${pct(o.current.rate)} (${pct(o.previous.rate)} before; no significant change).`,
    });
  }
  for (const t of d.discover.tracks) {
    if (t.verdict === 'no detectable change') continue;
    out.push({ kind: t.verdict === 'improved' ? 'good' : 'bad', text: `${t.title}: ${t.summary}` });
  }
  const ttfr = d.discover.timeToFirstResource.median;
  if (ttfr.current !== null && ttfr.previous !== null && ttfr.previous > 0) {
    const r = ttfr.current / ttfr.previous - 1;
    if (Math.abs(r) >= 0.2) out.push({ kind: r < 0 ? 'good' : 'bad', text: `Median time to first resource ${r < 0 ? 'fell' : 'rose'} ${Math.abs(r * 100).toFixed(0)}% since the previous period.` });
  }
  for (const e of d.discover.topErrors.filter((x) => x.isNew && x.errors >= 3).slice(0, 3)) {
    out.push({ kind: 'bad', text: `New error in the top list: “${e.message}” (${e.errors} times, ${e.accounts} accounts).` });
  }
  const a = d.connect.averageActive;
  if (a.current !== null && a.previous !== null && a.previous > 0) {
    const r = a.current / a.previous - 1;
    if (Math.abs(r) >= 0.05) out.push({ kind: r > 0 ? 'good' : 'bad', text: `Teleport Connect daily active installations ${r > 0 ? 'up' : 'down'} ${Math.abs(r * 100).toFixed(0)}% (${a.previous.toFixed(0)} → ${a.current.toFixed(0)} a day on average).` });
  }
  for (const f of d.connect.features) {
    if (f.share === null || f.previousShare === null) continue;
    const diff = f.share - f.previousShare;
    if (Math.abs(diff) >= 0.05) out.push({ kind: diff > 0 ? 'good' : 'bad', text: `Connect ${f.title}: used by ${pct(f.share)} of active installations (${pct(f.previousShare)} before).` });
  }
  const dl = d.connect.adoption.reduce((s, x) => s + x.downloads, 0);
  const dlPrev = d.connect.adoption.reduce((s, x) => s + x.previousDownloads, 0);
  if (dlPrev > 0) {
    const r = dl / dlPrev - 1;
    if (Math.abs(r) >= 0.1) out.push({ kind: r > 0 ? 'good' : 'bad', text: `Connect installer downloads ${r > 0 ? 'up' : 'down'} ${Math.abs(r * 100).toFixed(0)}% (${dlPrev} → ${dl}).` });
  }
  if (out.length === 0) out.push({ kind: 'neutral', text: 'Nothing changed significantly since the previous period.' });
  return out;
}
