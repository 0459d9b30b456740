/**
 * Dense ids for 64-bit keys given as (lo, hi) int32 pairs, written by hand: a JS Map would need
 * a BigInt or string per key, and millions of keys must cost milliseconds (funnel scan targets,
 * breakdown hashes, the session index's combination sets).
 */
export class DenseIds {
  /** slots of [lo, hi, id + 1] (0 = empty) */
  private table: Int32Array;
  private mask: number;
  private lastLo = 0;
  private lastHi = 0;
  private lastId = -1;
  size = 0;
  /** whether the last get() created a new id */
  isNew = false;
  constructor(capacity = 1 << 16) {
    let cap = 1 << 4;
    while (cap < capacity * 2) cap <<= 1;
    this.table = new Int32Array(cap * 3);
    this.mask = cap - 1;
  }
  /** id of (lo, hi), or -1 if it has none (nothing is added). */
  find(lo: number, hi: number): number {
    const table = this.table;
    const mask = this.mask;
    lo |= 0;
    hi |= 0;
    for (let h = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; h = (h + 1) & mask) {
      const k = h * 3;
      const stored = table[k + 2]!;
      if (stored === 0) return -1;
      if (table[k] === lo && table[k + 1] === hi) return stored - 1;
    }
  }
  /** id of (lo, hi); new ids are 0, 1, 2, ... in first-seen order. */
  get(lo: number, hi: number): number {
    if (lo === this.lastLo && hi === this.lastHi && this.lastId >= 0) {
      this.isNew = false;
      return this.lastId;
    }
    const table = this.table;
    const mask = this.mask;
    lo |= 0;
    hi |= 0;
    let h = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const k = h * 3;
      const stored = table[k + 2]!;
      if (stored === 0) break;
      if (table[k] === lo && table[k + 1] === hi) {
        this.isNew = false;
        this.lastLo = lo;
        this.lastHi = hi;
        return (this.lastId = stored - 1);
      }
      h = (h + 1) & mask;
    }
    const id = this.size++;
    const k = h * 3;
    table[k] = lo;
    table[k + 1] = hi;
    table[k + 2] = id + 1;
    this.isNew = true;
    this.lastLo = lo;
    this.lastHi = hi;
    this.lastId = id;
    if (this.size * 2 > mask) this.grow();
    return id;
  }
  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    const table = new Int32Array(cap * 3);
    const mask = cap - 1;
    for (let k = 0; k < old.length; k += 3) {
      const stored = old[k + 2]!;
      if (stored === 0) continue;
      const lo = old[k]!;
      const hi = old[k + 1]!;
      let h = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
      while (table[h * 3 + 2] !== 0) h = (h + 1) & mask;
      table[h * 3] = lo;
      table[h * 3 + 1] = hi;
      table[h * 3 + 2] = stored;
    }
    this.table = table;
    this.mask = mask;
  }
}
