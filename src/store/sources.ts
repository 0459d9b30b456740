/**
 * Input files for `load`: format detection (by content and magic bytes, not only the name),
 * stdin spooling, and record-by-record reading with positions for error messages.
 *
 * Formats (PostHog's event shape: uuid, event, distinct_id, timestamp, properties, person_id?,
 * person_properties?, anything else ignored):
 *   jsonl    newline-delimited JSON objects (.jsonl/.ndjson); position = file:line
 *   json     one JSON array of objects; position = file[index] (line L)
 *   csv      header row, RFC 4180 quoting, properties as a JSON string; position = file:line
 *   parquet  PostHog batch-export layout; position = file: row N (0-based file row number)
 * Any of them may be gzipped (detected by the 1f 8b magic bytes); gzipped Parquet is inflated
 * to a temporary file first.
 *
 * A path names one file: pipes (`load <(zcat f.gz)`) and other non-files are spooled to a
 * temporary file like stdin, and a path DuckDB's readers would expand as a glob (`a[1b].jsonl`,
 * `*.jsonl`) reaches them as a link with a plain name. A gzipped source is inflated once more in
 * JS while it loads (verifyGzip): DuckDB's reader checks neither the CRC32 nor the length.
 */
import { copyFileSync, createReadStream, createWriteStream, existsSync, fstatSync, mkdtempSync, openSync, readSync, closeSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync, constants as zc } from 'node:zlib';
import { Transform, Writable, type Readable } from 'node:stream';
import { InputError, UsageError } from '../errors.js';

export type SourceFormat = 'jsonl' | 'json' | 'csv' | 'parquet';

export interface Source {
  /** Name used in messages (the path as given, `<stdin>`, or the caller's `where`). */
  display: string;
  /** File DuckDB reads. */
  path: string;
  format: SourceFormat;
  gzip: boolean;
  /** CSV header names, in order. */
  header?: string[];
  /** Position text for a 1-based line (JSONL, CSV) — loadEvents maps lines to batch indexes. */
  lineWhere?: (line: number) => string;
  /**
   * Checks of the whole input that DuckDB's reader does not make (gzip CRC32 and length, a JSON
   * array that is closed): started when the source is opened, awaited before the load commits.
   * Resolves to the problem, or undefined; never rejects.
   */
  check?: Promise<InputError | undefined>;
}

export interface OpenedSources {
  sources: Source[];
  /** Remove spooled/inflated temporary files. */
  cleanup(): void;
}

const HEAD_BYTES = 64 * 1024;

/** Characters DuckDB's file readers take as a glob pattern (and `~` as the home directory). */
const GLOB_CHARS = /[*?[\]{}~]/;

/** A name for `file` without glob characters: a link to it in a temporary folder (a copy where links are not allowed). */
function plainName(file: string, temps: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'dm-src-'));
  temps.push(dir);
  const link = join(dir, 'input');
  try {
    symlinkSync(file, link);
  } catch {
    copyFileSync(file, link);
  }
  return link;
}

/** Resolve paths (`-` = stdin) to typed sources. Throws InputError for missing/unreadable files. */
export async function openSources(
  paths: string[],
  stdin: Readable = process.stdin,
  onProgress?: (p: { kind: 'spool'; bytes: number; lines: number }) => void,
): Promise<OpenedSources> {
  const temps: string[] = [];
  const cleanup = () => {
    for (const t of temps.splice(0)) rmSync(t, { recursive: true, force: true });
  };
  try {
    if (paths.length === 0) throw new UsageError('no input files', 'Usage: discover-metrics load FILE... (use - for stdin)');
    if (paths.filter((p) => p === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
    const sources: Source[] = [];
    for (const p of paths) {
      let display = p;
      let file: string;
      if (p === '-') {
        display = '<stdin>';
        const dir = mkdtempSync(join(tmpdir(), 'dm-stdin-'));
        temps.push(dir);
        file = join(dir, 'stdin');
        await pipeline(onProgress ? stdin.pipe(spoolCounter(onProgress)) : stdin, createWriteStream(file));
      } else {
        file = resolve(p);
        if (!existsSync(file)) throw new InputError(p, 'no such file');
        const st = statSync(file);
        if (st.isDirectory()) throw new InputError(p, 'is a directory; pass the files in it');
        if (!st.isFile()) {
          // a pipe (`load <(zcat f.gz)`), a socket or a device: read it once, as a stream
          const dir = mkdtempSync(join(tmpdir(), 'dm-pipe-'));
          temps.push(dir);
          const spooled = join(dir, 'input');
          try {
            await pipeline(createReadStream(file), createWriteStream(spooled));
          } catch (e) {
            throw new InputError(p, `cannot read: ${(e as Error).message}`);
          }
          file = spooled;
        } else if (GLOB_CHARS.test(file)) {
          file = plainName(file, temps);
        }
      }
      sources.push(await detect(display, file, temps));
    }
    return { sources, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

function isParquet(b: Buffer): boolean {
  return b.length >= 4 && b.toString('latin1', 0, 4) === 'PAR1';
}

export async function detect(display: string, file: string, temps: string[]): Promise<Source> {
  let head: Buffer;
  try {
    head = readHead(file);
  } catch (e) {
    throw new InputError(display, `cannot read: ${(e as Error).message}`);
  }
  let gzip = false;
  if (isGzip(head)) {
    gzip = true;
    try {
      head = gunzipSync(head, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, HEAD_BYTES);
    } catch (e) {
      throw new InputError(display, gzipProblem(e));
    }
  }
  if (isParquet(head)) {
    if (!gzip) return { display, path: file, format: 'parquet', gzip: false };
    const dir = mkdtempSync(join(tmpdir(), 'dm-parquet-'));
    temps.push(dir);
    const out = join(dir, basename(file).replace(/\.gz$/i, '') || 'data.parquet');
    try {
      await pipeline(createReadStream(file), createGunzip(), createWriteStream(out));
    } catch (e) {
      throw new InputError(display, gzipProblem(e));
    }
    return { display, path: out, format: 'parquet', gzip: false };
  }
  if (/\.parquet(\.gz)?$/i.test(display)) {
    throw new InputError(display, 'not a readable Parquet file (it does not start with the PAR1 magic bytes)');
  }
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const text = head.toString('utf8').replace(/^\uFEFF/, '');
  const first = /\S/.exec(text)?.[0];
  if (first === '[' || first === '{' || first === undefined) {
    if (first === undefined && /\.(csv|tsv)(\.gz)?$/i.test(display)) {
      throw new InputError(display, 'empty CSV file (a header row is required)');
    }
    const format = first === '[' ? 'json' : 'jsonl';
    // DuckDB's JSON reader refuses a byte order mark: it reads a copy without one
    if (bom) return withChecks({ display, path: await withoutBom(display, file, gzip, temps), format, gzip: false });
    return withChecks({ display, path: file, format, gzip });
  }
  // Anything else must be CSV with a header row.
  const firstRecord = parseCsv(text, 1).next();
  const header = firstRecord.done ? [] : firstRecord.value.fields.map((h) => h.trim());
  if (header.length < 2 || !header.includes('event')) {
    const looksBinary = /[\u0000-\u0008\u000e-\u001f]/.test(text.slice(0, 512));
    throw new InputError(
      `${display}:1`,
      looksBinary
        ? 'not a readable events file (expected JSONL/NDJSON, a JSON array, CSV with a header row, or Parquet; gzipped or not)'
        : `not JSON, and not CSV with an 'event' column in its header row`,
    );
  }
  return withChecks({ display, path: file, format: 'csv', gzip, header });
}

/** A copy of the (inflated) text without its byte order mark, in a temporary folder. */
async function withoutBom(display: string, file: string, gzip: boolean, temps: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dm-bom-'));
  temps.push(dir);
  const out = join(dir, 'input');
  try {
    if (gzip) {
      let skip = 3;
      const strip = new Transform({
        transform(chunk: Buffer, _enc, done) {
          const rest = chunk.subarray(Math.min(skip, chunk.length));
          skip = Math.max(0, skip - chunk.length);
          done(null, rest);
        },
      });
      await pipeline(createReadStream(file), createGunzip(), strip, createWriteStream(out));
    } else {
      await pipeline(createReadStream(file, { start: 3 }), createWriteStream(out));
    }
  } catch (e) {
    throw new InputError(display, gzip ? gzipProblem(e) : `cannot read: ${(e as Error).message}`);
  }
  return out;
}

/** The message for a gzip stream that does not inflate to the end. */
function gzipProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test((e as Error).message)) {
    return 'the gzip data is cut off (the file ends before its last block and its CRC32/length trailer)';
  }
  return `the gzip data is corrupt (${(e as Error).message.replace(/\s+/g, ' ')}): nothing was loaded`;
}

function withChecks(src: Source): Source {
  const checks: Promise<InputError | undefined>[] = [];
  if (src.gzip) checks.push(verifyGzip(src));
  else if (src.format === 'json') checks.push(Promise.resolve(closedArray(src)));
  if (checks.length) src.check = Promise.all(checks).then((r) => r.find((x) => x !== undefined));
  return src;
}

/**
 * Inflates a gzipped source to the end (Node's zlib checks each member's CRC32 and length,
 * which DuckDB's reader does not) and, for a JSON array, that its last character is `]`.
 */
async function verifyGzip(src: Source): Promise<InputError | undefined> {
  let last = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (let i = chunk.length - 1; i >= 0; i--) {
        const b = chunk[i]!;
        if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
          last = b;
          break;
        }
      }
      done();
    },
  });
  try {
    await pipeline(createReadStream(src.path), createGunzip(), sink);
  } catch (e) {
    return new InputError(src.display, gzipProblem(e));
  }
  if (src.format === 'json' && last !== 0x5d) return unclosedArray(src);
  return undefined;
}

/** An uncompressed JSON array must end with `]` (DuckDB's reader accepts one cut off after a comma). */
function closedArray(src: Source): Promise<InputError | undefined> | undefined {
  const fd = openSync(src.path, 'r');
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(size, 4096);
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, size - n);
    if (buf.toString('latin1').trimEnd().endsWith(']')) return undefined;
  } finally {
    closeSync(fd);
  }
  return unclosedArray(src);
}

/** The place readRecords gives an array that is not closed (or the first problem before it). */
async function unclosedArray(src: Source): Promise<InputError> {
  try {
    for await (const rec of readRecords(src)) if (rec.error) return new InputError(rec.where, rec.error);
  } catch (e) {
    if (e instanceof InputError) return e;
    return new InputError(src.display, `cannot read: ${(e as Error).message}`);
  }
  return new InputError(src.display, 'the JSON array is not closed (missing ]): the file looks cut off');
}

/** Where a 1-based line of a source is, for messages. */
export function lineWhere(src: Source, line: number): string {
  return src.lineWhere ? src.lineWhere(line) : `${src.display}:${line}`;
}

// -------------------------------------------------------------------------------------------------
// Reading records in JS (only for locating a problem DuckDB found: the fast path is SQL)

export interface SourceRecord {
  /** Position for messages. */
  where: string;
  /** The parsed record, or a parse problem at this position. */
  value?: unknown;
  error?: string;
}

function textStream(src: Source): Readable {
  const raw = createReadStream(src.path);
  if (!src.gzip) return raw;
  const gz = createGunzip();
  raw.on('error', (e) => gz.destroy(e));
  return raw.pipe(gz);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a whole source; invalid UTF-8 is an InputError at its line. */
async function readAllText(src: Source): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of textStream(src)) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  try {
    return strictUtf8.decode(buf).replace(/^\uFEFF/, '');
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= buf.length; i++) {
      if (i === buf.length || buf[i] === 0x0a) {
        try {
          strictUtf8.decode(buf.subarray(start, i));
        } catch {
          throw new InputError(lineWhere(src, line), 'not valid UTF-8 text');
        }
        line++;
        start = i + 1;
      }
    }
    throw new InputError(src.display, 'not valid UTF-8 text');
  }
}

/** Lines (as bytes, without the newline) of a source, in order. */
async function* byteLines(src: Source): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const c of textStream(src)) {
    let chunk = rest.length ? Buffer.concat([rest, c as Buffer]) : (c as Buffer);
    let at = 0;
    for (let nl = chunk.indexOf(0x0a, at); nl >= 0; nl = chunk.indexOf(0x0a, at)) {
      yield chunk.subarray(at, nl > at && chunk[nl - 1] === 0x0d ? nl - 1 : nl);
      at = nl + 1;
    }
    rest = Buffer.from(chunk.subarray(at));
    chunk = rest;
  }
  if (rest.length) yield rest;
}

/** Records of a JSONL/JSON/CSV source in file order with their positions. */
export async function* readRecords(src: Source): AsyncGenerator<SourceRecord> {
  if (src.format === 'jsonl') {
    let line = 0;
    for await (const bytes of byteLines(src)) {
      line++;
      const where = lineWhere(src, line);
      let text: string;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        yield { where, error: 'not valid UTF-8 text' };
        return;
      }
      const t = line === 1 ? text.replace(/^\uFEFF/, '') : text;
      if (t.trim() === '') continue;
      try {
        yield { where, value: JSON.parse(t) };
      } catch (e) {
        yield { where, error: `not valid JSON (${jsonMessage(e)})` };
        return;
      }
    }
    return;
  }
  if (src.format === 'json') {
    yield* jsonArrayRecords(src, await readAllText(src));
    return;
  }
  if (src.format === 'csv') {
    const text = await readAllText(src);
    let header: string[] | undefined;
    for (const rec of parseCsv(text)) {
      if (rec.error) {
        yield { where: lineWhere(src, rec.line), error: rec.error };
        return;
      }
      if (!header) {
        header = rec.fields.map((h) => h.trim());
        continue;
      }
      if (rec.fields.length === 1 && rec.fields[0] === '') continue; // blank line
      if (rec.fields.length !== header.length) {
        yield {
          where: lineWhere(src, rec.line),
          error: `expected ${header.length} columns (as in the header row), found ${rec.fields.length}`,
        };
        return;
      }
      const obj: Record<string, string | null> = {};
      header.forEach((h, i) => (obj[h] = rec.fields[i] === '' ? null : rec.fields[i]!));
      yield { where: lineWhere(src, rec.line), value: obj };
    }
    return;
  }
  throw new Error(`readRecords: ${src.format} is read through DuckDB`);
}

function jsonMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * Split a top-level JSON array into elements (string/escape aware) so each element is parsed on
 * its own: a syntax error is then reported with the element index and its line.
 */
function* jsonArrayRecords(src: Source, text: string): Generator<SourceRecord> {
  let i = 0;
  let line = 1;
  const n = text.length;
  const skipWs = () => {
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (ch === 10) line++;
      else if (ch !== 32 && ch !== 9 && ch !== 13) break;
      i++;
    }
  };
  const at = (idx: number, l: number) => `${src.display}[${idx}] (line ${l})`;
  skipWs();
  if (text[i] !== '[') {
    yield { where: `${src.display}:${line}`, error: 'expected a JSON array' };
    return;
  }
  i++;
  let index = 0;
  skipWs();
  if (text[i] === ']') return;
  for (;;) {
    skipWs();
    const start = i;
    const startLine = line;
    let depth = 0;
    let inStr = false;
    for (; i < n; i++) {
      const ch = text[i]!;
      if (inStr) {
        if (ch === '\\') i++;
        else if (ch === '"') inStr = false;
        else if (ch === '\n') line++;
        continue;
      }
      if (ch === '"') inStr = true;
      else if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) break;
      else if (ch === '\n') line++;
    }
    const elem = text.slice(start, i);
    if (i >= n) {
      yield { where: at(index, startLine), error: 'the JSON array is not closed (missing ])' };
      return;
    }
    try {
      yield { where: at(index, startLine), value: JSON.parse(elem) };
    } catch (e) {
      yield { where: at(index, startLine), error: `not valid JSON (${jsonMessage(e)})` };
      return;
    }
    const sep = text[i];
    i++;
    if (sep === ']') {
      skipWs();
      if (i < n) yield { where: `${src.display}:${line}`, error: 'unexpected text after the JSON array' };
      return;
    }
    index++;
  }
}

export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  error?: string;
}

/** RFC 4180 CSV records (comma, double quotes, "" escapes, CRLF or LF, newlines in quotes). */
export function* parseCsv(text: string, limit = Infinity): Generator<CsvRecord> {
  let i = 0;
  let line = 1;
  const n = text.length;
  let count = 0;
  while (i < n && count < limit) {
    const recLine = line;
    const fields: string[] = [];
    let field = '';
    for (;;) {
      if (text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        if (!closed) {
          yield { fields, line: recLine, error: 'a quoted value is not closed (missing ")' };
          return;
        }
      }
      while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      fields.push(field);
      field = '';
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
      }
      break;
    }
    count++;
    yield { fields, line: recLine };
  }
}

/** Counts stdin's bytes and lines as it is spooled (a load's progress: stdin has no known size). */
function spoolCounter(on: (p: { kind: 'spool'; bytes: number; lines: number }) => void): Transform {
  let bytes = 0;
  let lines = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      on({ kind: 'spool', bytes, lines });
      cb(null, chunk);
    },
  });
}
