/**
 * A funnel's step/exclusion mask column, derived from the scan's rows target by target on
 * demand: from the atom plan's per-row codes (one decode per distinct code and funnel), or from
 * the plain per-funnel mask columns of a scan without a plan.
 */
import type { Signatures } from './group.js';
import type { AtomPlan, Term } from './scan-sql.js';

/** Whether a target of this signature can match one of the gate's terms. */
function possibleFor(gate: Term[], sig: { ev: number; at: number; fieldSets: number[] }): boolean {
  for (const g of gate) {
    if ((g.ev !== -1 && (sig.ev & (1 << Math.min(g.ev, 31))) === 0) || (sig.at & g.req) !== g.req) continue;
    if (g.fields.every((fr) => (sig.fieldSets[fr.field]! & fr.gate) !== 0)) return true;
  }
  return false;
}

/**
 * A funnel whose candidates are at least 1/ASCENDING_SHARE of all targets visits them in target
 * order (one look at every target's signature); fewer are gathered signature by signature.
 */
const ASCENDING_SHARE = 8;

function countBySignature(sigOf: Int32Array, nSigs: number): Int32Array {
  const counts = new Int32Array(nSigs);
  for (let t = 0; t < sigOf.length; t++) counts[sigOf[t]!]!++;
  return counts;
}

/** How many targets mask(q, relevant) would hand out, from the signatures alone. */
export function candidateCounter(plan: AtomPlan | null, sig: Signatures | null, nTargets: number): (q: number, relevant: number) => number {
  let counts: Int32Array | null = null;
  return (q, relevant) => {
    if (!plan || !sig || relevant === 0) return nTargets;
    counts ??= countBySignature(sig.of, sig.list.length);
    const gate = plan.terms[q]!.filter((t) => (t.bit & relevant) !== 0);
    let n = 0;
    for (let k = 0; k < sig.list.length; k++) if (possibleFor(gate, sig.list[k]!)) n += counts[k]!;
    return n;
  };
}

/**
 * Masks from per-row codes: each distinct code is decoded once per funnel (a lookup table for
 * small code spaces, a map otherwise), then every row is a table read. The same pass records
 * each target's OR of masks, so funnels can skip targets that cannot enter them in O(1).
 */
export function atomMasks(
  plan: AtomPlan,
  codes: Int32Array,
  start: Int32Array,
  sig: Signatures,
  scratch: Int32Array | undefined,
  codeOf: Int32Array | null = null,
): (q: number, relevant: number) => FunnelMask {
  const lowBits = plan.lowBits;
  const nAtoms = plan.atoms.length;
  const atomMask = (1 << nAtoms) - 1;
  // (with codeOf, rows hold combination ids: the table is indexed by those)
  const space = codeOf ? codeOf.length : (plan.eventCodes.size + 1) << lowBits;
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
  let sigCount: Int32Array | null = null;
  const direct = space <= 1 << 22;
  let table: Int32Array | null = null;
  let known: Int32Array | null = null;
  let generation = 0;
  return (q: number, relevant: number) => {
    const terms = plan.terms[q]!;
    const decode = (id: number): number => {
      const code = codeOf ? codeOf[id]! : id;
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
    let possible = 0;
    if (relevant !== 0) {
      sigCount ??= countBySignature(sigOf, sigs.length);
      for (let k = 0; k < sigs.length; k++) if (sigPossible[k] === 1) possible += sigCount[k]!;
    }
    if (relevant === 0) for (let t = 0; t < nTargets; t++) targets[nVisit++] = t;
    else if (possible * ASCENDING_SHARE >= nTargets) {
      // many candidates: in memory order, so reading their rows streams (a scan's layout keeps
      // a signature's targets together per bucket; the session index's does not)
      for (let t = 0; t < nTargets; t++) if (sigPossible[sigOf[t]!] === 1) targets[nVisit++] = t;
    } else {
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

export function plainMasks(masks: Int32Array[], start: Int32Array): (q: number, relevant: number) => FunnelMask {
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
 * targets[0 .. nTargets), each once (ascending, or signature by signature and ascending within
 * one; results do not depend on the order); prepare(t) fills the mask rows of target t and returns
 * their OR (rows of targets not prepared hold stale values: never read them).
 */
export interface FunnelMask {
  mask: Int32Array;
  targets: Int32Array;
  nTargets: number;
  prepare(t: number): number;
}
