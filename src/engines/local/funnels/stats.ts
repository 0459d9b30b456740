/**
 * The statistics of funnel results, computed like ClickHouse: the exact median (quantile(0.5),
 * interpolated) and the mean of conversion times, over growable sample lists.
 */

/** k-th smallest of a[0..n) (reorders a), Hoare quickselect with median-of-three pivots. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    let x = a[lo]!;
    let y = a[mid]!;
    let z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Values at or above this count are narrowed down by a histogram before the quickselect. */
const HISTOGRAM_MIN = 1 << 12;
const HISTOGRAM_BUCKETS = 1 << 12;

/**
 * The values of a[0..n) at sorted positions lo and lo + 1 (lo + 1 < n), without reordering a.
 * Big inputs: one pass counts the values per histogram bucket of [min, max] (bucket index is
 * monotonic in the value, so the ranks fall in known buckets), then only those buckets' values
 * are selected from; a quickselect over all of them took ~3x as long.
 */
function middlePair(a: Float64Array, n: number, lo: number, narrow = true): [number, number] {
  if (n < HISTOGRAM_MIN || !narrow) {
    const c = a.slice(0, n);
    const vlo = select(c, n, lo);
    // the upper value is the minimum of the part above lo
    let vhi = Infinity;
    for (let i = lo + 1; i < n; i++) if (c[i]! < vhi) vhi = c[i]!;
    return [vlo, vhi];
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return [min, min];
  const last = HISTOGRAM_BUCKETS - 1;
  const scale = HISTOGRAM_BUCKETS / (max - min);
  const bucketOf = (v: number) => Math.min(last, Math.floor((v - min) * scale));
  const counts = new Int32Array(HISTOGRAM_BUCKETS);
  for (let i = 0; i < n; i++) counts[bucketOf(a[i]!)]!++;
  // buckets holding ranks lo and lo + 1, and how many values lie below the first
  let below = 0;
  let b = 0;
  while (below + counts[b]! <= lo) below += counts[b++]!;
  let b2 = b;
  let below2 = below;
  while (below2 + counts[b2]! <= lo + 1) below2 += counts[b2++]!;
  const size = counts[b]! + (b2 !== b ? counts[b2]! : 0);
  const part = new Float64Array(size);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = bucketOf(a[i]!);
    if (x === b || x === b2) part[m++] = a[i]!;
  }
  // part holds the values of buckets b and b2 (all below them are smaller): ranks shift by
  // `below`; if nothing was narrowed down (two values only, say), select directly
  return middlePair(part, m, lo - below, m < n);
}

/** ClickHouse median (quantile(0.5)) computed exactly: linear interpolation between middle values. */
export function median(values: Samples | number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  const a = values instanceof Samples ? values.data : Float64Array.from(values);
  if (n === 1) return a[0]!;
  const pos = (n - 1) * 0.5;
  const lo = Math.floor(pos);
  const [vlo, vhi] = middlePair(a, n, lo);
  return Math.ceil(pos) === lo ? vlo : vlo + (vhi - vlo) * (pos - lo);
}

/**
 * Mean of conversion times. Times are whole microseconds (as seconds): summed as integers the
 * total is exact, so the mean does not depend on the order targets were visited in.
 */
export function mean(values: Samples): number | null {
  if (values.length === 0) return null;
  let sumUs = 0;
  for (let i = 0; i < values.length; i++) sumUs += Math.round(values.data[i]! * 1e6);
  return sumUs / 1e6 / values.length;
}

const NO_SAMPLES = new Float64Array(0);

/**
 * A growable list of float samples. Storage comes with the first sample: a breakdown with many
 * values has one per step and value, most of them empty.
 */
export class Samples {
  data = NO_SAMPLES;
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(Math.max(8, this.data.length * 2));
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  append(o: Samples): void {
    this.appendArray(o.data.subarray(0, o.length));
  }
  appendArray(values: Float64Array): void {
    if (values.length === 0) return;
    if (this.length + values.length > this.data.length) {
      const next = new Float64Array(Math.max(8, this.data.length * 2, this.length + values.length));
      next.set(this.data.subarray(0, this.length));
      this.data = next;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
}
