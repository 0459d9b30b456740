/**
 * SQL for the local trends engine: per (interval bucket, breakdown value) aggregates for one
 * series over one date range, following PostHog's query builder for each math.
 *
 * Speed notes (10M events must take well under a second):
 *  - Buckets are computed on integers: the team-local wall clock is epoch microseconds plus the
 *    zone's UTC offset, looked up from the offset transitions inside the queried span (computed
 *    once in JS), so no per-row ICU time zone conversion runs.
 *  - Person-property breakdowns are "bound late" when nothing else needs persons: events are first
 *    reduced per actor (distinct (bucket, person), counts per person, first times...) and only
 *    the reduced rows are joined to the persons' pre-extracted values (one value per person).
 */
import type { Store } from '../../../store/store.js';
import { jsonPath, propertySql, sqlString, stringInSql } from '../../../store/sql.js';
import { UsageError } from '../../../errors.js';
import { propertyFiltersSql, usesPersonProperties } from '../filters.js';
import { toInstant, US_DAY, US_HOUR, US_MINUTE, type TrendsDateRange, type Interval as TrendsInterval } from '../../../time/index.js';
import { bucketUsSql, localUsSql, offsetSegments, ts } from './local-time-sql.js';
import { breakdownRawSql, isPersonPart, withNullLabel, type BreakdownSpec, type BreakdownValue } from './breakdown.js';

export interface SeriesNode {
  kind: string;
  event?: string | null;
  name?: string | null;
  custom_name?: string | null;
  math?: string | null;
  math_property?: string | null;
  math_property_type?: string | null;
  math_hogql?: string | null;
  math_group_type_index?: number | null;
  properties?: unknown;
  [k: string]: unknown;
}

export interface SqlPlan {
  properties: unknown;
  timezone: string;
  weekStart: 0 | 1;
  totalValue: boolean;
  cumulative: boolean;
  breakdown?: BreakdownSpec;
}

export interface Row {
  bucket: number | null;
  bv: BreakdownValue | null;
  value: number;
}

export const PROPERTY_MATH: Record<string, string> = {
  sum: 'sum',
  avg: 'avg',
  min: 'min',
  max: 'max',
  median: 'q:0.5',
  p75: 'q:0.75',
  p90: 'q:0.9',
  p95: 'q:0.95',
  p99: 'q:0.99',
};
export const COUNT_PER_ACTOR_MATH: Record<string, string> = {
  avg_count_per_actor: 'avg',
  min_count_per_actor: 'min',
  max_count_per_actor: 'max',
  median_count_per_actor: 'q:0.5',
  p75_count_per_actor: 'q:0.75',
  p90_count_per_actor: 'q:0.9',
  p95_count_per_actor: 'q:0.95',
  p99_count_per_actor: 'q:0.99',
};
export const ACTIVE_MATH: Record<string, number> = { weekly_active: 7, monthly_active: 30 };
export const FIRST_TIME_MATH = ['first_time_for_user', 'first_matching_event_for_user'];

// ---------------------------------------------------------------------------------------------
// scans

interface Scan {
  /** FROM clause (events e, maybe joined to persons p) */
  from: string;
  /** property filter conditions */
  conds: string[];
  eventCond?: string;
  /** per-event breakdown value columns (with the null label) — empty when bound late */
  bvCols: string[];
  /** late binding: persons subquery and the breakdown columns read from alias pb */
  late?: { persons: string; bvCols: string[] };
  nBv: number;
  multiple: boolean;
}

/** Persons with the breakdown's person-level raw values pre-extracted as pbv<i>. */
function personsSubquery(store: Store, spec: BreakdownSpec | undefined): string {
  const cols = (spec?.parts ?? []).map((p, i) => (isPersonPart(p) ? `, ${breakdownRawSql(store, p)} AS pbv${i}` : '')).join('');
  return `(SELECT p.id, p.properties${cols} FROM persons p)`;
}

function scanFor(store: Store, plan: SqlPlan, s: SeriesNode, seriesIndex: number, allowLate: boolean): Scan {
  const spec = plan.breakdown;
  const personFilters =
    usesPersonProperties(plan.properties) ||
    usesPersonProperties(s.properties) ||
    (s.math_property_type === 'person_properties' && !!s.math_property) ||
    (s.math === 'hogql' && /person\.properties\./.test(s.math_hogql ?? ''));
  const personBreakdown = !!spec?.parts.some(isPersonPart);
  const allPerson = !!spec && spec.parts.every(isPersonPart);
  const late = allowLate && allPerson && !personFilters;
  const needJoin = personFilters || (personBreakdown && !late);
  const from = needJoin ? `events e LEFT JOIN ${personsSubquery(store, spec)} p ON p.id = e.person_id` : 'events e';
  const env = { store, eventAlias: 'e', personAlias: 'p' };
  const conds: string[] = [];
  const g = propertyFiltersSql(plan.properties, { ...env, where: 'query.properties' });
  if (g !== 'TRUE') conds.push(g);
  const sp = propertyFiltersSql(s.properties, { ...env, where: `query.series[${seriesIndex}].properties` });
  if (sp !== 'TRUE') conds.push(sp);
  const eventCond = typeof s.event === 'string' ? `e.event = ${sqlString(s.event)}` : undefined;
  const parts = spec?.parts ?? [];
  const scan: Scan = { from, conds, eventCond, bvCols: [], nBv: parts.length, multiple: !!spec?.multiple };
  if (late) scan.late = { persons: personsSubquery(store, spec), bvCols: parts.map((_, i) => withNullLabel(`pb.pbv${i}`)) };
  else scan.bvCols = parts.map((p, i) => withNullLabel(isPersonPart(p) ? `p.pbv${i}` : breakdownRawSql(store, p)));
  return scan;
}

function where(scan: Scan, lower: string | undefined, upper: string): string {
  return [...(lower ? [`e.timestamp >= ${lower}`] : []), `e.timestamp <= ${upper}`, ...(scan.eventCond ? [scan.eventCond] : []), ...scan.conds].join(' AND ');
}

const bvNames = (n: number) => Array.from({ length: n }, (_, i) => `bv${i}`);

function aggSql(fn: string, x: string): string {
  if (fn.startsWith('q:')) return `coalesce(quantile_cont(${x}, ${fn.slice(2)}), 0)`;
  return `coalesce(${fn}(${x}), 0)`;
}

function jsonKeySql(alias: string, key: string): string {
  return `json_extract_string(${alias}.properties, ${sqlString(jsonPath(key))})`;
}

function mathPropertySql(store: Store, s: SeriesNode): string {
  const key = s.math_property!;
  if (s.math_property_type === 'person_properties') return `TRY_CAST(${jsonKeySql('p', key)} AS DOUBLE)`;
  if (key === '$time') return 'epoch(e.timestamp)';
  return `TRY_CAST(${propertySql(store, key, 'e')} AS DOUBLE)`;
}

async function readRows(store: Store, sql: string, hasBucket: boolean, nBv: number, multiple: boolean): Promise<Row[]> {
  const r = await store.conn.runAndReadAll(sql);
  return r.getRows().map((row) => {
    let i = 0;
    const bucket = hasBucket ? Number(row[i++]) : null;
    let bv: BreakdownValue | null = null;
    if (nBv > 0) {
      const vals = row.slice(i, i + nBv).map((v) => String(v));
      i += nBv;
      bv = multiple ? vals : vals[0]!;
    }
    const v = row[i];
    return { bucket, bv, value: v === null || v === undefined ? 0 : Number(v) };
  });
}

/**
 * `SELECT [b,] bv..., <value>` over per-actor rows `d` (columns [b,] actor, extra): late-bound
 * breakdown values are joined here.
 */
function overActors(scan: Scan, d: string, hasB: boolean, value: string): string {
  const names = bvNames(scan.nBv);
  const group = [...(hasB ? ['b'] : []), ...names];
  if (scan.late) {
    const sel = [...(hasB ? ['d.b AS b'] : []), ...scan.late.bvCols.map((c, i) => `${c} AS bv${i}`), value].join(', ');
    return `SELECT ${sel} FROM (${d}) d LEFT JOIN ${scan.late.persons} pb ON pb.id = d.actor${group.length ? ` GROUP BY ${group.join(', ')}` : ''}`;
  }
  const sel = [...group, value].join(', ');
  return `SELECT ${sel} FROM (${d}) d${group.length ? ` GROUP BY ${group.join(', ')}` : ''}`;
}

/** Rows (bucket, breakdown value, value) for one series over one date range. */
export async function seriesRows(store: Store, plan: SqlPlan, s: SeriesNode, seriesIndex: number, range: TrendsDateRange): Promise<Row[]> {
  const tz = plan.timezone;
  const math = s.math ?? 'total';
  if (ACTIVE_MATH[math]) return activeUsersRows(store, plan, s, seriesIndex, range, ACTIVE_MATH[math]!);
  if (FIRST_TIME_MATH.includes(math)) return firstTimeRows(store, plan, s, seriesIndex, range);

  const actorLevel = math === 'dau' || !!COUNT_PER_ACTOR_MATH[math];
  const scan = scanFor(store, plan, s, seriesIndex, actorLevel);
  const lowerNaive = range.adjustedDateFrom();
  const upperNaive = range.dateTo();
  const w = where(scan, ts(lowerNaive, tz), ts(upperNaive, tz));
  const segs = offsetSegments(toInstant(lowerNaive, tz), toInstant(upperNaive, tz), tz);
  const bucket = bucketUsSql(localUsSql('e.timestamp', segs), range.interval, plan.weekStart);
  const hasB = !plan.totalValue;
  const bCol = hasB ? [`${bucket} AS b`] : [];
  const bvSel = scan.bvCols.map((c, i) => `${c} AS bv${i}`);
  const names = bvNames(scan.nBv);
  const keyCols = [...(hasB ? ['b'] : []), ...names];
  const read = (sql: string) => readRows(store, sql, hasB, scan.nBv, scan.multiple);

  if (math === 'dau') {
    if (hasB && !plan.cumulative) return dauByBitmask(store, scan, w, localUsSql('e.timestamp', segs), range, plan.weekStart);
    if (hasB && plan.cumulative) {
      // cumulative unique users: each actor counts once, in the first interval it is seen
      const firsts = `SELECT e.person_id AS actor${bvSel.map((c) => `, ${c}`).join('')}, min(${bucket}) AS b FROM ${scan.from} WHERE ${w} GROUP BY actor${names.map((n) => `, ${n}`).join('')}`;
      return read(overActors(scan, firsts, true, 'count(*)'));
    }
    const d = `SELECT DISTINCT ${[...bCol, 'e.person_id AS actor', ...bvSel].join(', ')} FROM ${scan.from} WHERE ${w}`;
    return read(overActors(scan, d, hasB, 'count(*)'));
  }
  if (math === 'total') {
    return read(`SELECT ${[...bCol, ...bvSel, 'count(*)'].join(', ')} FROM ${scan.from} WHERE ${w}${keyCols.length ? ` GROUP BY ${keyCols.join(', ')}` : ''}`);
  }
  if (COUNT_PER_ACTOR_MATH[math]) {
    const fn = COUNT_PER_ACTOR_MATH[math]!;
    const d = `SELECT ${[...bCol, 'e.person_id AS actor', ...bvSel].join(', ')}, count(*) AS c FROM ${scan.from} WHERE ${w} GROUP BY ${[...(hasB ? ['b'] : []), 'actor', ...names].join(', ')}`;
    return read(overActors(scan, d, hasB, aggSql(fn, 'c')));
  }
  let value: string;
  let extra: string;
  if (math === 'unique_session') {
    // $session_id is a non-nullable column in PostHog: a missing id counts as the '' session
    value = "count(DISTINCT coalesce(sid, ''))";
    extra = `${propertySql(store, '$session_id', 'e')} AS sid`;
  } else if (math === 'hogql') {
    const h = hogqlAggregation(store, s.math_hogql ?? '', `query.series[${seriesIndex}].math_hogql`);
    value = h.value;
    extra = `${h.arg} AS mp`;
  } else {
    value = aggSql(PROPERTY_MATH[math]!, 'mp');
    extra = `${mathPropertySql(store, s)} AS mp`;
  }
  const inner = `SELECT ${[...bCol, ...bvSel, extra].join(', ')} FROM ${scan.from} WHERE ${w}`;
  return read(`SELECT ${[...keyCols, value].join(', ')} FROM (${inner})${keyCols.length ? ` GROUP BY ${keyCols.join(', ')}` : ''}`);
}

/**
 * The HogQL aggregations the local engine evaluates for `math: "hogql"`: count(), and
 * count(distinct x) / sum / avg / min / max over an event field or a (person) property, where
 * properties are read as numbers like PostHog's numeric property definitions make them.
 */
export function hogqlAggregation(store: Store, text: string, where: string): { value: string; arg: string } {
  const m = /^\s*(count|sum|avg|min|max)\s*\(\s*(distinct\s+)?(.*?)\s*\)\s*$/i.exec(text);
  const unsupported = (): never => {
    throw new UsageError(
      `${where}: the local engine evaluates only simple HogQL aggregations (count(), count(distinct x), sum/avg/min/max(properties.x)), not '${text}'`,
      'Run it with --engine posthog.',
    );
  };
  if (!m) unsupported();
  const fn = m![1]!.toLowerCase();
  const distinct = !!m![2];
  const argText = m![3]!;
  if (fn === 'count' && !distinct && (argText === '' || argText === '*')) return { value: 'count(*)', arg: '1' };
  let field: string | undefined;
  let numeric = true;
  let pm = /^properties\.(?:"([^"]+)"|`([^`]+)`|([\w$.-]+))$/.exec(argText);
  if (pm) field = propertySql(store, (pm[1] ?? pm[2] ?? pm[3])!, 'e');
  pm = field ? null : /^person\.properties\.(?:"([^"]+)"|`([^`]+)`|([\w$.-]+))$/.exec(argText);
  if (pm) field = jsonKeySql('p', (pm[1] ?? pm[2] ?? pm[3])!);
  if (!field && ['person_id', 'distinct_id', 'event', 'uuid'].includes(argText)) {
    field = argText === 'uuid' ? 'CAST(e.uuid AS VARCHAR)' : `e.${argText}`;
    numeric = false;
  }
  if (!field) unsupported();
  if (fn === 'count') return { value: distinct ? 'count(DISTINCT mp)' : 'count(mp)', arg: field! };
  if (!numeric || distinct) unsupported();
  return { value: `coalesce(${fn}(mp), 0)`, arg: `TRY_CAST(${field} AS DOUBLE)` };
}

/**
 * Total-value rows for several series at once: series with the same property filters whose math
 * is total or dau are answered by one scan grouped by event (and breakdown value), instead of one
 * scan each — the same numbers, as each series' rows are exactly its own event's groups.
 * Returns rows per series index; series it cannot combine are left out.
 */
export async function sharedTotalValueRows(
  store: Store,
  plan: SqlPlan,
  series: { s: SeriesNode; index: number }[],
  range: TrendsDateRange,
): Promise<Map<number, Row[]>> {
  const out = new Map<number, Row[]>();
  if (!plan.totalValue) return out;
  const groups = new Map<string, { s: SeriesNode; index: number }[]>();
  for (const x of series) {
    const math = x.s.math ?? 'total';
    if ((math !== 'total' && math !== 'dau') || typeof x.s.event !== 'string') continue;
    const key = JSON.stringify(x.s.properties ?? null);
    groups.set(key, [...(groups.get(key) ?? []), x]);
  }
  const tz = plan.timezone;
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const first = members[0]!;
    const scan = scanFor(store, plan, first.s, first.index, false);
    const events = [...new Set(members.map((m) => m.s.event as string))];
    const w = [
      `e.timestamp >= ${ts(range.adjustedDateFrom(), tz)}`,
      `e.timestamp <= ${ts(range.dateTo(), tz)}`,
      stringInSql('e.event', events),
      ...scan.conds,
    ].join(' AND ');
    const names = bvNames(scan.nBv);
    const sel = ['e.event AS ev', ...scan.bvCols.map((c, i) => `${c} AS bv${i}`)];
    const sql = `SELECT ${[...sel, 'count(*)', 'count(DISTINCT e.person_id)'].join(', ')} FROM ${scan.from} WHERE ${w} GROUP BY ${['ev', ...names].join(', ')}`;
    const r = await store.conn.runAndReadAll(sql);
    for (const m of members) out.set(m.index, []);
    for (const row of r.getRows()) {
      const ev = String(row[0]);
      const vals = row.slice(1, 1 + scan.nBv).map((v) => String(v));
      const bv: BreakdownValue | null = scan.nBv === 0 ? null : scan.multiple ? vals : vals[0]!;
      const total = Number(row[1 + scan.nBv]);
      const dau = Number(row[2 + scan.nBv]);
      for (const m of members) {
        if (m.s.event !== ev) continue;
        out.get(m.index)!.push({ bucket: null, bv, value: (m.s.math ?? 'total') === 'dau' ? dau : total });
      }
    }
  }
  return out;
}

/** Bits per mask word: BIGINT keeps shifts cheap (no unsigned/HUGEINT arithmetic). */
const MASK_BITS = 62;
/** Most mask words the WAU/MAU window path keeps per actor (992 buckets incl. the look-back). */
const MAX_WINDOW_WORDS = 16;

/** SQL (INTEGER >= 0) for the index of an event's bucket among range.allValues(). */
function bucketIndexSql(local: string, interval: TrendsInterval, first: number, weekStart: 0 | 1): string {
  if (interval === 'month') {
    const d = new Date(Math.floor(first / 1000));
    const base = d.getUTCFullYear() * 12 + d.getUTCMonth();
    return `((year(make_timestamp(${local})) * 12 + month(make_timestamp(${local})) - 1) - ${base})`;
  }
  if (interval !== 'week') {
    // buckets are whole multiples of the width: index = floor(t / width) - floor(first / width)
    const width = interval === 'minute' ? US_MINUTE : interval === 'hour' ? US_HOUR : US_DAY;
    return `((${local}) // ${width} - ${Math.floor(first / width)})`;
  }
  return `((${bucketUsSql(local, interval, weekStart)} - ${first}) // ${7 * US_DAY})`;
}

/**
 * Unique actors per bucket (dau time series). Instead of hashing every distinct (bucket, actor)
 * pair, each actor's active buckets are folded into 62-bit masks (GROUP BY actor: a small hash
 * table), breakdown values are attached to those few rows, and the buckets' counts are the
 * per-bit sums. Same numbers as count(DISTINCT actor) per bucket, several times faster.
 */
async function dauByBitmask(store: Store, scan: Scan, w: string, local: string, range: TrendsDateRange, weekStart: 0 | 1): Promise<Row[]> {
  const buckets = range.allValues();
  if (buckets.length === 0) return [];
  const idx = bucketIndexSql(local, range.interval, buckets[0]!, weekStart);
  const names = bvNames(scan.nBv);
  const bvSel = scan.bvCols.map((c, i) => `, ${c} AS bv${i}`).join('');
  const groupM = `actor${scan.late ? '' : names.map((n) => `, ${n}`).join('')}`;
  const words = Math.ceil(buckets.length / MASK_BITS);
  // up to 4 words: one row per actor with a mask column per word; beyond: one row per (actor, word)
  const wide = words <= 4;
  const maskCols = wide
    ? Array.from({ length: words }, (_, k) => {
        const lo = k * MASK_BITS;
        const cond = [k > 0 ? `${idx} >= ${lo}` : '', k < words - 1 ? `${idx} < ${lo + MASK_BITS}` : ''].filter(Boolean).join(' AND ');
        const bit = `1::BIGINT << (${idx} - ${lo})`;
        return `bit_or(${cond ? `CASE WHEN ${cond} THEN ${bit} ELSE 0 END` : bit}) AS m${k}`;
      })
    : [`(${idx} // ${MASK_BITS})::INTEGER AS word`, `bit_or(1::BIGINT << (${idx} % ${MASK_BITS})) AS m0`];
  const m = `SELECT e.person_id AS actor${bvSel}, ${maskCols.join(', ')} FROM ${scan.from} WHERE ${w} GROUP BY ${groupM}${wide ? '' : ', word'}`;
  const carry = wide ? Array.from({ length: words }, (_, k) => `m.m${k}`).join(', ') : 'm.word, m.m0';
  const mb = scan.late
    ? `SELECT ${scan.late.bvCols.map((c, i) => `${c} AS bv${i}, `).join('')}${carry} FROM (${m}) m LEFT JOIN ${scan.late.persons} pb ON pb.id = m.actor`
    : m;
  const sums = (wide ? Array.from({ length: words }, (_, k) => k) : [0]).flatMap((k) => Array.from({ length: MASK_BITS }, (_, i) => `sum((m${k} >> ${i}) & 1)`));
  const group = wide ? names : [...names, 'word'];
  const sql = `SELECT ${[...group, ...sums].join(', ')} FROM (${mb})${group.length ? ` GROUP BY ${group.join(', ')}` : ''}`;
  const r = await store.conn.runAndReadAll(sql);
  const rows: Row[] = [];
  for (const row of r.getRows()) {
    const vals = row.slice(0, scan.nBv).map((v) => String(v));
    const bv: BreakdownValue | null = scan.nBv === 0 ? null : scan.multiple ? vals : vals[0]!;
    const base = wide ? 0 : Number(row[scan.nBv]) * MASK_BITS;
    const first = group.length;
    for (let j = 0; j < sums.length; j++) {
      const k = base + j;
      const v = Number(row[first + j] ?? 0);
      if (v !== 0 && k < buckets.length) rows.push({ bucket: buckets[k]!, bv, value: v });
    }
  }
  return rows;
}

/**
 * weekly_active / monthly_active (aggregation_operations.py): events from date_from - N days are
 * reduced to (start of day — of hour for hourly — , actor); the value at bucket d counts distinct
 * actors with d - N days < t <= d. On total-value displays: distinct actors in the N days ending
 * at date_to.
 */
async function activeUsersRows(store: Store, plan: SqlPlan, s: SeriesNode, seriesIndex: number, range: TrendsDateRange, days: number): Promise<Row[]> {
  const tz = plan.timezone;
  const scan = scanFor(store, plan, s, seriesIndex, true);
  const unit: TrendsInterval = range.interval === 'hour' ? 'hour' : range.interval === 'minute' ? 'minute' : 'day';
  const lowerNaive = plan.totalValue ? range.dateTo() - days * US_DAY : range.dateFrom() - days * US_DAY;
  const upperNaive = range.dateTo();
  const w = where(scan, ts(lowerNaive, tz), ts(upperNaive, tz));
  const segs = offsetSegments(toInstant(lowerNaive, tz), toInstant(upperNaive, tz), tz);
  const local = localUsSql('e.timestamp', segs);
  const t = bucketUsSql(local, unit, plan.weekStart);
  const buckets = range.allValues();
  if (buckets.length === 0) return [];
  const names = bvNames(scan.nBv);
  const window = days * US_DAY;
  const slots = unit === 'hour' ? days * 24 : days;
  if (!plan.totalValue && (unit === 'day' || unit === 'hour') && range.interval === unit && buckets.length + slots - 1 <= MAX_WINDOW_WORDS * MASK_BITS) {
    return activeUsersByBitmask(store, scan, w, local, buckets, unit, slots, plan.weekStart);
  }
  const reduced0 = `SELECT DISTINCT ${t} AS t, e.person_id AS actor${scan.bvCols.map((c, i) => `, ${c} AS bv${i}`).join('')} FROM ${scan.from} WHERE ${w}`;
  const reduced = scan.late
    ? `SELECT r0.t, r0.actor${scan.late.bvCols.map((c, i) => `, ${c} AS bv${i}`).join('')} FROM (${reduced0}) r0 LEFT JOIN ${scan.late.persons} pb ON pb.id = r0.actor`
    : reduced0;
  if (plan.totalValue) {
    // the union of every bucket's window: first bucket - N days < t <= last bucket
    const sql = `SELECT ${[...names, 'count(DISTINCT actor)'].join(', ')} FROM (${reduced}) WHERE t > ${buckets[0]! - window} AND t <= ${buckets[buckets.length - 1]!}${names.length ? ` GROUP BY ${names.join(', ')}` : ''}`;
    return readRows(store, sql, false, scan.nBv, scan.multiple);
  }
  const joined =
    `WITH r AS (${reduced}), d AS (SELECT unnest([${buckets.join(', ')}]::BIGINT[]) AS d) ` +
    `SELECT d.d AS d, r.actor AS actor${names.map((n) => `, r.${n} AS ${n}`).join('')} FROM r JOIN d ON r.t <= d.d AND r.t > d.d - ${window}`;
  const keys = ['d', ...names];
  const sql = `SELECT ${[...keys, 'count(DISTINCT actor)'].join(', ')} FROM (${joined}) GROUP BY ${keys.join(', ')}`;
  return readRows(store, sql, true, scan.nBv, scan.multiple);
}

/**
 * Daily or hourly WAU/MAU from per-actor bitmasks: bit p marks activity in bucket base + p, where
 * base is N - 1 buckets before the first one (N = the window in buckets). OR-ing the mask with
 * itself shifted by 0..N-1 (built by doubling) sets bit p exactly when the actor was active in the
 * N buckets ending at p, so a bucket's value is the number of actors with its bit set. Same
 * numbers as PostHog's range join.
 */
async function activeUsersByBitmask(
  store: Store,
  scan: Scan,
  w: string,
  local: string,
  buckets: number[],
  unit: 'day' | 'hour',
  days: number,
  weekStart: 0 | 1,
): Promise<Row[]> {
  // `days` is the window in buckets (7 or 30 days; 168 or 720 hours)
  const width = unit === 'hour' ? US_HOUR : US_DAY;
  const base = buckets[0]! - (days - 1) * width;
  const positions = buckets.length + days - 1;
  const words = Math.ceil(positions / MASK_BITS);
  void weekStart;
  const idx = `((${local}) // ${width} - ${Math.floor(base / width)})`;
  const names = bvNames(scan.nBv);
  const cols = (prefix: string) => Array.from({ length: words }, (_, k) => `${prefix}${k}`);
  const maskCols = cols('m').map((c, k) => {
    const lo = k * MASK_BITS;
    return `bit_or(CASE WHEN ${idx} >= ${lo} AND ${idx} < ${lo + MASK_BITS} THEN 1::BIGINT << (${idx} - ${lo}) ELSE 0 END) AS ${c}`;
  });
  const bvSel = scan.bvCols.map((c, i) => `, ${c} AS bv${i}`).join('');
  const m =
    `SELECT e.person_id AS actor${bvSel}, ${maskCols.join(', ')} FROM ${scan.from} WHERE ${w} AND ${idx} >= 0 ` +
    `GROUP BY actor${scan.late ? '' : names.map((n) => `, ${n}`).join('')}`;
  let cur = scan.late
    ? `SELECT ${scan.late.bvCols.map((c, i) => `${c} AS bv${i}, `).join('')}${cols('m').map((c) => `m.${c} AS ${c}`).join(', ')} FROM (${m}) m LEFT JOIN ${scan.late.persons} pb ON pb.id = m.actor`
    : `SELECT ${[...names, ...cols('m')].join(', ')} FROM (${m})`;
  const FULL = 2n ** BigInt(MASK_BITS) - 1n;
  // X | (X << s) across words: whole words move by q = s / 62, the rest by r bits with a carry
  const shiftOr = (from: string, to: string, s: number) => {
    const q = Math.floor(s / MASK_BITS);
    const r = s % MASK_BITS;
    const exprs = cols(from).map((c, k) => {
      const parts = [c];
      const src = k - q;
      if (src >= 0) parts.push(r === 0 ? `${from}${src}` : `((${from}${src} & ${FULL >> BigInt(r)}) << ${r})`);
      if (r > 0 && src - 1 >= 0) parts.push(`(${from}${src - 1} >> ${MASK_BITS - r})`);
      return `(${parts.join(' | ')}) AS ${to}${k}`;
    });
    return `SELECT ${[...names, ...exprs].join(', ')} FROM (${cur})`;
  };
  let covered = 1;
  let layer = 0;
  let prefix = 'm';
  while (covered * 2 <= days) {
    const next = `a${++layer}_`;
    cur = shiftOr(prefix, next, covered);
    prefix = next;
    covered *= 2;
  }
  if (covered < days) {
    const next = `a${++layer}_`;
    cur = shiftOr(prefix, next, days - covered);
    prefix = next;
  }
  const sums = buckets.map((_, i) => {
    const p = i + days - 1;
    return `sum((${prefix}${Math.floor(p / MASK_BITS)} >> ${p % MASK_BITS}) & 1)`;
  });
  const sql = `SELECT ${[...names, ...sums].join(', ')} FROM (${cur})${names.length ? ` GROUP BY ${names.join(', ')}` : ''}`;
  const r = await store.conn.runAndReadAll(sql);
  const rows: Row[] = [];
  for (const row of r.getRows()) {
    const vals = row.slice(0, scan.nBv).map((v) => String(v));
    const bv: BreakdownValue | null = scan.nBv === 0 ? null : scan.multiple ? vals : vals[0]!;
    for (let i = 0; i < buckets.length; i++) {
      const v = Number(row[scan.nBv + i] ?? 0);
      if (v !== 0) rows.push({ bucket: buckets[i]!, bv, value: v });
    }
  }
  return rows;
}

/**
 * first_time_for_user (FirstTimeForUserEventsQueryAlternator): per person, the first ever event
 * of the series (up to date_to, any properties) must itself pass the filters and fall inside the
 * range; it is counted in its bucket. first_matching_event_for_user: the first event that passes
 * the filters must fall inside the range. Breakdown values come from that first event.
 */
async function firstTimeRows(store: Store, plan: SqlPlan, s: SeriesNode, seriesIndex: number, range: TrendsDateRange): Promise<Row[]> {
  const tz = plan.timezone;
  const scan = scanFor(store, plan, s, seriesIndex, true);
  const filters = scan.conds.length ? scan.conds.map((f) => `(${f})`).join(' AND ') : 'TRUE';
  const matching = s.math === 'first_matching_event_for_user' && scan.conds.length > 0;
  const lowerNaive = range.adjustedDateFrom();
  const upperNaive = range.dateTo();
  const w = [`e.timestamp <= ${ts(upperNaive, tz)}`, ...(scan.eventCond ? [scan.eventCond] : [])].join(' AND ');
  const minTs = matching ? `min(e.timestamp) FILTER (WHERE ${filters})` : 'min(e.timestamp)';
  const cond = `e.timestamp >= ${ts(lowerNaive, tz)} AND ${filters}`;
  const bvAgg = scan.bvCols.map((c, i) => `, ${matching ? `arg_min(${c}, e.timestamp) FILTER (WHERE ${filters})` : `arg_min(${c}, e.timestamp)`} AS bv${i}`).join('');
  const firsts =
    `SELECT e.person_id AS actor, ${minTs} AS min_ts, min(e.timestamp) FILTER (WHERE ${cond}) AS min_cond${bvAgg} ` +
    `FROM ${scan.from} WHERE ${w} GROUP BY e.person_id HAVING min_ts = min_cond`;
  const hasB = !plan.totalValue;
  const segs = offsetSegments(toInstant(lowerNaive, tz), toInstant(upperNaive, tz), tz);
  const names = bvNames(scan.nBv);
  const d = `SELECT ${hasB ? `${bucketUsSql(localUsSql('min_ts', segs), range.interval, plan.weekStart)} AS b, ` : ''}actor${scan.late ? '' : names.map((n) => `, ${n}`).join('')} FROM (${firsts})`;
  return readRows(store, overActors(scan, d, hasB, 'count(*)'), hasB, scan.nBv, scan.multiple);
}
