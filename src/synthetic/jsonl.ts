/**
 * The generator's byte-level JSONL writer: per-day buffers of UTF-8 lines sorted by time, event
 * uuids and hex written straight into reused buffers, and the Actor base class every simulated
 * entity writes through. Hand-written because no library writes PostHog-shaped lines at this
 * rate with flat memory (see docs/BENCHMARKS.md).
 */
import { taxonomy } from '../events/taxonomy.js';
import { eventUuidWords, hash32, type Rng } from './rng.js';
import type { GenerateStats } from './types.js';
import { DAY_MS, GENERIC_ERRORS, HOUR_MS, MIN_MS, RESOURCE_STEP_ERRORS, STEP_ERRORS } from './world.js';
import { loadTracks } from './tracks.js';
import { loadResourceCatalog } from '../definitions/resources.js';

export const q = (s: string) => JSON.stringify(s);

/**
 * A flat copy of a string built by concatenation. V8 keeps concatenations as trees and walks
 * them again every time they are copied; fragments reused for many events are flattened once.
 */
export const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

// ---------------------------------------------------------------------------------------------
// Keys, event names and constant fragments (all from the taxonomy)

export interface Names {
  marker: string;
  /** The signup event, when the taxonomy names one (real prehog has none: accounts are first seen at their first event). */
  signup: string | null;
  discover: Record<string, string>;
  connect: Record<string, string>;
  dp: Record<string, string>;
  cp: Record<string, string>;
  np: Record<string, string>;
  pp: Record<string, string>;
}

export function names(): Names {
  const t = taxonomy();
  const map = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, q(v)]));
  return {
    marker: flat(`,${q(t.synthetic.markerProperty)}:true`),
    signup: t.discover.signupEvent ? q(t.discover.signupEvent) : null,
    discover: map(t.discover.events),
    connect: map(t.connect.events),
    dp: map(t.discover.properties),
    cp: map(t.cluster.properties),
    np: map(t.connect.properties),
    pp: map(t.connect.personProperties),
  };
}

// ---------------------------------------------------------------------------------------------
// Output collection: per-day buffers of UTF-8 lines, sorted by time before writing.
// Lines go straight into a reusable byte buffer, so no long-lived string objects pile up
// (that kept the garbage collector busy) and memory stays flat however many days are made.

const HEX_CODES = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const h = i.toString(16).padStart(2, '0');
  HEX_CODES[i * 2] = h.charCodeAt(0);
  HEX_CODES[i * 2 + 1] = h.charCodeAt(1);
}
const ZERO = 48;
/** Size of the output chunks drain() assembles (and room kept for them in each day buffer). */
export const STAGE_BYTES = 1 << 20;
const P_UUID = Buffer.from('{"uuid":"', 'latin1');
const P_PROPS = Buffer.from('","properties":{', 'latin1');

/** Bytes of a string known to be ASCII (fragments made from the taxonomy and fixed tables). */
export const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** One event line, as its parts (all but `props` pre-encoded by the caller). */
interface LineParts {
  /** `","event":"<name>"` */
  ev: Uint8Array;
  /** `,"distinct_id":"<id>","timestamp":"` */
  did: Uint8Array;
  props: string | Uint8Array;
  props2?: Uint8Array;
  /** `,"<marker>":true},"person_properties":{` */
  mid: Uint8Array;
  /** `<person properties>}}\n` */
  person: Uint8Array;
}

class DayBuffer {
  /** 'latin1' is a plain byte copy, exact when every line is ASCII (checked once per world). */
  constructor(private readonly encoding: 'latin1' | 'utf8') {}
  buf: Buffer = Buffer.allocUnsafe(1 << 20);
  used = 0;
  count = 0;
  times = new Float64Array(1 << 12);
  offs = new Uint32Array(1 << 12);
  lens = new Uint32Array(1 << 12);
  private isoDay = NaN;
  private readonly isoPrefix = new Uint8Array(11);

  /** Make room for `need` bytes in total, keeping what is written. */
  ensure(need: number): void {
    if (need > this.buf.length) {
      // double: few reallocations (each leaves garbage until the next GC); buffers are reused day
      // after day, so capacity settles after the first busy day
      const size = Math.max(need + (1 << 16), this.buf.length * 2);
      const b = Buffer.allocUnsafeSlow(size);
      this.buf.copy(b, 0, 0, this.used);
      this.buf = b;
    }
  }

  /** Append one line: `{"uuid":"…","event":…,"distinct_id":…,"timestamp":"…","properties":{…},"person_properties":{…}}`. */
  add(t: number, uuid: Uint32Array, p: LineParts): void {
    const propsMax = typeof p.props === 'string' ? p.props.length * 3 : p.props.length;
    const need =
      this.used + P_UUID.length + 36 + p.ev.length + p.did.length + 24 + P_PROPS.length + propsMax + (p.props2?.length ?? 0) + p.mid.length + p.person.length;
    // keep room for drain()'s staging area too, so ordering the day never reallocates
    this.ensure(need + STAGE_BYTES);
    if (this.count === this.times.length) {
      const grow = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.times = grow(this.times, (n) => new Float64Array(n));
      this.offs = grow(this.offs, (n) => new Uint32Array(n));
      this.lens = grow(this.lens, (n) => new Uint32Array(n));
    }
    const buf = this.buf;
    const start = this.used;
    let pos = start;
    buf.set(P_UUID, pos);
    pos += P_UUID.length;
    pos = writeUuid(buf, pos, uuid);
    buf.set(p.ev, pos);
    pos += p.ev.length;
    buf.set(p.did, pos);
    pos += p.did.length;
    pos = this.writeIso(buf, pos, t);
    buf.set(P_PROPS, pos);
    pos += P_PROPS.length;
    if (typeof p.props === 'string') pos += buf.write(p.props, pos, this.encoding);
    else {
      buf.set(p.props, pos);
      pos += p.props.length;
    }
    if (p.props2) {
      buf.set(p.props2, pos);
      pos += p.props2.length;
    }
    buf.set(p.mid, pos);
    pos += p.mid.length;
    buf.set(p.person, pos);
    pos += p.person.length;
    this.times[this.count] = t;
    this.offs[this.count] = start;
    this.lens[this.count] = pos - start;
    this.count++;
    this.used = pos;
  }

  /** Same characters as Date#toISOString for an integer ms timestamp (years 1970–9999). */
  private writeIso(buf: Buffer, pos: number, t: number): number {
    const day = Math.floor(t / DAY_MS);
    if (day !== this.isoDay) {
      this.isoDay = day;
      this.isoPrefix.set(Buffer.from(new Date(day * DAY_MS).toISOString().slice(0, 11), 'latin1'));
    }
    buf.set(this.isoPrefix, pos);
    pos += 11;
    let ms = t - day * DAY_MS;
    const h = Math.floor(ms / HOUR_MS);
    ms -= h * HOUR_MS;
    const m = Math.floor(ms / MIN_MS);
    ms -= m * MIN_MS;
    const sec = Math.floor(ms / 1000);
    ms -= sec * 1000;
    buf[pos++] = ZERO + Math.floor(h / 10);
    buf[pos++] = ZERO + (h % 10);
    buf[pos++] = 58; // :
    buf[pos++] = ZERO + Math.floor(m / 10);
    buf[pos++] = ZERO + (m % 10);
    buf[pos++] = 58;
    buf[pos++] = ZERO + Math.floor(sec / 10);
    buf[pos++] = ZERO + (sec % 10);
    buf[pos++] = 46; // .
    buf[pos++] = ZERO + Math.floor(ms / 100);
    buf[pos++] = ZERO + (Math.floor(ms / 10) % 10);
    buf[pos++] = ZERO + (ms % 10);
    buf[pos++] = 90; // Z
    return pos;
  }

  reset(): void {
    this.used = 0;
    this.count = 0;
  }
}

function writeHex32(buf: Buffer, pos: number, w: number): number {
  let b = w >>> 24;
  buf[pos] = HEX_CODES[b * 2]!;
  buf[pos + 1] = HEX_CODES[b * 2 + 1]!;
  b = (w >>> 16) & 255;
  buf[pos + 2] = HEX_CODES[b * 2]!;
  buf[pos + 3] = HEX_CODES[b * 2 + 1]!;
  b = (w >>> 8) & 255;
  buf[pos + 4] = HEX_CODES[b * 2]!;
  buf[pos + 5] = HEX_CODES[b * 2 + 1]!;
  b = w & 255;
  buf[pos + 6] = HEX_CODES[b * 2]!;
  buf[pos + 7] = HEX_CODES[b * 2 + 1]!;
  return pos + 8;
}

function writeHex16(buf: Buffer, pos: number, v: number): number {
  const hi = v >>> 8;
  const lo = v & 255;
  buf[pos] = HEX_CODES[hi * 2]!;
  buf[pos + 1] = HEX_CODES[hi * 2 + 1]!;
  buf[pos + 2] = HEX_CODES[lo * 2]!;
  buf[pos + 3] = HEX_CODES[lo * 2 + 1]!;
  return pos + 4;
}

/** The UUID text (8-4-4-4-12) of four words, written as bytes. */
function writeUuid(buf: Buffer, pos: number, w: Uint32Array): number {
  const dash = 45;
  pos = writeHex32(buf, pos, w[0]!);
  buf[pos++] = dash;
  pos = writeHex16(buf, pos, w[1]! >>> 16);
  buf[pos++] = dash;
  pos = writeHex16(buf, pos, w[1]! & 0xffff);
  buf[pos++] = dash;
  pos = writeHex16(buf, pos, w[2]! >>> 16);
  buf[pos++] = dash;
  pos = writeHex16(buf, pos, w[2]! & 0xffff);
  return writeHex32(buf, pos, w[3]!);
}

export class Sink {
  private readonly buckets = new Map<number, DayBuffer>();
  private readonly pool: DayBuffer[] = [];
  readonly stats: GenerateStats = { events: 0, byEvent: new Map(), dropped: 0 };
  constructor(
    readonly seed: number,
    readonly n: Names,
    private readonly start: number,
    private readonly end: number,
  ) {
    this.mid = bytes(n.marker + '},"person_properties":{');
  }

  private readonly encoding: 'latin1' | 'utf8' =
    /^[\x20-\x7e]*$/.test(JSON.stringify([{ ...taxonomy(), $comment: undefined }, STEP_ERRORS, RESOURCE_STEP_ERRORS, GENERIC_ERRORS, loadResourceCatalog(), loadTracks()])) ? 'latin1' : 'utf8';

  /** Bytes of `,"<marker>":true},"person_properties":{`. */
  readonly mid: Buffer;
  readonly uuidWords = new Uint32Array(4);
  private readonly evBytes = new Map<string, Buffer>();

  push(t: number, uuid: Uint32Array, eventJson: string, parts: Omit<LineParts, 'ev' | 'mid'>): void {
    if (t >= this.end) {
      this.stats.dropped++;
      return;
    }
    const day = Math.max(0, Math.floor((t - this.start) / DAY_MS));
    let b = this.buckets.get(day);
    if (!b) this.buckets.set(day, (b = this.pool.pop() ?? new DayBuffer(this.encoding)));
    let ev = this.evBytes.get(eventJson);
    if (ev === undefined) this.evBytes.set(eventJson, (ev = bytes('","event":' + eventJson)));
    b.add(t, uuid, { ev, did: parts.did, props: parts.props, props2: parts.props2, mid: this.mid, person: parts.person });
    this.stats.events++;
    this.stats.byEvent.set(eventJson, (this.stats.byEvent.get(eventJson) ?? 0) + 1);
  }

  /** Output chunks handed back by the writer once written (see recycle()). */
  private readonly chunkPool: Buffer[] = [];

  /** Give a chunk yielded by generateChunks() back for reuse once it has been written. */
  recycle(chunk: Uint8Array): void {
    if (this.chunkPool.length < 16) this.chunkPool.push(Buffer.from(chunk.buffer, 0, chunk.buffer.byteLength));
  }

  private newChunk(min: number): Buffer {
    const c = this.chunkPool.pop();
    return c !== undefined && c.length >= min ? c : Buffer.allocUnsafeSlow(Math.max(min, 1 << 20));
  }

  private flushStage(buf: Buffer, stage: number, len: number): Buffer {
    const chunk = this.newChunk(len);
    buf.copy(chunk, 0, stage, stage + len);
    return chunk.subarray(0, len);
  }

  /**
   * The day's lines in time order (ties keep generation order), as chunks of about
   * `chunkBytes` bytes. A chunk is the caller's until it passes it to recycle().
   */
  *drain(day: number, chunkBytes = STAGE_BYTES): Generator<Buffer> {
    const b = this.buckets.get(day);
    if (!b) return;
    this.buckets.delete(day);
    const { times, offs, lens, count } = b;
    // Sort keys (ms into the day, then generation order) as plain numbers: a native numeric
    // sort instead of a comparator call per comparison. Exact while count < 2^26.
    const base = this.start + day * DAY_MS;
    const keys = new Float64Array(count);
    const SLOTS = 67_108_864;
    if (count >= SLOTS) throw new Error(`more than ${SLOTS} events on one day; generate fewer per day`);
    for (let i = 0; i < count; i++) keys[i] = (times[i]! - base) * SLOTS + i;
    keys.sort();
    // Copy lines in time order into a staging area after the day's data (copyWithin: no
    // allocation per line), then each full stage into a pooled chunk.
    const size = Math.max(chunkBytes, 1 << 16);
    let maxLen = 0;
    for (let i = 0; i < count; i++) if (lens[i]! > maxLen) maxLen = lens[i]!;
    const stageSize = Math.max(size, maxLen);
    b.ensure(b.used + stageSize);
    const buf = b.buf;
    const stage = b.used;
    let pos = 0;
    for (let k = 0; k < count; k++) {
      const i = keys[k]! % SLOTS;
      const len = lens[i]!;
      if (pos + len > stageSize) {
        yield this.flushStage(buf, stage, pos);
        pos = 0;
      }
      const off = offs[i]!;
      buf.copyWithin(stage + pos, off, off + len);
      pos += len;
    }
    if (pos > 0) yield this.flushStage(buf, stage, pos);
    b.reset();
    this.pool.push(b);
  }
}

/** Base for simulated entities: a private RNG and a private UUID stream. */
export const EMPTY = Buffer.alloc(0);

export abstract class Actor {
  protected counter = 0;
  private readonly streamHash: number;
  /** Bytes of `,"distinct_id":<id>,"timestamp":"` (set once the id is known). */
  protected didB: Buffer = EMPTY;
  /** Bytes of `<person properties>}}\n` (updated when the person changes). */
  protected personB: Buffer = EMPTY;
  constructor(
    protected readonly sink: Sink,
    stream: number,
    protected readonly rng: Rng,
  ) {
    this.streamHash = hash32(sink.seed, stream);
  }

  protected setDistinctId(didJson: string): void {
    this.didB = bytes(',"distinct_id":' + didJson + ',"timestamp":"');
  }

  protected setPersonFragment(frag: string): void {
    this.personB = bytes(frag + '}}\n');
  }

  protected out(t: number, eventJson: string, props: string | Uint8Array, props2?: Uint8Array): void {
    const words = this.sink.uuidWords; // scratch space shared by all actors (used synchronously)
    eventUuidWords(this.streamHash, this.counter++, words);
    this.sink.push(Math.floor(t), words, eventJson, { did: this.didB, props, props2, person: this.personB });
  }
}

