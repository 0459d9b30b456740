/**
 * Streaming reader for CloudFront standard access logs (tab-separated, `#Version` and
 * `#Fields` header lines that name the field order). Files may be gzipped (detected by the
 * magic bytes, not the name) and directories are read recursively in name order.
 *
 * The reader works on raw bytes: it splits lines and fields itself and only turns the few
 * fields it needs into strings, and only for requests that touch Teleport Connect objects
 * (about 100–300 MB/s of log text per core). Client addresses are hashed (HMAC-SHA256 with a
 * secret salt) as soon as a line is read; raw addresses never leave `readRecord`.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { createHmac } from 'node:crypto';
import { join, relative } from 'node:path';
import { DmError, InputError, UsageError } from '../errors.js';
import { classifyArtifact, decodeField, isConnectSideFile, isUpdateManifest, type Artifact } from './artifacts.js';

/** CloudFront's standard log layout (33 fields), used when a file has no #Fields line. */
export const CLOUDFRONT_FIELDS: readonly string[] = [
  'date', 'time', 'x-edge-location', 'sc-bytes', 'c-ip', 'cs-method', 'cs(Host)', 'cs-uri-stem', 'sc-status',
  'cs(Referer)', 'cs(User-Agent)', 'cs-uri-query', 'cs(Cookie)', 'x-edge-result-type', 'x-edge-request-id',
  'x-host-header', 'cs-protocol', 'cs-bytes', 'time-taken', 'x-forwarded-for', 'ssl-protocol', 'ssl-cipher',
  'x-edge-response-result-type', 'cs-protocol-version', 'fle-status', 'fle-encrypted-fields', 'c-port',
  'time-to-first-byte', 'x-edge-detailed-result-type', 'sc-content-type', 'sc-content-len', 'sc-range-start',
  'sc-range-end',
];

const REQUIRED_FIELDS = ['date', 'time', 'c-ip', 'cs-method', 'cs-uri-stem', 'sc-status'] as const;
const KNOWN_HEADERS = new Set(['version', 'fields', 'date', 'software', 'remark', 'start-date', 'end-date']);

/** One successful GET of a Connect artifact (before 206 de-duplication). */
export interface Hit {
  /** Epoch milliseconds (UTC, as logged). */
  ts: number;
  /** UTC day YYYY-MM-DD as logged. */
  day: string;
  /** HMAC of the client address (+ user agent); never the address itself. */
  client: string;
  /** Decoded URI stem (the object path). */
  stem: string;
  status: 200 | 206;
  /** x-edge-request-id, or '' when the logs do not have it. */
  requestId: string;
  /** The user agent is an Electron app (the in-app updater), not a browser or tool. */
  electronAgent: boolean;
  artifact: Artifact;
  /** Where it was read (for messages; file path and line number). */
  file: string;
  line: number;
}

export interface Malformed {
  file: string;
  line: number;
  reason: string;
}

export interface ReadStats {
  files: number;
  /** Uncompressed bytes of log text read. */
  bytes: number;
  /** Data lines (requests) read, excluding headers and malformed lines. */
  requests: number;
  /** Requests for Connect artifacts (any method/status). */
  connectRequests: number;
  /** Connect artifact requests that were not downloads, by reason. */
  excluded: { head: number; otherMethod: number; notSuccessful: number; sideFiles: number; manifests: number };
  malformed: number;
  firstMalformed?: Malformed;
}

export interface ReadOptions {
  /** Secret for hashing client addresses. */
  salt: string | Buffer;
  /** Throw on the first malformed line (InputError, exit 2) instead of skipping it. */
  strict?: boolean;
  /** Base directory for the file names in messages (default: as given). */
  relativeTo?: string;
  /** Called after each file is read: files read, of how many, and log bytes read (uncompressed). */
  onFile?: (files: number, of: number, bytes: number) => void;
}

export interface ReadResult {
  hits: Hit[];
  /** Update-manifest (latest*.yml) fetches: client hash → epoch ms of each fetch. */
  manifestFetches: Map<string, number[]>;
  stats: ReadStats;
  files: string[];
}

/** Expand files and directories (recursively, name order, hidden entries skipped). */
export async function expandLogPaths(paths: readonly string[]): Promise<string[]> {
  if (paths.length === 0) throw new UsageError('no log files given', 'Pass CloudFront log files or directories: discover-metrics downloads LOG...');
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = async (p: string, top: boolean): Promise<void> => {
    let st;
    try {
      st = await fsp.stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (top) throw new UsageError(`${p}: ${code === 'ENOENT' ? 'no such file or directory' : `cannot read (${code ?? 'error'})`}`);
      return;
    }
    // Symlinked directories or files reached twice (or a symlink loop) are read once.
    let real: string;
    try {
      real = await fsp.realpath(p);
    } catch {
      real = p;
    }
    if (seen.has(real)) return;
    seen.add(real);
    if (st.isDirectory()) {
      let entries: string[];
      try {
        entries = (await fsp.readdir(p)).sort();
      } catch (e) {
        throw new UsageError(`${p}: cannot list directory (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      for (const name of entries) if (!name.startsWith('.')) await walk(join(p, name), false);
    } else if (st.isFile()) {
      out.push(p);
    }
  };
  for (const p of paths) await walk(p, true);
  return out;
}

/** Hash a client identity with the salt. 128 bits of HMAC-SHA256, hex. */
export function hashClient(salt: string | Buffer, address: string, userAgent: string): string {
  return createHmac('sha256', salt).update(address).update('\n').update(userAgent).digest('hex').slice(0, 32);
}

const ELECTRON_UA = /\bElectron\/|electron-updater|Teleport ?Connect/i;

interface FileState {
  file: string;
  display: string;
  lineNo: number;
  /** Field name → index, or undefined until a #Fields line (then the CloudFront default applies). */
  fieldCount: number;
  idx: {
    date: number;
    time: number;
    ip: number;
    method: number;
    stem: number;
    status: number;
    ua: number;
    xff: number;
    reqId: number;
  };
  fieldsLine: number;
  /** A required field is missing from #Fields: every data line is malformed with this reason. */
  broken?: string;
}

function indexFields(names: readonly string[]): FileState['idx'] & { missing: string[] } {
  const pos = (n: string) => names.indexOf(n);
  return {
    date: pos('date'),
    time: pos('time'),
    ip: pos('c-ip'),
    method: pos('cs-method'),
    stem: pos('cs-uri-stem'),
    status: pos('sc-status'),
    ua: pos('cs(User-Agent)'),
    xff: pos('x-forwarded-for'),
    reqId: pos('x-edge-request-id'),
    missing: REQUIRED_FIELDS.filter((f) => !names.includes(f)),
  };
}

/**
 * Read CloudFront logs and return every successful GET of a Connect artifact, plus update
 * manifest fetches and statistics. Malformed lines are skipped and counted (or thrown with
 * `strict`). Nothing is written anywhere.
 */
export async function readCloudFrontLogs(paths: readonly string[], opts: ReadOptions): Promise<ReadResult> {
  const files = await expandLogPaths(paths);
  // Several files at a time: CloudFront writes many small files, and their opening, reading
  // and inflating overlaps with parsing. Results merge in file order, so the output (and which
  // malformed line is "first", or which error --strict reports) does not depend on timing.
  const parts: ({ stats: ReadStats; hits: Hit[]; manifests: Map<string, number[]> } | { error: unknown } | undefined)[] = new Array(files.length);
  let next = 0;
  let failedAt = Infinity;
  let filesRead = 0;
  let bytesRead = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= files.length || i > failedAt) return;
      const part = { stats: emptyStats(1), hits: [] as Hit[], manifests: new Map<string, number[]>() };
      const file = files[i]!;
      const display = opts.relativeTo ? relative(opts.relativeTo, file) || file : file;
      try {
        await new LineReader(opts, part.stats, part.hits, part.manifests).readFile(file, display);
        parts[i] = part;
        bytesRead += part.stats.bytes;
        opts.onFile?.(++filesRead, files.length, bytesRead);
      } catch (e) {
        parts[i] = { error: e };
        failedAt = Math.min(failedAt, i);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_CONCURRENCY, files.length) }, worker));

  const stats = emptyStats(files.length);
  const hits: Hit[] = [];
  const manifestFetches = new Map<string, number[]>();
  for (const part of parts) {
    if (!part) continue;
    if ('error' in part) throw part.error;
    const s = part.stats;
    stats.bytes += s.bytes;
    stats.requests += s.requests;
    stats.connectRequests += s.connectRequests;
    for (const k of Object.keys(stats.excluded) as (keyof ReadStats['excluded'])[]) stats.excluded[k] += s.excluded[k];
    stats.malformed += s.malformed;
    stats.firstMalformed ??= s.firstMalformed;
    for (const h of part.hits) hits.push(h);
    for (const [client, times] of part.manifests) {
      const list = manifestFetches.get(client);
      if (list) list.push(...times);
      else manifestFetches.set(client, times);
    }
  }
  return { hits, manifestFetches, stats, files };
}

/** Files read at the same time. */
const FILE_CONCURRENCY = 4;

function emptyStats(files: number): ReadStats {
  return {
    files,
    bytes: 0,
    requests: 0,
    connectRequests: 0,
    excluded: { head: 0, otherMethod: 0, notSuccessful: 0, sideFiles: 0, manifests: 0 },
    malformed: 0,
  };
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await fsp.open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

const MAX_FIELDS = 256;

class LineReader {
  private readonly tabs = new Int32Array(MAX_FIELDS + 1);
  private st!: FileState;

  constructor(
    private readonly opts: ReadOptions,
    private readonly stats: ReadStats,
    private readonly hits: Hit[],
    private readonly manifests: Map<string, number[]>,
  ) {}

  async readFile(file: string, display: string): Promise<void> {
    const def = indexFields(CLOUDFRONT_FIELDS);
    this.st = { file, display, lineNo: 0, fieldCount: CLOUDFRONT_FIELDS.length, idx: def, fieldsLine: 0 };
    let gz: boolean;
    try {
      gz = await isGzip(file);
    } catch (e) {
      throw new UsageError(`${display}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    const raw = createReadStream(file, { highWaterMark: 1 << 20 });
    // A deep read-ahead buffer lets zlib inflate (on the thread pool) while this thread parses.
    const gunzipOptions = { chunkSize: 1 << 18, readableHighWaterMark: 1 << 23 } as ZlibOptions;
    const stream = gz ? raw.pipe(createGunzip(gunzipOptions)) : raw;
    if (gz) raw.on('error', (e) => stream.destroy(e));
    let carry: Buffer | undefined;
    let first = true;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        this.stats.bytes += chunk.length;
        let buf = chunk;
        if (first) {
          first = false;
          // A UTF-8 byte order mark (files saved by some editors) is not part of the first line.
          if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
        }
        if (carry) {
          buf = Buffer.concat([carry, chunk]);
          carry = undefined;
        }
        const last = buf.lastIndexOf(10);
        if (last < 0) {
          carry = buf;
          continue;
        }
        this.lines(buf, 0, last + 1);
        if (last + 1 < buf.length) carry = Buffer.from(buf.subarray(last + 1));
      }
    } catch (e) {
      if (e instanceof DmError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (gz && (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || /unexpected end|incorrect header|invalid/i.test(String((e as Error).message)))) {
        // The partial last line of a cut-off file is not a request.
        this.malformed(this.st.lineNo + 1, `gzip data is truncated or corrupt after line ${this.st.lineNo}`);
        return;
      }
      throw new UsageError(`${display}: cannot read (${code ?? (e as Error).message})`);
    } finally {
      raw.destroy();
    }
    if (carry && carry.length > 0) {
      const c = carry[carry.length - 1] === 13 ? carry.subarray(0, carry.length - 1) : carry;
      this.lines(Buffer.concat([c, Buffer.from([10])]), 0, c.length + 1);
    }
  }

  private malformed(line: number, reason: string): void {
    const m: Malformed = { file: this.st.display, line, reason };
    if (this.opts.strict) throw new InputError(`${m.file}:${m.line}`, reason, 'Fix or remove the line, or run without --strict to skip malformed lines.');
    this.stats.malformed++;
    this.stats.firstMalformed ??= m;
  }

  /** Process complete lines in buf[start, end) (end is just past a newline). */
  private lines(buf: Buffer, start: number, end: number): void {
    const tabs = this.tabs;
    let pos = start;
    while (pos < end) {
      // Split on tabs while looking for the end of the line.
      let n = 0;
      let i = pos;
      let c = 0;
      for (; i < end; i++) {
        c = buf[i]!;
        if (c === 10) break;
        if (c === 9 && n < MAX_FIELDS) tabs[n++] = i;
      }
      const lineEnd = i > pos && buf[i - 1] === 13 ? i - 1 : i;
      this.st.lineNo++;
      if (lineEnd > pos) {
        if (buf[pos] === 35 /* # */) this.header(buf.toString('utf8', pos + 1, lineEnd));
        else this.record(buf, pos, lineEnd, n);
      }
      pos = i + 1;
    }
  }

  private header(text: string): void {
    const m = /^([A-Za-z-]+):\s?(.*)$/.exec(text);
    const name = m?.[1]?.toLowerCase();
    if (!m || !name || !KNOWN_HEADERS.has(name)) {
      this.malformed(this.st.lineNo, `unknown header line${m ? ` '#${m[1]}'` : ''} (expected #Version or #Fields)`);
      return;
    }
    if (name !== 'fields') return;
    const names = m[2]!.trim().split(/[ \t]+/).filter(Boolean);
    const idx = indexFields(names);
    this.st.fieldsLine = this.st.lineNo;
    this.st.fieldCount = names.length;
    this.st.idx = idx;
    this.st.broken = idx.missing.length
      ? `#Fields at line ${this.st.lineNo} lacks required field${idx.missing.length > 1 ? 's' : ''} ${idx.missing.join(', ')}`
      : undefined;
    if (this.st.broken) this.malformed(this.st.lineNo, this.st.broken);
  }

  private record(buf: Buffer, start: number, end: number, tabCount: number): void {
    const st = this.st;
    if (st.broken) {
      this.malformed(st.lineNo, st.broken);
      return;
    }
    const fields = tabCount + 1;
    if (fields !== st.fieldCount) {
      const from = st.fieldsLine ? `#Fields at line ${st.fieldsLine}` : 'the CloudFront standard layout (no #Fields line)';
      this.malformed(st.lineNo, `expected ${st.fieldCount} fields (${from}), found ${fields}`);
      return;
    }
    const tabs = this.tabs;
    const fStart = (k: number) => (k === 0 ? start : tabs[k - 1]! + 1);
    const fEnd = (k: number) => (k === fields - 1 ? end : tabs[k]!);
    const idx = st.idx;
    // Status: three ASCII digits.
    const ss = fStart(idx.status);
    const se = fEnd(idx.status);
    let status = 0;
    for (let k = ss; k < se; k++) {
      const d = buf[k]! - 48;
      if (d < 0 || d > 9) {
        status = -1;
        break;
      }
      status = status * 10 + d;
    }
    if (status < 0 || se === ss) {
      this.malformed(st.lineNo, `field 'sc-status' is not a number`);
      return;
    }
    this.stats.requests++;
    const rawStem = buf.toString('latin1', fStart(idx.stem), fEnd(idx.stem));
    // Cheap pre-filter: Connect objects and update manifests only.
    if (!/onnect|\.ya?ml/i.test(rawStem)) return;
    const stem = decodeField(Buffer.from(rawStem, 'latin1').toString('utf8'));
    const manifest = isUpdateManifest(stem);
    const artifact = manifest ? undefined : classifyArtifact(stem);
    if (!artifact) {
      if (!manifest && isConnectSideFile(stem)) {
        this.stats.connectRequests++;
        this.stats.excluded.sideFiles++;
      }
      if (!manifest) return;
    } else {
      this.stats.connectRequests++;
    }
    const method = buf.toString('latin1', fStart(idx.method), fEnd(idx.method));
    if (method !== 'GET') {
      if (artifact) {
        if (method === 'HEAD') this.stats.excluded.head++;
        else this.stats.excluded.otherMethod++;
      }
      return;
    }
    if (status !== 200 && status !== 206 && !(manifest && status === 304)) {
      if (artifact) this.stats.excluded.notSuccessful++;
      return;
    }
    const date = buf.toString('latin1', fStart(idx.date), fEnd(idx.date));
    const time = buf.toString('latin1', fStart(idx.time), fEnd(idx.time));
    const ts = parseTimestamp(date, time);
    if (ts === undefined) {
      this.malformed(st.lineNo, /^\d{4}-\d{2}-\d{2}$/.test(date) ? `field 'time' is not HH:MM:SS` : `field 'date' is not YYYY-MM-DD`);
      return;
    }
    const client = this.clientOf(buf, fStart, fEnd);
    if (client === undefined) {
      this.malformed(st.lineNo, `field 'c-ip' is empty`);
      return;
    }
    if (manifest) {
      this.stats.excluded.manifests++;
      const list = this.manifests.get(client.hash);
      if (list) list.push(ts);
      else this.manifests.set(client.hash, [ts]);
      return;
    }
    const requestId = idx.reqId >= 0 ? buf.toString('latin1', fStart(idx.reqId), fEnd(idx.reqId)) : '';
    this.hits.push({
      ts,
      day: date,
      client: client.hash,
      stem,
      status: status as 200 | 206,
      requestId: requestId === '-' ? '' : requestId,
      electronAgent: ELECTRON_UA.test(client.ua),
      artifact: artifact!,
      file: st.display,
      line: st.lineNo,
    });
  }

  /**
   * The client is the viewer address (x-forwarded-for's first entry when a proxy sent the
   * request, else c-ip) together with the user agent, hashed at once.
   */
  private clientOf(
    buf: Buffer,
    fStart: (k: number) => number,
    fEnd: (k: number) => number,
  ): { hash: string; ua: string } | undefined {
    const idx = this.st.idx;
    let address = buf.toString('latin1', fStart(idx.ip), fEnd(idx.ip));
    if (idx.xff >= 0) {
      const xff = buf.toString('latin1', fStart(idx.xff), fEnd(idx.xff));
      if (xff && xff !== '-') {
        const first = decodeField(xff).split(',')[0]!.trim();
        if (first) address = first;
      }
    }
    if (!address || address === '-') return undefined;
    const ua = idx.ua >= 0 ? decodeField(buf.toString('utf8', fStart(idx.ua), fEnd(idx.ua))) : '';
    return { hash: hashClient(this.opts.salt, address, ua === '-' ? '' : ua), ua };
  }
}

/** "2024-05-01" + "12:34:56" (UTC) → epoch ms, or undefined when either is not well-formed. */
export function parseTimestamp(date: string, time: string): number | undefined {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(time);
  if (!d || !t) return undefined;
  const [y, mo, da] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const [h, mi, s] = [Number(t[1]), Number(t[2]), Number(t[3])];
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(y, mo - 1, da, h, mi, s, t[4] ? Number(t[4].padEnd(3, '0')) : 0);
  if (new Date(ms).getUTCDate() !== da) return undefined;
  return ms;
}
