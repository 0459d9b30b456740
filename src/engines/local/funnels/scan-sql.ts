/**
 * The SQL of a funnel scan: which rows a batch of compatible funnels reads and what each row
 * carries (target hash, epoch microseconds, packed step codes or one mask per funnel, breakdown
 * hash), the scan key that tells which funnels can share a scan, and the atom plan that packs
 * every funnel's step predicates into one INTEGER per row (see planAtoms).
 */
import type { Store } from '../../../store/store.js';
import { quoteIdent, sqlString, stringInSql, stringListSql } from '../../../store/sql.js';
import { UsageError } from '../../../errors.js';
import { timestampRangeSql } from '../../../store/sql.js';
import { exactFilterParts, propertyFiltersSql, usesPersonProperties } from '../filters.js';
import { fieldSql } from '../hogql.js';
import type { FunnelSpec, StepSpec } from './spec.js';
import type { SigPlan } from './group.js';

/** Targets whose aggregation value is NULL form one group, like ClickHouse's GROUP BY. */
export const NULL_TARGET = '\u2400null\u2400';

export const MAX_FUNNEL_STEPS = 16;


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
export interface ValueField {
  /** SQL of the compared expression */
  expr: string;
  /** value -> code (1-based; 0 = missing or another value) */
  codes: Map<string, number>;
  /** first bit of the field in the atoms column, and its width */
  shift: number;
  bits: number;
}

export interface FieldReq {
  field: number;
  /** codes that satisfy the condition */
  allowed: Uint8Array;
  /** allowed codes as a per-target gate set (code bit min(code, 31)) */
  gate: number;
}

export interface Term {
  /** event code, -1 for any event */
  ev: number;
  /** required atom bits */
  req: number;
  /** required value-field conditions (all must hold) */
  fields: FieldReq[];
  /** mask bit this term sets */
  bit: number;
}

export interface AtomPlan {
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

/** What the grouping needs of a plan to make target signatures (see SigPlan in group.ts). */
export function signaturePlan(plan: AtomPlan): SigPlan {
  return {
    lowBits: plan.lowBits,
    atomMask: (1 << plan.atoms.length) - 1,
    fieldShift: plan.fields.map((f) => f.shift),
    fieldMask: plan.fields.map((f) => (1 << f.bits) - 1),
  };
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
  /**
   * The same per-row values for each combination of a session index (session-index.ts: the
   * table's rows stand in for events), ordered by id: the INTEGER columns as the scan has them,
   * `keep` for the scan's WHERE without its time range (which the index rows are checked against
   * in JS) and, with a breakdown, its values as JSON. Null if these funnels cannot use the index:
   * another aggregation target, persons, first-time steps, target names. A query that names a
   * column the table does not have fails to bind: the caller then scans.
   */
  comboSql(table: string, hashColumn: string): string | null;
}

export function buildScanSql(specs: readonly FunnelSpec[], store: Store, opts: { withTargetNames?: boolean } = {}): ScanSql {
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
  const rowCols = cols.length;
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
  const i32Cols = cols.slice(rowCols);
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
    comboSql: (table, hashColumn) => {
      if (opts.withTargetNames || join || specs.some((s) => s.steps.some((x) => x.firstTime))) return null;
      if (targetHashSql(first, store) !== `e.${quoteIdent(hashColumn)}`) return null;
      // where[0] is the time range
      const keep = where.length > 1 ? `coalesce(${where.slice(1).join(' AND ')}, false)` : 'true';
      const bdJson = bdParts ? `, to_json([${bdParts.join(', ')}])::VARCHAR AS bd` : '';
      return `SELECT ${i32Cols.join(', ')}, ${keep} AS keep${bdJson} FROM ${table} e ORDER BY e.id`;
    },
  };
}
