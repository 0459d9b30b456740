/**
 * One ordered pass over the events for a batch of compatible funnels.
 *
 * The SQL scans the events in the date range (with an `event IN (...)` prefilter unless a
 * strict funnel needs every event, and any condition every step requires) and returns per row:
 * a 64-bit hash of the aggregation target, the timestamp in epoch microseconds, one packed
 * INTEGER code (event code, value codes, atom bits; see planAtoms; without a plan, one step
 * bitmask per funnel) and a breakdown hash. Big tables are read in rowid ranges so DuckDB
 * computes the next range while this thread copies the current one out of DuckDB's vectors.
 * Rows go to 256 buckets by target hash as they are copied out, then each bucket is grouped by
 * target with a small hash table (group.ts: cheaper here than a string join or an ORDER BY
 * over millions of rows); every target's rows end up contiguous and in time order, and with an
 * atom plan, targets alike in what they can match sit next to each other.
 */
import type { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { Store } from '../../../store/store.js';
import { quoteIdent, sqlString, stringInSql, stringListSql } from '../../../store/sql.js';
import { UsageError } from '../../../errors.js';
import { timestampRangeSql } from '../dates.js';
import { exactFilterParts, propertyFiltersSql, usesPersonProperties } from '../filters.js';
import { fieldSql } from '../hogql.js';
import type { FunnelSpec, StepSpec } from './spec.js';
import { BUCKETS, DenseIds, Scatter, finishBuckets, joinGroups, type BucketGroups, type GroupState, type ScanChunk, type SigPlan, type Signatures } from './group.js';
import { debug, debugEnabled } from '../../../debug.js';

export type { BucketGroups, GroupState, Signatures } from './group.js';

/** Targets whose aggregation value is NULL form one group, like ClickHouse's GROUP BY. */
const NULL_TARGET = '\u2400null\u2400';

export const MAX_FUNNEL_STEPS = 16;

export interface ScanResult {
  rows: number;
  /** epoch microseconds per row */
  ts: Float64Array;
  /**
   * The step/exclusion masks of funnel q of the batch, computed target by target on demand (the
   * buffers are reused by the next call, so use one funnel's masks before asking for another).
   * `relevant`: mask bits a target needs for the funnel to look at it at all (-1 any bit);
   * targets that cannot have any are left out of the candidates. 0: every target.
   */
  mask(q: number, relevant: number): FunnelMask;
  /** the number of targets mask(q, relevant) would hand out (cheap: from the signatures) */
  candidates(q: number, relevant: number): number;
  /** breakdown code per row (null without breakdown) */
  bd: Int32Array | null;
  /** breakdown dictionary: code -> values (one string per breakdown property) */
  bdDict: string[][];
  nTargets: number;
  /** target id -> aggregation value (only when names were requested) */
  targetNames: (string | null)[] | null;
  /**
   * Rows grouped by target (ts, masks and bd are stored in group order): target t's rows are
   * start[t] .. start[t+1] of those arrays, sorted by time.
   */
  start: Int32Array;
  /** the same scan as plain data */
  data: ScanData;
}

export interface ScanOptions {
  /** also return the aggregation value of every target (actors queries) */
  withTargetNames?: boolean;
  /** keep the grouped columns on shared memory, so funnel passes can run on a worker thread */
  shared?: boolean;
  /** the events table's row count, when the caller has it (eventCount) */
  events?: number;
  /** rows per rowid range a big table is scanned in (default SCAN_PART_ROWS; tests use tiny ones) */
  partRows?: number;
  /** with `shared`: finishes buckets [from, to) of the grouping on another thread (finishBuckets) */
  helper?: (state: GroupState, fromBucket: number, toBucket: number) => Promise<BucketGroups>;
}

/**
 * The grouped scan as plain data (typed arrays, on SharedArrayBuffers when the scan was asked
 * for `shared`): what a worker thread needs to rebuild the ScanResult with scanFromData().
 */
export interface ScanData {
  rows: number;
  ts: Float64Array;
  start: Int32Array;
  /** atom plan codes (one per row), or one mask column per funnel without a plan */
  codes: Int32Array | null;
  masks: Int32Array[];
  plan: AtomPlan | null;
  bd: Int32Array | null;
  bdDict: string[][];
  /** with a plan: each target's signature (see finishBuckets) */
  signatures: Signatures | null;
  /**
   * Memory of the scan's own that is free once the rows are grouped, one Int32Array of at least
   * `rows` per thread (main, worker), for the funnel masks: reusing it spares fresh pages.
   */
  scratch: Int32Array[];
}

/**
 * A ScanResult over scan data (the step masks are derived on demand, per thread; `thread`: 0 the
 * scan's own thread, 1 the worker).
 */
export function scanFromData(d: ScanData, targetNames: (string | null)[] | null = null, thread = 0): ScanResult {
  return {
    rows: d.rows,
    ts: d.ts,
    mask: d.plan && d.codes && d.signatures ? atomMasks(d.plan, d.codes, d.start, d.signatures, d.scratch[thread]) : plainMasks(d.masks, d.start),
    candidates: candidateCounter(d.plan, d.signatures, d.start.length - 1),
    bd: d.bd,
    bdDict: d.bdDict,
    nTargets: d.start.length - 1,
    targetNames,
    start: d.start,
    data: d,
  };
}

/** Key of the scan a funnel needs; funnels with equal keys share one scan. */
export function scanKey(spec: FunnelSpec, store: Store, withBreakdown = true): string {
  const env = { store, eventAlias: 'e', personAlias: 'p', where: 'query.properties' };
  const seesEveryEvent = spec.order === 'strict' || spec.steps.some((s) => s.event === null);
  return JSON.stringify([
    String(spec.range.fromUs),
    String(spec.range.toUs),
    targetSql(spec, store),
    // funnels that only see matching events can differ in global filters: those go into the
    // step masks; strict funnels see every event, so their global filter must stay a WHERE
    seesEveryEvent ? propertyFiltersSql(spec.globalProperties, env) : null,
    withBreakdown ? breakdownSql(spec, store) : null,
    seesEveryEvent,
  ]);
}

/**
 * The 64-bit hash the rows are grouped by: the store's hash column when the target is a
 * property that has one (see hashedKeys in store.ts; NULL is hashed too), else hash() of the
 * value. Rows of one scan all use the same expression.
 */
function targetHashSql(spec: FunnelSpec, store: Store): string {
  const ref = spec.aggregateBy;
  const h = ref.kind === 'event_property' ? store.keyHashColumn(ref.key) : undefined;
  return h ? `e.${quoteIdent(h)}` : `hash(coalesce(${targetSql(spec, store)}, ${sqlString(NULL_TARGET)}))`;
}

function targetSql(spec: FunnelSpec, store: Store): string {
  return fieldSql(spec.aggregateBy, store, 'e', 'p');
}

function breakdownSql(spec: FunnelSpec, store: Store): string | null {
  const parts = breakdownParts(spec, store);
  return parts ? `to_json([${parts.join(', ')}])::VARCHAR` : null;
}

/** One SQL expression per breakdown property (missing = ''), or null without a breakdown. */
function breakdownParts(spec: FunnelSpec, store: Store): string[] | null {
  return breakdownExprs(spec, store)?.map((x) => `coalesce(${x}, '')`) ?? null;
}

/** The breakdown properties' SQL expressions (NULL when missing), or null without a breakdown. */
function breakdownExprs(spec: FunnelSpec, store: Store): string[] | null {
  if (!spec.breakdown) return null;
  return spec.breakdown.map((b) => {
    const ref =
      b.type === 'person'
        ? ({ kind: 'person_property', key: b.property } as const)
        : b.type === 'event_metadata'
          ? metadataRef(b.property)
          : ({ kind: 'event_property', key: b.property } as const);
    return fieldSql(ref, store, 'e', 'p');
  });
}

/**
 * Likely breakdown values, known without reading the table: for a one-property breakdown, ''
 * (missing), the values the steps' exact filters compare that property with and, for an event
 * property, the values Teleport's vocabulary allows it (`known`). The Discover tracks break down
 * by the resource, so their breakdown names usually come from these alone; any other value
 * found in the rows makes the scan ask DuckDB after all.
 */
function breakdownCandidates(specs: readonly FunnelSpec[], store: Store, known: ReadonlyMap<string, readonly string[]>): string[] | null {
  const spec = specs.find((x) => x.breakdown) ?? specs[0]!;
  const exprs = breakdownExprs(spec, store);
  if (!exprs || exprs.length !== 1) return null;
  const values = new Set<string>(['']);
  const b = spec.breakdown![0]!;
  if (b.type === 'event') for (const v of known.get(b.property) ?? []) values.add(v);
  for (const spec of specs) {
    for (const st of [...spec.steps, ...spec.exclusions]) {
      for (const c of stepConditions(st, store)) if (c.exact && c.exact.expr === exprs[0]) for (const v of c.exact.values) values.add(v);
    }
  }
  return [...values];
}

function metadataRef(key: string) {
  if (key === 'distinct_id' || key === 'person_id' || key === 'event' || key === 'uuid' || key === 'timestamp') return { kind: 'column', column: key } as const;
  throw new UsageError(`query.breakdownFilter: unknown event_metadata breakdown '${key}'`, 'Valid: distinct_id, person_id, event, uuid, timestamp.');
}

/** SQL INTEGER bitmask of the steps and exclusion slots an event matches for one funnel. */
export function maskSql(spec: FunnelSpec, store: Store): string {
  const n = spec.steps.length;
  if (n > MAX_FUNNEL_STEPS) {
    throw new UsageError(`query.series: the local engine supports funnels of up to ${MAX_FUNNEL_STEPS} steps (got ${n})`);
  }
  // One CASE on the event name (a switch, not one string comparison per step); inside a
  // branch, property filters decide each bit. Bits combine with | so overlaps are harmless.
  const byEvent = new Map<string, string[]>();
  const anyEvent: string[] = [];
  const add = (event: string | null, properties: unknown, where: string, bit: number, firstTime?: StepSpec['firstTime']) => {
    const p = stepPredicateSql(event, properties, where, store, firstTime);
    const term = p === 'TRUE' ? String(bit) : `(CASE WHEN ${p} THEN ${bit} ELSE 0 END)`;
    if (event === null) anyEvent.push(term);
    else {
      const list = byEvent.get(event);
      if (list) list.push(term);
      else byEvent.set(event, [term]);
    }
  };
  spec.steps.forEach((s, i) => add(s.event, s.properties, s.where, 1 << i, s.firstTime));
  for (let slot = 1; slot < n; slot++) {
    for (const x of spec.exclusions) if (x.from < slot && slot <= x.to) add(x.event, x.properties, x.where, 1 << (n + slot - 1));
  }
  const parts: string[] = [];
  if (byEvent.size > 0) {
    const branches = [...byEvent].map(([event, terms]) => `WHEN ${sqlString(event)} THEN ${terms.length === 1 ? terms[0] : `(${terms.join(' | ')})`}`);
    parts.push(`(CASE e.event ${branches.join(' ')} ELSE 0 END)`);
  }
  parts.push(...anyEvent);
  return parts.length ? `(${parts.join(' | ')})::INTEGER` : '0::INTEGER';
}

/** Property filters (and first-time condition) of one step or exclusion, as SQL ('TRUE' if none). */
function stepPredicateSql(event: string | null, properties: unknown, where: string, store: Store, firstTime?: StepSpec['firstTime']): string {
  const p = propertyFiltersSql(properties, { store, eventAlias: 'e', personAlias: 'p', where: `${where}.properties` });
  if (!firstTime) return p;
  const ft = firstTimeSql(event, firstTime === 'with_filters' ? properties : undefined, store, where);
  return p === 'TRUE' ? ft : `(${p}) AND ${ft}`;
}

/**
 * first_time_for_user: the event is the person's earliest (over all time, like PostHog) event of
 * this name — and, for the _with_filters variant, passing the step's event-property filters.
 * DuckDB decorrelates the subquery into one grouped join.
 */
function firstTimeSql(event: string | null, properties: unknown, store: Store, where: string): string {
  const conds: string[] = [];
  if (event !== null) conds.push(`f.event = ${sqlString(event)}`);
  if (properties !== undefined) {
    if (usesPersonProperties(properties)) {
      throw new UsageError(`${where}.math: first_time_for_user_with_filters with person-property filters is not supported by the local engine`, 'Run the query with --engine posthog.');
    }
    const p = propertyFiltersSql(properties, { store, eventAlias: 'f', personAlias: 'p', where: `${where}.properties` });
    if (p !== 'TRUE') conds.push(`(${p})`);
  }
  return `e.timestamp = (SELECT min(f.timestamp) FROM events f WHERE f.person_id = e.person_id${conds.length ? ` AND ${conds.join(' AND ')}` : ''})`;
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

/**
 * Step predicates of a whole batch as "atoms" and "value fields": every distinct property-filter
 * condition gets one bit, every distinct event name one small code, and an expression that
 * exact filters compare with several values (the Discover resource across 13 tracks) gets one
 * small value code, computed by a single ENUM cast instead of one comparison per value. DuckDB
 * then sends two INTEGER columns per row (event code; atom bits and value codes) instead of one
 * mask column per funnel — moving columns out of DuckDB is what costs, so 26 funnels read like
 * one — and each funnel's step mask is derived in JS from a lookup table over those codes.
 */
interface ValueField {
  /** SQL of the compared expression */
  expr: string;
  /** value -> code (1-based; 0 = missing or another value) */
  codes: Map<string, number>;
  /** first bit of the field in the atoms column, and its width */
  shift: number;
  bits: number;
}

interface FieldReq {
  field: number;
  /** codes that satisfy the condition */
  allowed: Uint8Array;
  /** allowed codes as a per-target gate set (code bit min(code, 31)) */
  gate: number;
}

interface Term {
  /** event code, -1 for any event */
  ev: number;
  /** required atom bits */
  req: number;
  /** required value-field conditions (all must hold) */
  fields: FieldReq[];
  /** mask bit this term sets */
  bit: number;
}

interface AtomPlan {
  eventCodes: Map<string, number>;
  atoms: string[];
  fields: ValueField[];
  /** bits below the event code: atoms, then the value fields */
  lowBits: number;
  terms: Term[][];
}

const MAX_ATOMS = 24;
/** A value field with more distinct values than this is compared value by value instead. */
const MAX_FIELD_VALUES = 1023;

/** One condition of a step: its SQL, and for exact filters the compared expression and values. */
interface Condition {
  sql: string;
  exact?: { expr: string; values: string[] };
}

/** A step's filters as conditions that must all hold: a filter list is an AND of its members. */
function stepConditions(step: { event: string | null; properties: unknown; where: string; firstTime?: StepSpec['firstTime'] }, store: Store): Condition[] {
  if (step.firstTime || !Array.isArray(step.properties)) {
    const sql = stepPredicateSql(step.event, step.properties, step.where, store, step.firstTime);
    return sql === 'TRUE' ? [] : [{ sql }];
  }
  const out: Condition[] = [];
  step.properties.forEach((f, i) => {
    const env = { store, eventAlias: 'e', personAlias: 'p', where: `${step.where}.properties[${i}]` };
    const exact = exactFilterParts(f, env, env.where);
    if (exact) out.push({ sql: exact.sql, exact: { expr: exact.expr, values: exact.values } });
    else {
      const sql = propertyFiltersSql(f, env);
      if (sql !== 'TRUE') out.push({ sql });
    }
  });
  return out;
}

function planAtoms(specs: readonly FunnelSpec[], store: Store, globals: readonly string[], shared: boolean): AtomPlan | null {
  const eventCodes = new Map<string, number>();
  const atomIndex = new Map<string, number>();
  const atoms: string[] = [];
  const atomBit = (sql: string): number => {
    if (sql === 'TRUE') return 0;
    let i = atomIndex.get(sql);
    if (i === undefined) {
      i = atoms.length;
      atoms.push(sql);
      atomIndex.set(sql, i);
    }
    return 1 << i;
  };
  type Raw = { ev: number; global: string; conds: Condition[]; bit: number };
  const raw: Raw[][] = specs.map((spec, q) => {
    const n = spec.steps.length;
    if (n > MAX_FUNNEL_STEPS) {
      throw new UsageError(`query.series: the local engine supports funnels of up to ${MAX_FUNNEL_STEPS} steps (got ${n})`);
    }
    const out: Raw[] = [];
    const add = (event: string | null, conds: Condition[], bit: number) => {
      let ev = -1;
      if (event !== null) {
        ev = eventCodes.get(event) ?? eventCodes.size + 1;
        eventCodes.set(event, ev);
      }
      out.push({ ev, global: shared ? 'TRUE' : globals[q]!, conds, bit });
    };
    spec.steps.forEach((st, i) => add(st.event, stepConditions(st, store), 1 << i));
    for (let slot = 1; slot < n; slot++) {
      for (const x of spec.exclusions) if (x.from < slot && slot <= x.to) add(x.event, stepConditions(x, store), 1 << (n + slot - 1));
    }
    return out;
  });
  // expressions compared with two or more different value lists become value fields (one list,
  // e.g. the Discover status "SUCCESS or SKIPPED" everywhere, stays one atom)
  const valuesOf = new Map<string, Set<string>>();
  const listsOf = new Map<string, Set<string>>();
  for (const c of raw.flat().flatMap((r) => r.conds)) {
    if (!c.exact) continue;
    let set = valuesOf.get(c.exact.expr);
    if (!set) valuesOf.set(c.exact.expr, (set = new Set()));
    for (const v of c.exact.values) set.add(v);
    let lists = listsOf.get(c.exact.expr);
    if (!lists) listsOf.set(c.exact.expr, (lists = new Set()));
    lists.add(JSON.stringify([...c.exact.values].sort()));
  }
  const fieldIndex = new Map<string, number>();
  const fields: ValueField[] = [];
  for (const [expr, set] of valuesOf) {
    if (listsOf.get(expr)!.size < 2 || set.size > MAX_FIELD_VALUES) continue;
    const codes = new Map([...set].map((v, i) => [v, i + 1] as const));
    fieldIndex.set(expr, fields.length);
    fields.push({ expr, codes, shift: 0, bits: 32 - Math.clz32(set.size) });
  }
  const terms: Term[][] = raw.map((list) =>
    list.map((r) => {
      let req = atomBit(r.global);
      const reqs: FieldReq[] = [];
      for (const c of r.conds) {
        const f = c.exact ? fieldIndex.get(c.exact.expr) : undefined;
        if (f === undefined) req |= atomBit(c.sql);
        else {
          const field = fields[f]!;
          const allowed = new Uint8Array(field.codes.size + 1);
          let gate = 0;
          for (const v of c.exact!.values) {
            const code = field.codes.get(v)!;
            allowed[code] = 1;
            gate |= 1 << Math.min(code, 31);
          }
          reqs.push({ field: f, allowed, gate });
        }
      }
      return { ev: r.ev, req, fields: reqs, bit: r.bit };
    }),
  );
  let lowBits = atoms.length;
  for (const f of fields) {
    f.shift = lowBits;
    lowBits += f.bits;
  }
  if (atoms.length > MAX_ATOMS || lowBits > 30 || eventCodes.size + 1 > 1 << (30 - lowBits)) return null;
  return { eventCodes, atoms, fields, lowBits, terms };
}

export interface ScanSql {
  sql: string;
  /** the same scan restricted to rows lo <= rowid < hi (the parts come out in table order) */
  partSql(lo: number, hi: number): string;
  /** distinct breakdown values with their hashes (null without breakdown) */
  namesSql: string | null;
  /** the same for likely values only, from constants (see breakdownCandidates; known: allowed values by property key) */
  candidatesSql(known: ReadonlyMap<string, readonly string[]>): string | null;
  plan: AtomPlan | null;
}

export function buildScanSql(specs: readonly FunnelSpec[], store: Store, opts: ScanOptions = {}): ScanSql {
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
      where.push(stringInSql('e.event', names));
    }
  }
  // the rows' event filter without the property filters: the breakdown names query reads a
  // superset of the scan's rows, which is fine (it maps hashes to names) and cheaper
  const namesWhere = [...where];
  const globals = specs.map((s) => propertyFiltersSql(s.globalProperties, env));
  const shared = globals.every((g) => g === globals[0]);
  if (shared && globals[0] !== 'TRUE') where.push(`(${globals[0]})`);
  const join = needsPersons(specs) ? ' LEFT JOIN persons p ON p.id = e.person_id' : '';
  // rows carry only a hash of the breakdown values (no JSON built per row); the values
  // themselves come from one DISTINCT query over the same rows
  // funnels without a breakdown may share the scan of funnels with one (they ignore its column)
  const bdParts = breakdownParts(specs.find((x) => x.breakdown) ?? first, store);
  const bd = bdParts ? `hash(${bdParts.join(', ')})` : null;
  const tgt = `coalesce(${targetSql(first, store)}, ${sqlString(NULL_TARGET)})`;
  const plan = planAtoms(specs, store, globals, shared);
  // atoms the WHERE already requires (true on every row read)
  let alwaysTrue = 0;
  if (plan && specs.every((s) => s.order !== 'strict') && plan.terms.every((list) => list.length > 0)) {
    // Non-strict funnels drop rows that match none of their terms. An atom that every term of
    // every funnel requires (Discover: the step status) therefore filters such rows out before
    // they leave DuckDB, with the same results.
    let common = -1;
    for (const list of plan.terms) for (const t of list) common &= t.req;
    plan.atoms.forEach((a, i) => {
      if (common & (1 << i)) where.push(`(${a})`);
    });
    alwaysTrue = common;
  }
  const cols = [`${targetHashSql(first, store)} AS tgt_hash`, `epoch_us(e.timestamp)::DOUBLE AS ts`];
  if (plan) {
    // one INTEGER per row: event code << lowBits | value codes | atom bits
    // event codes are 1, 2, ... in the map's order: the code is the event's position in that
    // list. list_position() on the event column runs once per distinct value of DuckDB's
    // dictionary vectors, where a CASE compared every row with every name (~0.2 CPU-s on 9M rows)
    const names = [...plan.eventCodes.keys()];
    const ev = names.length ? `(coalesce(list_position(${stringListSql(names)}, e.event), 0) << ${plan.lowBits})` : '0';
    const low = plan.atoms.map((a, i) => (alwaysTrue & (1 << i) ? String(1 << i) : `(CASE WHEN ${a} THEN ${1 << i} ELSE 0 END)`));
    for (const f of plan.fields) {
      // value code = position in the value list + 1 (0: missing or another value); the ENUM cast
      // is one hash lookup per row where a CASE would compare every value in turn
      const enumType = `ENUM(${[...f.codes.keys()].map(sqlString).join(', ')})`;
      low.push(`(coalesce(enum_code(TRY_CAST(${f.expr} AS ${enumType}))::INTEGER + 1, 0) << ${f.shift})`);
    }
    cols.push(`(${[ev, ...low].join(' | ')})::INTEGER AS code`);
  } else {
    cols.push(...specs.map((s, i) => (shared || globals[i] === 'TRUE' ? `${maskSql(s, store)} AS m${i}` : `(CASE WHEN ${globals[i]} THEN ${maskSql(s, store)} ELSE 0 END)::INTEGER AS m${i}`)));
  }
  if (bd) cols.push(`${bd} AS bd_hash`);
  if (opts.withTargetNames) cols.push(`${tgt} AS tgt`);
  const outer = cols.map((c) => c.replace(/^.* AS (\w+)$/s, '$1'));
  const from = `FROM events e${join} WHERE ${where.join(' AND ')}`;
  return {
    sql: `SELECT ${outer.join(', ')} FROM (SELECT ${cols.join(', ')} ${from})`,
    partSql: (lo, hi) => `SELECT ${outer.join(', ')} FROM (SELECT ${cols.join(', ')} ${from} AND e.rowid >= ${lo} AND e.rowid < ${hi})`,
    // breakdown strings are few: fetch them once instead of one string per row
    namesSql: bdParts
      ? `SELECT hash(${bdParts.map((_, i) => `b${i}`).join(', ')}) AS h, to_json([${bdParts.map((_, i) => `b${i}`).join(', ')}])::VARCHAR AS v FROM (SELECT DISTINCT ${bdParts.map((p, i) => `${p} AS b${i}`).join(', ')} FROM events e${join} WHERE ${namesWhere.join(' AND ')})`
      : null,
    candidatesSql: (known) => {
      const candidates = bdParts ? breakdownCandidates(specs, store, known) : null;
      return candidates
        ? `SELECT hash(b0) AS h, to_json([b0])::VARCHAR AS v FROM (SELECT unnest(${stringListSql(candidates)}::VARCHAR[]) AS b0)`
        : null;
    },
    plan,
  };
}

interface VectorLike {
  items?: ArrayLike<number>;
  getItem(i: number): unknown;
}

/** A UBIGINT vector as (lo, hi) uint32 pairs, without BigInt conversion. */
function hashHalves(v: VectorLike, count: number): Uint32Array {
  const items = v.items as unknown as BigUint64Array | undefined;
  if (items && items.buffer) return new Uint32Array(items.buffer, items.byteOffset, count * 2);
  const out = new Uint32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const x = BigInt(v.getItem(i) as bigint);
    out[2 * i] = Number(x & 0xffffffffn);
    out[2 * i + 1] = Number(x >> 32n);
  }
  return out;
}

function numbers(v: VectorLike, count: number): ArrayLike<number> {
  const items = v.items;
  if (items && typeof (items as Int32Array).BYTES_PER_ELEMENT === 'number') return items;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Number(v.getItem(i));
  return out;
}

/**
 * Masks from per-row codes: each distinct code is decoded once per funnel (a lookup table for
 * small code spaces, a map otherwise), then every row is a table read. The same pass records
 * each target's OR of masks, so funnels can skip targets that cannot enter them in O(1).
 */
/** Whether a target of this signature can match one of the gate's terms. */
function possibleFor(gate: Term[], sig: { ev: number; at: number; fieldSets: number[] }): boolean {
  for (const g of gate) {
    if ((g.ev !== -1 && (sig.ev & (1 << Math.min(g.ev, 31))) === 0) || (sig.at & g.req) !== g.req) continue;
    if (g.fields.every((fr) => (sig.fieldSets[fr.field]! & fr.gate) !== 0)) return true;
  }
  return false;
}

/** How many targets mask(q, relevant) would hand out, from the signatures alone. */
function candidateCounter(plan: AtomPlan | null, sig: Signatures | null, nTargets: number): (q: number, relevant: number) => number {
  let counts: Int32Array | null = null;
  return (q, relevant) => {
    if (!plan || !sig || relevant === 0) return nTargets;
    if (!counts) {
      counts = new Int32Array(sig.list.length);
      for (let t = 0; t < sig.of.length; t++) counts[sig.of[t]!]!++;
    }
    const gate = plan.terms[q]!.filter((t) => (t.bit & relevant) !== 0);
    let n = 0;
    for (let k = 0; k < sig.list.length; k++) if (possibleFor(gate, sig.list[k]!)) n += counts[k]!;
    return n;
  };
}

function atomMasks(plan: AtomPlan, codes: Int32Array, start: Int32Array, sig: Signatures, scratch: Int32Array | undefined): (q: number, relevant: number) => FunnelMask {
  const lowBits = plan.lowBits;
  const nAtoms = plan.atoms.length;
  const atomMask = (1 << nAtoms) - 1;
  const space = (plan.eventCodes.size + 1) << lowBits;
  const nTargets = start.length - 1;
  const fields = plan.fields;
  const sigOf = sig.of;
  const sigs = sig.list;
  const sigPossible = new Int8Array(sigs.length);
  // funnels of a batch are evaluated one after another: one set of buffers serves them all.
  // Rows of skipped targets are not cleared: callers never read a target whose `or` is 0.
  let mask: Int32Array | undefined;
  let targets: Int32Array | undefined;
  // targets grouped by signature (built on first use): sigTargets[sigStart[k] .. sigStart[k + 1])
  let sigStart: Int32Array | null = null;
  let sigTargets: Int32Array | null = null;
  const direct = space <= 1 << 22;
  let table: Int32Array | null = null;
  let known: Int32Array | null = null;
  let generation = 0;
  return (q: number, relevant: number) => {
    const terms = plan.terms[q]!;
    const decode = (code: number): number => {
      const ev = code >>> lowBits;
      const at = code & atomMask;
      let m = 0;
      for (const t of terms) {
        if ((t.ev !== -1 && t.ev !== ev) || (at & t.req) !== t.req) continue;
        let ok = true;
        for (const fr of t.fields) {
          const f = fields[fr.field]!;
          if (!fr.allowed[(code >>> f.shift) & ((1 << f.bits) - 1)]) {
            ok = false;
            break;
          }
        }
        if (ok) m |= t.bit;
      }
      return m;
    };
    const gate = relevant === 0 ? [] : terms.filter((t) => (t.bit & relevant) !== 0);
    mask ??= scratch && scratch.length >= codes.length ? scratch : new Int32Array(codes.length);
    if (direct) {
      table ??= new Int32Array(space);
      known ??= new Int32Array(space);
    }
    const gen = ++generation;
    const memo = direct ? null : new Map<number, number>();
    if (relevant !== 0) for (let k = 0; k < sigs.length; k++) sigPossible[k] = possibleFor(gate, sigs[k]!) ? 1 : 0;
    targets ??= new Int32Array(nTargets);
    let nVisit = 0;
    if (relevant === 0) for (let t = 0; t < nTargets; t++) targets[nVisit++] = t;
    else {
      // the candidates, signature by signature (each signature's targets ascending): a funnel
      // costs its candidates, not a look at every target (26 funnels x 2M targets took ~0.17 CPU-s)
      if (!sigStart) {
        sigStart = new Int32Array(sigs.length + 1);
        for (let t = 0; t < nTargets; t++) sigStart[sigOf[t]! + 1]!++;
        for (let k = 0; k < sigs.length; k++) sigStart[k + 1]! += sigStart[k]!;
        sigTargets = new Int32Array(nTargets);
        const next = sigStart.slice(0, sigs.length);
        for (let t = 0; t < nTargets; t++) sigTargets[next[sigOf[t]!]!++] = t;
      }
      for (let k = 0; k < sigs.length; k++) {
        if (sigPossible[k] === 0) continue;
        const from = sigStart[k]!;
        const len = sigStart[k + 1]! - from;
        targets.set(sigTargets!.subarray(from, from + len), nVisit);
        nVisit += len;
      }
    }
    const m = mask;
    // computed right before the caller reads them, while the target's rows are in cache
    const prepare = (t: number): number => {
      let acc = 0;
      const end = start[t + 1]!;
      for (let r = start[t]!; r < end; r++) {
        const c = codes[r]!;
        let v: number;
        if (table) {
          if (known![c] !== gen) {
            table[c] = decode(c);
            known![c] = gen;
          }
          v = table[c]!;
        } else {
          let x = memo!.get(c);
          if (x === undefined) memo!.set(c, (x = decode(c)));
          v = x;
        }
        m[r] = v;
        acc |= v;
      }
      return acc;
    };
    return { mask: m, targets, nTargets: nVisit, prepare };
  };
}

function plainMasks(masks: Int32Array[], start: Int32Array): (q: number, relevant: number) => FunnelMask {
  const all = Int32Array.from({ length: start.length - 1 }, (_, t) => t);
  return (q: number) => {
    const mask = masks[q]!;
    const prepare = (t: number): number => {
      let acc = 0;
      for (let r = start[t]!; r < start[t + 1]!; r++) acc |= mask[r]!;
      return acc;
    };
    return { mask, targets: all, nTargets: all.length, prepare };
  };
}

/**
 * A funnel's mask column (rows in group order). The targets that may enter the funnel are
 * targets[0 .. nTargets), each once (signature by signature, ascending within one; results do
 * not depend on the order); prepare(t) fills the mask rows of target t and returns
 * their OR (rows of targets not prepared hold stale values: never read them).
 */
export interface FunnelMask {
  mask: Int32Array;
  targets: Int32Array;
  nTargets: number;
  prepare(t: number): number;
}

/** Groupings of fewer rows are finished on this thread alone. */
const HELPER_MIN_ROWS = 1_000_000;

/** Tables past twice this many rows are scanned in parts of about this size (at most 8). */
const SCAN_PART_ROWS = 1_500_000;

/** Rows in the events table (known to DuckDB without a scan). */
export async function eventCount(store: Store): Promise<number> {
  const r = await store.conn.runAndReadAll('SELECT count(*) FROM events');
  return Number(r.getRows()[0]?.[0] ?? 0);
}


/** Slots of the direct-mapped cache in front of the breakdown code table (see breakdownCodes). */
const BD_CACHE = 1024;

/**
 * Dense codes of a chunk's breakdown hashes ((lo, hi) pairs). Breakdowns usually have few
 * values, so a small direct-mapped cache of [lo, hi, code] answers most rows without probing
 * the table (a probe per row cost ~0.25 CPU-s on 9M rows).
 */
function breakdownCodes(bh: Uint32Array, count: number, ids: DenseIds, cache: Int32Array): Int32Array {
  const out = new Int32Array(count);
  const mask = BD_CACHE - 1;
  for (let i = 0; i < count; i++) {
    const lo = bh[2 * i]! | 0;
    const hi = bh[2 * i + 1]! | 0;
    const k = ((lo ^ hi) & mask) * 3;
    if (cache[k + 2]! >= 0 && cache[k] === lo && cache[k + 1] === hi) {
      out[i] = cache[k + 2]!;
      continue;
    }
    const id = ids.get(lo, hi);
    cache[k] = lo;
    cache[k + 1] = hi;
    cache[k + 2] = id;
    out[i] = id;
  }
  return out;
}

let known: Map<string, readonly string[]> | undefined;

/** The values Teleport's vocabulary allows per property key (loaded on first use: the worker thread never needs it). */
async function knownValues(): Promise<ReadonlyMap<string, readonly string[]>> {
  if (known) return known;
  const { vocabRules } = await import('../../../store/vocab-rules.js');
  known = new Map();
  for (const r of vocabRules()) if (r.allowed) known.set(r.key, [...(known.get(r.key) ?? []), ...r.allowed]);
  return known;
}

/** Run the scan for a batch of funnels with the same scanKey. */
export async function scanFunnels(store: Store, specs: readonly FunnelSpec[], opts: ScanOptions = {}): Promise<ScanResult> {
  const { sql, partSql, namesSql, candidatesSql, plan } = buildScanSql(specs, store, opts);
  debug('sql', () => `funnel scan: ${sql}`);
  const hasBd = specs.some((x) => !!x.breakdown);
  const nm = specs.length;
  // with an atom plan: one code per row (event code << atoms | atom bits); else one mask per funnel
  const nCols = plan ? 1 : nm;
  // The columns are sized up front from the table's row count, an upper bound known instantly;
  // pages past the rows actually read are never touched. shared: on SharedArrayBuffers, so a
  // helper thread can take part in the grouping and the funnel passes.
  const expected = opts.events ?? (await eventCount(store));
  const scatter = new Scatter(expected, nCols + (hasBd ? 1 : 0), !!opts.withTargetNames, !!opts.shared);
  const rowNames: string[] = [];
  const timing = debugEnabled('funnel')
    ? (label: string) => {
        const m = process.memoryUsage();
        const cu = process.cpuUsage();
        debug('funnel', `${label} ${(performance.now() - t0).toFixed(0)} ms, ${performance.now().toFixed(0)} ms since start, cpu ${((cu.user + cu.system) / 1000).toFixed(0)} ms, ${process.resourceUsage().minorPageFault} page faults (rss ${(m.rss / 2 ** 20).toFixed(0)} MB, array buffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MB)`);
      }
    : null;
  const t0 = performance.now();
  // A materialized result runs the scan on every thread; a streamed one pulls it through a
  // single pipeline and was ~2x slower to read here (10M rows: 4.5 s vs 2 s). A big table is
  // scanned in rowid ranges, in order: DuckDB computes the next range on its threads while this
  // thread scatters the current one into buckets (same rows, same order as one query).
  const partRows = opts.partRows ?? SCAN_PART_ROWS;
  // (first_time_for_user steps join a per-person minimum over all events: computed once, not per range)
  const firstTime = specs.some((x) => x.steps.some((st) => st.firstTime));
  const parts = expected >= partRows * 2 && !firstTime ? Math.min(8, Math.ceil(expected / partRows)) : 1;
  let ranges: [number, number][] = [];
  if (parts > 1) {
    const maxRowid = Number((await store.conn.runAndReadAll('SELECT max(rowid) FROM events')).getRows()[0]?.[0] ?? 0);
    const step = Math.ceil((maxRowid + 1) / parts);
    ranges = Array.from({ length: parts }, (_, k) => [k * step, k === parts - 1 ? maxRowid + 1 : (k + 1) * step] as [number, number]);
  }
  const run = (k: number) => {
    const p = store.conn.run(ranges.length ? partSql(ranges[k]![0], ranges[k]![1]) : sql);
    p.catch(() => undefined); // awaited in turn below
    return p;
  };
  const bIds = new DenseIds(1 << 8);
  const bdCache = new Int32Array(BD_CACHE * 3).fill(-1);
  let next = run(0);
  for (let k = 0; k < Math.max(1, ranges.length); k++) {
    const result = await next;
    if (k === 0) timing?.('duckdb');
    if (k + 1 < ranges.length) next = run(k + 1);
    const chunks: ScanChunk[] = [];
    const held: { reset(): void }[] = [];
    const nChunks = result.chunkCount;
    for (let ci = 0; ci < nChunks; ci++) {
      const chunk = result.getChunk(ci);
      const count = chunk.rowCount;
      if (count === 0) continue;
      held.push(chunk);
      const vec = (i: number) => chunk.getColumnVector(i) as unknown as VectorLike;
      const cols: ArrayLike<number>[] = [];
      for (let c = 0; c < nCols; c++) cols.push(numbers(vec(2 + c), count));
      if (hasBd) {
        // breakdown hashes -> small dense codes (names: see below)
        cols.push(breakdownCodes(hashHalves(vec(2 + nCols), count), count, bIds, bdCache));
      }
      if (opts.withTargetNames) {
        const strs = vec(2 + nCols + (hasBd ? 1 : 0));
        for (let i = 0; i < count; i++) rowNames.push(String(strs.getItem(i)));
      }
      chunks.push({ count, hash: hashHalves(vec(0), count), ts: numbers(vec(1), count), i32: cols });
    }
    scatter.addPart(chunks);
    // everything is copied out: let DuckDB drop the part's buffers now, not when the wrappers
    // are garbage collected
    for (const c of held) c.reset();
  }
  timing?.('fetched');
  // Breakdown names: hash -> values, for every code the rows have. The likely values are hashed
  // from constants; only if a row has another value, a DISTINCT query over the rows finds them
  // (on DuckDB's threads, while this thread groups the rows).
  const bdNames: string[] = [];
  const readNames = (names: DuckDBMaterializedResult) => {
    for (let ci = 0; ci < names.chunkCount; ci++) {
      const chunk = names.getChunk(ci);
      const bh = hashHalves(chunk.getColumnVector(0) as unknown as VectorLike, chunk.rowCount);
      const vals = chunk.getColumnVector(1) as unknown as VectorLike;
      for (let i = 0; i < chunk.rowCount; i++) {
        // (values of rows the scan did not read have no code: skipped)
        const c = bIds.find(bh[2 * i]!, bh[2 * i + 1]!);
        if (c >= 0) bdNames[c] = String(vals.getItem(i));
      }
    }
  };
  if (hasBd) {
    const sql = candidatesSql(await knownValues());
    if (sql) readNames(await store.conn.run(sql));
  }
  let missing = false;
  for (let c = 0; c < bIds.size; c++) if (bdNames[c] === undefined) missing = true;
  const namesResult = namesSql && hasBd && missing ? store.conn.run(namesSql) : null;
  namesResult?.catch(() => undefined); // awaited below; a failure surfaces there
  const sig: SigPlan | null = plan
    ? {
        lowBits: plan.lowBits,
        atomMask: (1 << plan.atoms.length) - 1,
        fieldShift: plan.fields.map((f) => f.shift),
        fieldMask: plan.fields.map((f) => (1 << f.bits) - 1),
      }
    : null;
  const state = scatter.done(sig);
  const rows = state.rows;
  let groups: BucketGroups[];
  // (a small grouping is done before a helper thread could even answer)
  if (opts.shared && opts.helper && rows >= HELPER_MIN_ROWS) {
    // the helper thread finishes the upper half of the buckets while this thread does the lower
    const theirs = opts.helper(state, BUCKETS / 2, BUCKETS);
    theirs.catch(() => undefined); // awaited below
    const mine = finishBuckets(state, 0, BUCKETS / 2);
    groups = [mine, await theirs];
  } else groups = [finishBuckets(state, 0, BUCKETS)];
  const { start, signatures } = joinGroups(groups, rows, !!plan, !!opts.shared);
  timing?.('grouped');
  if (namesResult) {
    readNames(await namesResult);
    timing?.('breakdown names');
  }
  const nTargets = start.length - 1;
  let names: (string | null)[] | null = null;
  if (opts.withTargetNames) {
    names = new Array<string | null>(nTargets);
    for (let t = 0; t < nTargets; t++) {
      const s = rowNames[state.out.idx[start[t]!]!]!;
      names[t] = s === NULL_TARGET ? null : s;
    }
  }
  const data: ScanData = {
    rows,
    ts: state.out.ts,
    start,
    codes: plan ? state.out.i32[0]! : null,
    masks: plan ? [] : state.out.i32.slice(0, nCols),
    plan,
    bd: hasBd ? state.out.i32[nCols]! : null,
    bdDict: bdNames.map((s) => (s === undefined ? [] : (JSON.parse(s) as string[]))),
    signatures,
    // the scattered rows' hash halves
    scratch: [new Int32Array(state.lo.buffer, state.lo.byteOffset, rows), new Int32Array(state.hi.buffer, state.hi.byteOffset, rows)],
  };
  return scanFromData(data, names);
}
