/**
 * One ordered pass over the events for a batch of compatible funnels.
 *
 * A single SQL statement scans the events in the date range (with an `event IN (...)`
 * prefilter unless a strict funnel needs every event) and returns per row: a dense INTEGER
 * aggregation-target id, the timestamp in epoch microseconds (DOUBLE), one INTEGER step
 * bitmask per funnel (bit i = series step i; bit n+i-1 = exclusion slot i), and a dense
 * breakdown code. Columns are copied out of DuckDB's vectors as typed arrays; the rows are
 * then grouped by target with a counting sort and each group is ordered by time in JS
 * (cheaper here than an ORDER BY over millions of rows).
 */
import type { Store } from '../../../store/store.js';
import { sqlString } from '../../../store/store.js';
import { UsageError } from '../../../errors.js';
import { timestampRangeSql } from '../dates.js';
import { propertyFiltersSql, usesPersonProperties } from '../filters.js';
import { fieldSql } from '../hogql.js';
import type { FunnelSpec } from './spec.js';

/** Targets whose aggregation value is NULL form one group, like ClickHouse's GROUP BY. */
const NULL_TARGET = '\u2400null\u2400';

export const MAX_FUNNEL_STEPS = 16;

export interface ScanResult {
  rows: number;
  /** target id per row */
  tgt: Int32Array;
  /** epoch microseconds per row */
  ts: Float64Array;
  /** one mask column per funnel of the batch */
  masks: Int32Array[];
  /** breakdown code per row (null without breakdown) */
  bd: Int32Array | null;
  /** breakdown dictionary: code -> values (one string per breakdown property) */
  bdDict: string[][];
  nTargets: number;
  /** target id -> aggregation value (only when names were requested) */
  targetNames: (string | null)[] | null;
  /** row indices grouped by target: rows of target t are order[start[t] .. start[t+1]) sorted by time */
  order: Int32Array;
  start: Int32Array;
}

export interface ScanOptions {
  /** also return the aggregation value of every target (actors queries) */
  withTargetNames?: boolean;
}

/** Key of the scan a funnel needs; funnels with equal keys share one scan. */
export function scanKey(spec: FunnelSpec, store: Store): string {
  const env = { store, eventAlias: 'e', personAlias: 'p', where: 'query.properties' };
  return JSON.stringify([
    String(spec.range.fromUs),
    String(spec.range.toUs),
    targetSql(spec, store),
    propertyFiltersSql(spec.globalProperties, env),
    breakdownSql(spec, store),
    spec.order === 'strict' || spec.steps.some((s) => s.event === null),
  ]);
}

function targetSql(spec: FunnelSpec, store: Store): string {
  return fieldSql(spec.aggregateBy, store, 'e', 'p');
}

function breakdownSql(spec: FunnelSpec, store: Store): string | null {
  if (!spec.breakdown) return null;
  const parts = spec.breakdown.map((b) => {
    const ref =
      b.type === 'person'
        ? ({ kind: 'person_property', key: b.property } as const)
        : b.type === 'event_metadata'
          ? metadataRef(b.property)
          : ({ kind: 'event_property', key: b.property } as const);
    return `coalesce(${fieldSql(ref, store, 'e', 'p')}, '')`;
  });
  return `to_json([${parts.join(', ')}])::VARCHAR`;
}

function metadataRef(key: string) {
  if (key === 'distinct_id' || key === 'person_id' || key === 'event' || key === 'uuid' || key === 'timestamp') return { kind: 'column', column: key } as const;
  throw new UsageError(`query.breakdownFilter: unknown event_metadata breakdown '${key}'`, 'Valid: distinct_id, person_id, event, uuid, timestamp.');
}

function stepPredicate(event: string | null, properties: unknown, store: Store, where: string): string {
  const parts: string[] = [];
  if (event !== null) parts.push(`e.event = ${sqlString(event)}`);
  const p = propertyFiltersSql(properties, { store, eventAlias: 'e', personAlias: 'p', where: `${where}.properties` });
  if (p !== 'TRUE') parts.push(`(${p})`);
  return parts.length ? parts.join(' AND ') : 'TRUE';
}

/** SQL INTEGER bitmask of the steps and exclusion slots an event matches for one funnel. */
export function maskSql(spec: FunnelSpec, store: Store): string {
  const n = spec.steps.length;
  if (n > MAX_FUNNEL_STEPS) {
    throw new UsageError(`query.series: the local engine supports funnels of up to ${MAX_FUNNEL_STEPS} steps (got ${n})`);
  }
  const terms: string[] = [];
  spec.steps.forEach((s, i) => {
    terms.push(`(CASE WHEN ${stepPredicate(s.event, s.properties, store, s.where)} THEN ${1 << i} ELSE 0 END)`);
  });
  for (let slot = 1; slot < n; slot++) {
    const covering = spec.exclusions.filter((x) => x.from < slot && slot <= x.to);
    if (covering.length === 0) continue;
    const pred = covering.map((x) => `(${stepPredicate(x.event, x.properties, store, x.where)})`).join(' OR ');
    terms.push(`(CASE WHEN ${pred} THEN ${1 << (n + slot - 1)} ELSE 0 END)`);
  }
  return terms.length ? `(${terms.join(' + ')})::INTEGER` : '0::INTEGER';
}

function needsPersons(specs: readonly FunnelSpec[]): boolean {
  return specs.some(
    (s) =>
      s.aggregateBy.kind === 'person_property' ||
      usesPersonProperties(s.globalProperties) ||
      s.steps.some((x) => usesPersonProperties(x.properties)) ||
      s.exclusions.some((x) => usesPersonProperties(x.properties)) ||
      (s.breakdown ?? []).some((b) => b.type === 'person'),
  );
}

export function buildScanSql(specs: readonly FunnelSpec[], store: Store, opts: ScanOptions = {}): string {
  const first = specs[0]!;
  const env = { store, eventAlias: 'e', personAlias: 'p', where: 'query.properties' };
  const where: string[] = [timestampRangeSql(first.range, 'e.timestamp')];
  const noPrefilter = specs.some((s) => s.order === 'strict' || s.steps.some((x) => x.event === null));
  if (!noPrefilter) {
    const names = new Set<string>();
    for (const s of specs) {
      for (const x of s.steps) if (x.event !== null) names.add(x.event);
      for (const x of s.exclusions) if (x.event !== null) names.add(x.event);
    }
    if (!specs.some((s) => s.exclusions.some((x) => x.event === null))) {
      where.push(`e.event IN (${[...names].map(sqlString).join(', ')})`);
    }
  }
  const g = propertyFiltersSql(first.globalProperties, env);
  if (g !== 'TRUE') where.push(`(${g})`);
  const join = needsPersons(specs) ? ' LEFT JOIN persons p ON p.id = e.person_id' : '';
  const bd = breakdownSql(first, store);
  const cols = [
    `coalesce(${targetSql(first, store)}, ${sqlString(NULL_TARGET)}) AS tgt`,
    `epoch_us(e.timestamp)::DOUBLE AS ts`,
    ...specs.map((s, i) => `${maskSql(s, store)} AS m${i}`),
  ];
  if (bd) cols.push(`${bd} AS bd`);
  const out = ['tid.id', 'base.ts', ...specs.map((_, i) => `base.m${i}`)];
  let ctes = `WITH base AS MATERIALIZED (SELECT ${cols.join(', ')} FROM events e${join} WHERE ${where.join(' AND ')}),
tid AS (SELECT tgt, (row_number() OVER () - 1)::INTEGER AS id FROM (SELECT DISTINCT tgt FROM base))`;
  let from = 'base JOIN tid ON base.tgt = tid.tgt';
  if (bd) {
    ctes += `,\nbdd AS (SELECT bd, (row_number() OVER () - 1)::INTEGER AS id FROM (SELECT DISTINCT bd FROM base))`;
    from += ' JOIN bdd ON base.bd = bdd.bd';
    out.push('bdd.id', 'bdd.bd');
  }
  if (opts.withTargetNames) out.push('tid.tgt');
  return `${ctes}\nSELECT ${out.join(', ')} FROM ${from}`;
}

class Grow<T extends Int32Array | Float64Array> {
  arr: T;
  len = 0;
  constructor(private readonly make: (n: number) => T) {
    this.arr = make(1 << 16);
  }
  push(src: ArrayLike<number>, count: number): void {
    if (this.len + count > this.arr.length) {
      let cap = this.arr.length;
      while (cap < this.len + count) cap *= 2;
      const next = this.make(cap);
      next.set(this.arr.subarray(0, this.len));
      this.arr = next;
    }
    if ((src as Int32Array).subarray) this.arr.set((src as Int32Array).subarray(0, count), this.len);
    else for (let i = 0; i < count; i++) this.arr[this.len + i] = src[i]!;
    this.len += count;
  }
  done(): T {
    return this.arr.subarray(0, this.len) as T;
  }
}

interface VectorLike {
  items?: ArrayLike<number>;
  getItem(i: number): unknown;
}

function numbers(v: VectorLike, count: number): ArrayLike<number> {
  const items = v.items;
  if (items && typeof (items as Int32Array).BYTES_PER_ELEMENT === 'number') return items;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Number(v.getItem(i));
  return out;
}

/** Run the scan for a batch of funnels with the same scanKey. */
export async function scanFunnels(store: Store, specs: readonly FunnelSpec[], opts: ScanOptions = {}): Promise<ScanResult> {
  const sql = buildScanSql(specs, store, opts);
  const hasBd = !!specs[0]!.breakdown;
  const tgt = new Grow((n) => new Int32Array(n));
  const ts = new Grow((n) => new Float64Array(n));
  const masks = specs.map(() => new Grow((n) => new Int32Array(n)));
  const bd = hasBd ? new Grow((n) => new Int32Array(n)) : null;
  const bdNames: string[] = [];
  const names: (string | null)[] = [];
  let nTargets = 0;
  const result = await store.conn.stream(sql);
  const nm = specs.length;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const count = chunk.rowCount;
    const ids = numbers(chunk.getColumnVector(0) as unknown as VectorLike, count);
    tgt.push(ids, count);
    for (let i = 0; i < count; i++) if (ids[i]! >= nTargets) nTargets = ids[i]! + 1;
    ts.push(numbers(chunk.getColumnVector(1) as unknown as VectorLike, count), count);
    for (let q = 0; q < nm; q++) masks[q]!.push(numbers(chunk.getColumnVector(2 + q) as unknown as VectorLike, count), count);
    let col = 2 + nm;
    if (bd) {
      const codes = numbers(chunk.getColumnVector(col) as unknown as VectorLike, count);
      bd.push(codes, count);
      const strs = chunk.getColumnVector(col + 1) as unknown as VectorLike;
      for (let i = 0; i < count; i++) {
        const c = codes[i]!;
        if (bdNames[c] === undefined) bdNames[c] = String(strs.getItem(i));
      }
      col += 2;
    }
    if (opts.withTargetNames) {
      const strs = chunk.getColumnVector(col) as unknown as VectorLike;
      for (let i = 0; i < count; i++) {
        const c = ids[i]!;
        if (names[c] === undefined) {
          const s = String(strs.getItem(i));
          names[c] = s === NULL_TARGET ? null : s;
        }
      }
    }
  }
  const tgtArr = tgt.done();
  const tsArr = ts.done();
  const rows = tgtArr.length;
  // counting sort by target id
  const start = new Int32Array(nTargets + 1);
  for (let i = 0; i < rows; i++) start[tgtArr[i]! + 1]!++;
  for (let t = 0; t < nTargets; t++) start[t + 1]! += start[t]!;
  const fill = start.slice(0, nTargets);
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[fill[tgtArr[i]!]!++] = i;
  // order each target's rows by time (stable: scan order breaks ties)
  for (let t = 0; t < nTargets; t++) {
    const a = start[t]!;
    const b = start[t + 1]!;
    let sorted = true;
    for (let k = a + 1; k < b; k++) {
      if (tsArr[order[k]!]! < tsArr[order[k - 1]!]!) {
        sorted = false;
        break;
      }
    }
    if (!sorted) {
      const seg = Array.from(order.subarray(a, b));
      seg.sort((x, y) => tsArr[x]! - tsArr[y]! || x - y);
      order.set(seg, a);
    }
  }
  return {
    rows,
    tgt: tgtArr,
    ts: tsArr,
    masks: masks.map((m) => m.done()),
    bd: bd ? bd.done() : null,
    bdDict: bdNames.map((s) => (s === undefined ? [] : (JSON.parse(s) as string[]))),
    nTargets,
    targetNames: opts.withTargetNames ? names : null,
    order,
    start,
  };
}
