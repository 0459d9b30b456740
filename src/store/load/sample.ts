/**
 * Which property keys a source's rows carry, guessed before its insert from its first rows and
 * from lines sampled across the file, so the insert extracts their columns (see sampleKeys).
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { StoreHandle as Store } from '../handle.js';
import type { Source } from '../sources.js';
import { vocabRules } from '../vocab-rules.js';
import { taxonomy } from '../../events/taxonomy.js';
import { LEGACY_DISCOVER_EVENT_NAMES } from '../../events/vocabulary.js';

/** Rows whose keys decide the columns an insert extracts. */
const SAMPLE_ROWS = 4096;

/**
 * Keys a source's rows are expected to carry: those of its first rows, of lines sampled across
 * an uncompressed JSONL file, and every key the vocabulary gives the event names seen there
 * (a Connect setup event may carry a failed step even if the sampled ones did not), and every
 * key of a product once one of its events is seen (productFamilies). Keys found
 * only after the insert are filled by an UPDATE of the new rows, which makes DuckDB rewrite
 * them at commit (10M events: 0.7 s -> 33 s), so a wide net here is worth its milliseconds.
 */
export async function sampleKeys(store: Store, base: string, src: Source): Promise<Set<string>> {
  const seen = new Set<string>();
  const names = new Set<string>();
  // one read of the first rows: their keys and their event names (JSONL in JS: DuckDB's reader
  // parses whole buffers on every thread before the LIMIT stops it, ~0.13 s)
  if (!(await headSample(src, seen, names))) {
    const r = await store.conn.runAndReadAll(
      `SELECT list_distinct(flatten(list(json_keys(pj)) FILTER (WHERE pj IS NOT NULL))), list(DISTINCT event) FILTER (WHERE event IS NOT NULL)
       FROM (SELECT pj, event FROM (${base}) LIMIT ${SAMPLE_ROWS})`,
    );
    const [keys, events] = (r.getRowsJson()[0] ?? [null, null]) as [string[] | null, string[] | null];
    for (const k of keys ?? []) seen.add(k);
    for (const e of events ?? []) names.add(e);
  }
  spreadSample(src, seen, names);
  for (const rule of vocabRules()) {
    if (!rule.events.some((e) => names.has(e))) continue;
    seen.add(rule.key);
    if (rule.when) seen.add(rule.when.key);
  }
  for (const family of productFamilies()) if (family.events.some((e) => names.has(e))) for (const k of family.keys) seen.add(k);
  return seen;
}

let families: { events: string[]; keys: string[] }[] | undefined;

/**
 * Every property key of a product (Discover, Connect) once any of its events is seen: its rare
 * keys (a count that one event in 70,000 carries) escape any sample, and a column left empty
 * costs ~0.03 CPU-s per million rows where filling it after the insert costs a rewrite at commit.
 */
function productFamilies(): { events: string[]; keys: string[] }[] {
  if (families) return families;
  const t = taxonomy();
  families = [
    { events: [...Object.values(t.discover.events), ...Object.keys(LEGACY_DISCOVER_EVENT_NAMES)], keys: Object.values(t.discover.properties) },
    { events: Object.values(t.connect.events), keys: Object.values(t.connect.properties) },
  ];
  return families;
}

/** Text read at most for the first rows of a JSONL source (their lines are usually ~2 MB). */
const HEAD_SAMPLE_CHARS = 16 << 20;

/**
 * The property keys and event names of a JSONL source's first SAMPLE_ROWS lines (gunzipped as
 * they are read). False when this is not JSONL or a line of them does not parse in JS (DuckDB
 * then samples them: it reads some JSON that JSON.parse does not, such as NaN).
 */
async function headSample(src: Source, keys: Set<string>, events: Set<string>): Promise<boolean> {
  if (src.format !== 'jsonl') return false;
  const lines: string[] = [];
  let rest = '';
  let whole = true;
  const input = createReadStream(src.path, { highWaterMark: 1 << 20 });
  const stream = src.gzip ? input.pipe(createGunzip()) : input;
  stream.setEncoding('utf8');
  let read = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      read += chunk.length;
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const l of parts) if (lines.length < SAMPLE_ROWS) lines.push(l);
      if (lines.length >= SAMPLE_ROWS || read >= HEAD_SAMPLE_CHARS) {
        whole = false;
        break;
      }
    }
  } catch {
    return false; // unreadable, or not gzip after all: the insert reports it
  } finally {
    input.destroy();
    if (stream !== input) stream.destroy();
  }
  if (whole) lines.push(rest);
  if (lines.length > 0) lines[0] = lines[0]!.replace(/^\uFEFF/, '');
  for (const line of lines) {
    if (line.trim() === '') continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return false;
    }
    collectRecord(rec, keys, events);
  }
  return true;
}

/** Adds a parsed JSONL record's event name and property keys (properties given as a JSON string are unwrapped, as the insert does). */
function collectRecord(rec: unknown, keys: Set<string>, events: Set<string>): void {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return;
  const { event, properties } = rec as { event?: unknown; properties?: unknown };
  if (typeof event === 'string') events.add(event);
  let props = properties;
  if (typeof props === 'string') {
    try {
      props = JSON.parse(props);
    } catch {
      return;
    }
  }
  if (props && typeof props === 'object' && !Array.isArray(props)) for (const k of Object.keys(props)) keys.add(k);
}

/** Lines read from this many places spread over a big uncompressed JSONL file (64 KiB each). */
const SPREAD_WINDOWS = 64;
const SPREAD_WINDOW_BYTES = 1 << 16;

/** Adds the property keys and event names of complete lines in windows spread over the file. */
function spreadSample(src: Source, keys: Set<string>, events: Set<string>): void {
  if (src.format !== 'jsonl' || src.gzip) return;
  let fd: number | undefined;
  try {
    fd = openSync(src.path, 'r');
    const size = fstatSync(fd).size;
    if (size <= SPREAD_WINDOWS * SPREAD_WINDOW_BYTES) return; // the first rows are a fair share of it
    const buf = Buffer.alloc(SPREAD_WINDOW_BYTES);
    for (let w = 1; w < SPREAD_WINDOWS; w++) {
      const at = Math.floor((size / SPREAD_WINDOWS) * w);
      const n = readSync(fd, buf, 0, buf.length, at);
      const text = buf.toString('utf8', 0, n);
      const lines = text.slice(text.indexOf('\n') + 1, text.lastIndexOf('\n')).split('\n');
      for (const line of lines) {
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          continue; // the insert reports bad lines with their place
        }
        collectRecord(rec, keys, events);
      }
    }
  } catch {
    /* unreadable here: the insert reports it */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

