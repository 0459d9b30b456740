/**
 * A local PostHog-compatible server for tests and CI (node:http, no framework), serving one
 * project from an embedded event store:
 *
 *   capture   POST /batch/ /e/ /capture/ /i/v0/e/ /track/   (gzip or plain; project token check)
 *   query     POST /api/projects/{id}/query/  (+ /api/environments/{id}/query/)
 *             GET|DELETE /api/projects/{id}/query/{query_id}/   (async polling like PostHog)
 *   project   GET /api/projects/{id}/   (timezone, week_start_day)
 *   sandbox   GET /_sandbox/stats, GET /_sandbox/uuids, GET /_sandbox/health
 *
 * Writes are serialized through one writer that merges concurrent requests into one load, and
 * a capture request is acknowledged only once its events are stored. Queries run on the local
 * engine over the same store, between writes. Faults can be injected for tests: 503 bursts,
 * random 503s, latency, and held requests that outlive the client's timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Store } from '../store/store.js';
import type { Engine, PostHogQuery, QueryContext } from '../engines/types.js';
import { DmError } from '../errors.js';
import { checkTeleportEvent } from '../events/vocabulary.js';
import { brokenRule } from '../store/vocab-rules.js';
import { DEFINITION_ROUTES, definitionsResponse } from './definitions.js';
import { BATCH_BODY_LIMIT, CaptureError, decodeBodySized, parseCapture, type CapturedEvent, type ErrorBody } from './capture.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface SandboxOptions {
  storePath: string;
  projectToken: string;
  personalApiKey: string;
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  bind?: string;
  projectId?: number;
  /** Project timezone and week start used for queries (like a PostHog project's settings). */
  timezone?: string;
  weekStart?: 0 | 1;
  /** Probability (0..1) that a capture request answers 503. */
  failRate?: number;
  /** The first N capture requests answer 503; each --fail-rate failure also starts a burst of N. */
  failBurst?: number;
  /** Delay (ms) before answering any request. */
  latencyMs?: number;
  /** Probability that a capture request is stored but its answer held for holdMs (past the client's timeout). */
  timeoutRate?: number;
  holdMs?: number;
  /** Seed for the fault-injection random numbers (reproducible runs). */
  seed?: number;
  log?: (line: string) => void;
  /** Store loader; default loadEvents from src/store/ingest.ts (uuid dedup, $set/$set_once). */
  loader?: (store: Store, events: CapturedEvent[]) => Promise<unknown>;
}

export interface SandboxStats {
  events: number;
  persons: number;
  captureRequests: number;
  acceptedEvents: number;
  /** Accepted events that came in batches marked historical_migration. */
  historicalEvents: number;
  rejectedRequests: number;
  /** Acknowledged events the store then refused (logged as ingestion warnings). */
  droppedEvents: number;
  injectedFailures: number;
  heldRequests: number;
  queries: number;
}

export interface Sandbox {
  url: string;
  port: number;
  stats(): Promise<SandboxStats>;
  close(): Promise<void>;
}

/** Mulberry32: small seeded PRNG for reproducible fault injection. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One-at-a-time access to the store (DuckDB connection): writes and queries never interleave. */
class DbLock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

interface PendingWrite {
  events: CapturedEvent[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Merges concurrent capture requests into one store load. */
class Writer {
  private pending: PendingWrite[] = [];
  private running: Promise<void> | undefined;
  /** Events queued or being loaded. */
  queued = 0;
  constructor(
    private readonly lock: DbLock,
    private readonly load: (events: CapturedEvent[]) => Promise<void>,
    private readonly maxEvents = 100_000,
  ) {}

  write(events: CapturedEvent[]): Promise<void> {
    this.queued += events.length;
    const done = () => {
      this.queued -= events.length;
    };
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ events, resolve: () => (done(), resolve()), reject: (e) => (done(), reject(e)) });
      this.running ??= this.loop().finally(() => {
        this.running = undefined;
      });
    });
  }

  private async loop(): Promise<void> {
    while (this.pending.length) {
      const take: PendingWrite[] = [];
      let n = 0;
      while (this.pending.length && (n === 0 || n + this.pending[0]!.events.length <= this.maxEvents)) {
        const w = this.pending.shift()!;
        take.push(w);
        n += w.events.length;
      }
      // last write wins within the merged load (retries re-send the same uuid)
      const byUuid = new Map<string, CapturedEvent>();
      for (const w of take) for (const e of w.events) byUuid.set(e.uuid, e);
      try {
        await this.lock.run(() => this.load([...byUuid.values()]));
        for (const w of take) w.resolve();
      } catch (e) {
        if (take.length === 1) {
          take[0]!.reject(e);
          continue;
        }
        // one request's bad events must not fail the others merged with it: load them one by one
        for (const w of take) {
          try {
            await this.lock.run(() => this.load(w.events));
            w.resolve();
          } catch (err) {
            w.reject(err);
          }
        }
      }
    }
  }

  async drain(): Promise<void> {
    while (this.running) await this.running;
  }
}

interface QueryJob {
  id: string;
  complete: boolean;
  error: boolean;
  errorMessage: string | null;
  results: unknown;
  startTime: string;
  endTime: string | null;
  cancelled: boolean;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, body: ErrorBody, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, headers);
}

const notFound: ErrorBody = { type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null };

/** Read a request body up to `limit` bytes; beyond it, answer 413 and stop reading. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return resolve('too_large');
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve('too_large');
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
    // a client that dies mid-body (killed replay) never sends 'end': give up on the request
    req.on('close', () => {
      if (!req.complete) reject(new Error('client closed the connection before sending the whole body'));
    });
  });
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Above this many queued events, capture answers only once its events are stored. */
const HIGH_WATER_EVENTS = 200_000;

const CAPTURE_PATHS = new Set(['/batch', '/e', '/capture', '/i/v0/e', '/track', '/engage', '/s']);
const ASYNC_REFRESH = new Set(['async', 'force_async', 'lazy_async', 'async_except_on_cache_miss']);
const REFRESH = new Set(['blocking', 'force_blocking', 'force_cache', ...ASYNC_REFRESH]);

/** Start a sandbox server; resolves once it listens. */
export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const projectId = opts.projectId ?? 1;
  const log = opts.log ?? (() => {});
  const random = rng(opts.seed ?? 1);
  const { Store } = await import('../store/store.js');
  const loader = opts.loader ?? (await import('../store/ingest.js')).loadEvents;
  const store: Store = await Store.open(opts.storePath);
  const lock = new DbLock();
  const ctx = (): QueryContext => ({ timezone: opts.timezone ?? 'UTC', weekStart: opts.weekStart ?? 0, now: new Date() });
  let engine: Engine | undefined;
  const getEngine = async (): Promise<Engine> => {
    if (!engine) {
      const local = await import('../engines/local/index.js');
      engine = local.localEngineForStore(store);
    }
    return engine;
  };
  const counters = { captureRequests: 0, acceptedEvents: 0, historicalEvents: 0, rejectedRequests: 0, droppedEvents: 0, injectedFailures: 0, heldRequests: 0, queries: 0 };
  let burstLeft = Math.max(0, opts.failBurst ?? 0);
  const writer = new Writer(lock, async (events) => {
    await loader(store, events);
  });
  const jobs = new Map<string, QueryJob>();
  const held = new Set<{ timer: NodeJS.Timeout; res: ServerResponse }>();
  let inFlight = 0;
  let closing = false;
  const idle: (() => void)[] = [];

  async function capture(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    counters.captureRequests++;
    // 20 MB per request on every capture route (posthog-js also sends batches to /e/)
    const raw = await readBody(req, BATCH_BODY_LIMIT);
    if (raw === 'too_large') {
      counters.rejectedRequests++;
      sendError(res, 413, { type: 'validation_error', code: 'payload_too_large', detail: 'Request body exceeds the 20 MB limit', attr: null }, { Connection: 'close' });
      return;
    }
    // transient failures first, like a capture service whose sink is down
    if (burstLeft > 0 || (opts.failRate && random() < opts.failRate)) {
      if (burstLeft > 0) burstLeft--;
      else burstLeft = Math.max(0, (opts.failBurst ?? 1) - 1);
      counters.injectedFailures++;
      sendError(res, 503, { type: 'server_error', code: 'retryable_sink_error', detail: 'transient error, please retry', attr: null });
      return;
    }
    let parsed;
    try {
      const body = await decodeBodySized(raw, req.headers as Record<string, string>, query);
      parsed = parseCapture(body.value, opts.projectToken, Date.now(), body.bytes);
    } catch (e) {
      counters.rejectedRequests++;
      if (e instanceof CaptureError) return sendError(res, e.status, e.body);
      throw e;
    }
    // the store refuses events that break the Teleport vocabulary: answer 400 before accepting
    for (let i = 0; i < parsed.events.length; i++) {
      const ev = parsed.events[i]!;
      // the loader's own rule check (src/store/vocab-rules.ts), worded like the loader words it
      const rule = brokenRule(ev.event, ev.properties);
      if (rule) {
        counters.rejectedRequests++;
        const at = parsed.events.length > 1 ? `batch[${i}].` : '';
        const issue = checkTeleportEvent(ev.event, ev.properties) ?? { path: `properties[${JSON.stringify(rule.key)}]`, message: `expected a valid ${rule.what}` };
        return sendError(res, 400, { type: 'validation_error', code: 'invalid_event', detail: `${at}${issue.path}: ${issue.message} (event ${ev.event})`, attr: `${at}${issue.path}` });
      }
    }
    if (parsed.events.length) {
      // Like PostHog's capture (acknowledged once queued, ingested right after), the answer does
      // not wait for the store unless the queue is long (backpressure). Reads wait for the queue,
      // and shutdown drains it, so nothing acknowledged is lost on a clean stop.
      const n = parsed.events.length;
      const persisted = writer.write(parsed.events);
      if (writer.queued > HIGH_WATER_EVENTS) {
        try {
          await persisted;
        } catch (e) {
          counters.rejectedRequests++;
          if (e instanceof DmError && e.exitCode === 2) {
            return sendError(res, 400, { type: 'validation_error', code: 'invalid_event', detail: e.message, attr: null });
          }
          throw e;
        }
      } else {
        persisted.catch((e) => {
          counters.droppedEvents += n;
          log(`ingestion warning: ${n} acknowledged events could not be stored: ${e instanceof Error ? e.message : String(e)}`);
        });
      }
    }
    counters.acceptedEvents += parsed.events.length;
    if (parsed.historical) counters.historicalEvents += parsed.events.length;
    if (opts.timeoutRate && random() < opts.timeoutRate) {
      // stored, but the answer comes too late: the client times out and re-sends the same uuids
      counters.heldRequests++;
      await new Promise<void>((resolve) => {
        const h = {
          res,
          timer: setTimeout(() => {
            held.delete(h);
            sendJson(res, 200, { status: 'Ok' });
            resolve();
          }, opts.holdMs ?? 15_000),
        };
        held.add(h);
        res.on('close', () => {
          if (held.delete(h)) {
            clearTimeout(h.timer);
            resolve();
          }
        });
      });
      return;
    }
    sendJson(res, 200, { status: 'Ok' });
  }

  function authorized(req: IncomingMessage, res: ServerResponse, bodyKey?: unknown): boolean {
    const h = req.headers.authorization;
    let key: string | undefined;
    if (typeof h === 'string' && /^bearer\s+/i.test(h)) key = h.replace(/^bearer\s+/i, '').trim();
    else if (typeof bodyKey === 'string') key = bodyKey;
    if (key === undefined) {
      sendError(res, 401, { type: 'authentication_error', code: 'not_authenticated', detail: 'Authentication credentials were not provided.', attr: null });
      return false;
    }
    if (!sameSecret(key, opts.personalApiKey)) {
      sendError(res, 401, { type: 'authentication_error', code: 'authentication_failed', detail: 'Personal API key found in request is invalid.', attr: null });
      return false;
    }
    return true;
  }

  function statusBody(job: QueryJob): Record<string, unknown> {
    return {
      query_status: {
        id: job.id,
        team_id: projectId,
        query_async: true,
        complete: job.complete,
        error: job.error,
        error_message: job.errorMessage,
        results: job.complete && !job.error ? job.results : null,
        start_time: job.startTime,
        end_time: job.endTime,
        expiration_time: null,
        pickup_time: job.startTime,
      },
    };
  }

  async function runQuery(query: PostHogQuery): Promise<Record<string, unknown>> {
    counters.queries++;
    const eng = await getEngine();
    await writer.drain();
    const c = ctx();
    const r = await lock.run(() => eng.run(query, c));
    return { ...r, is_cached: false, last_refresh: new Date().toISOString(), timezone: c.timezone };
  }

  function queryError(e: unknown): { status: number; body: ErrorBody } {
    if (e instanceof DmError && e.exitCode === 2) {
      return { status: 400, body: { type: 'validation_error', code: 'invalid_input', detail: e.message, attr: null } };
    }
    log(`query failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return { status: 500, body: { type: 'server_error', code: 'error', detail: 'Query failed: ' + (e instanceof Error ? e.message : String(e)), attr: null } };
  }

  async function api(req: IncomingMessage, res: ServerResponse, parts: string[], url: URL): Promise<void> {
    // parts: ['api', 'projects'|'environments', id, ...rest]
    const [, scope, id, ...rest] = parts;
    if (scope !== 'projects' && scope !== 'environments') return sendError(res, 404, notFound);
    let body: Record<string, unknown> | undefined;
    if (req.method === 'POST') {
      const raw = await readBody(req, BATCH_BODY_LIMIT);
      if (raw === 'too_large') return sendError(res, 413, { type: 'invalid_request', code: 'payload_too_large', detail: 'Request body too large.', attr: null }, { Connection: 'close' });
      try {
        const v: unknown = raw.length ? JSON.parse(raw.toString('utf8')) : {};
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
        body = v as Record<string, unknown>;
      } catch (e) {
        if (!authorized(req, res)) return;
        return sendError(res, 400, { type: 'validation_error', code: 'parse_error', detail: `JSON parse error - ${(e as Error).message}`, attr: null });
      }
    } else {
      req.resume();
    }
    if (!authorized(req, res, body?.personal_api_key)) return;
    if (id !== String(projectId)) return sendError(res, 404, notFound);
    if (rest.length === 0) {
      if (req.method !== 'GET') return methodNotAllowed(res, req.method);
      return sendJson(res, 200, { id: projectId, name: 'discover-metrics sandbox', timezone: opts.timezone ?? 'UTC', week_start_day: opts.weekStart ?? 0 });
    }
    if (rest.length === 1 && DEFINITION_ROUTES.has(rest[0]!) && req.method === 'GET') return sendJson(res, ...(await writer.drain().then(() => lock.run(() => definitionsResponse(store, rest[0]!, url, req.headers.host)))));
    if (rest[0] !== 'query') return sendError(res, 404, notFound);
    if (rest.length === 1) {
      if (req.method !== 'POST') return methodNotAllowed(res, req.method);
      const q = body!.query;
      if (typeof q !== 'object' || q === null || Array.isArray(q) || typeof (q as { kind?: unknown }).kind !== 'string') {
        return sendError(res, 400, { type: 'validation_error', code: 'invalid_input', detail: 'query: a query object with a "kind" is required', attr: 'query' });
      }
      const refresh = body!.refresh ?? 'blocking';
      if (typeof refresh !== 'string' || !REFRESH.has(refresh)) {
        return sendError(res, 400, { type: 'validation_error', code: 'invalid_input', detail: `refresh: '${String(refresh)}' is not a valid choice.`, attr: 'refresh' });
      }
      const clientId = typeof body!.client_query_id === 'string' && body!.client_query_id ? body!.client_query_id : undefined;
      if (ASYNC_REFRESH.has(refresh) || body!.async === true) {
        const job: QueryJob = {
          id: clientId ?? randomBytes(16).toString('hex'),
          complete: false,
          error: false,
          errorMessage: null,
          results: null,
          startTime: new Date().toISOString(),
          endTime: null,
          cancelled: false,
        };
        jobs.set(job.id, job);
        runQuery(q as PostHogQuery).then(
          (r) => {
            job.results = r;
            job.complete = true;
            job.endTime = new Date().toISOString();
          },
          (e) => {
            const qe = queryError(e);
            job.complete = true;
            job.error = true;
            job.errorMessage = qe.status === 400 ? qe.body.detail : null;
            job.endTime = new Date().toISOString();
          },
        );
        // like PostHog: answer 202 while running
        return sendJson(res, 202, statusBody(job));
      }
      try {
        return sendJson(res, 200, await runQuery(q as PostHogQuery));
      } catch (e) {
        const qe = queryError(e);
        return sendError(res, qe.status, qe.body);
      }
    }
    if (rest.length === 2) {
      const job = jobs.get(rest[1]!);
      if (!job || job.cancelled) return sendError(res, 404, notFound);
      if (req.method === 'DELETE') {
        job.cancelled = true;
        jobs.delete(job.id);
        return sendJson(res, 200, { message: 'Query cancelled.' });
      }
      if (req.method !== 'GET') return methodNotAllowed(res, req.method);
      const status = !job.complete ? 202 : !job.error ? 200 : job.errorMessage ? 400 : 500;
      return sendJson(res, status, statusBody(job));
    }
    return sendError(res, 404, notFound);
  }

  function methodNotAllowed(res: ServerResponse, method: string | undefined): void {
    sendError(res, 405, { type: 'invalid_request', code: 'method_not_allowed', detail: `Method "${method ?? ''}" not allowed.`, attr: null });
  }

  async function stats(): Promise<SandboxStats> {
    await writer.drain();
    return lock.run(async () => {
      const r = await store.conn.runAndReadAll(`SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM persons)`);
      const [ev, pe] = r.getRows()[0]!;
      return { events: Number(ev), persons: Number(pe), ...counters };
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (opts.latencyMs) await sleep(opts.latencyMs);
    if (closing) return sendError(res, 503, { type: 'server_error', code: 'shutting_down', detail: 'The sandbox is shutting down.', attr: null }, { Connection: 'close' });
    if (CAPTURE_PATHS.has(path)) {
      if (req.method !== 'POST') {
        req.resume();
        return methodNotAllowed(res, req.method);
      }
      return capture(req, res, path, url.searchParams);
    }
    if (path.startsWith('/api/')) return api(req, res, path.slice(1).split('/'), url);
    req.resume();
    if (path === '/_sandbox/stats' || path === '/_sandbox/health' || path === '/_sandbox/uuids') {
      if (req.method !== 'GET') return methodNotAllowed(res, req.method);
      if (path === '/_sandbox/health') return sendJson(res, 200, { status: 'ok' });
      if (path === '/_sandbox/stats') return sendJson(res, 200, await stats());
      await writer.drain();
      const uuids = await lock.run(async () => (await store.conn.runAndReadAll(`SELECT CAST(uuid AS VARCHAR) FROM events ORDER BY 1`)).getRows().map((r) => String(r[0])));
      return sendJson(res, 200, { uuids });
    }
    return sendError(res, 404, notFound);
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    inFlight++;
    handle(req, res)
      .catch((e) => {
        if (req.destroyed && !req.complete) return; // the client went away mid-request
        log(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        sendError(res, 500, { type: 'server_error', code: 'error', detail: 'Internal sandbox error.', attr: null });
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) for (const f of idle.splice(0)) f();
      });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, opts.bind ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await store.close();
    const code = (e as NodeJS.ErrnoException).code;
    const { UsageError } = await import('../errors.js');
    throw new UsageError(`--port: cannot listen on ${opts.bind ?? '127.0.0.1'}:${opts.port ?? 0} (${code ?? String(e)})`);
  }
  const port = (server.address() as AddressInfo).port;
  const host = opts.bind && opts.bind !== '0.0.0.0' && opts.bind !== '::' ? opts.bind : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closed: Promise<void> | undefined;

  async function close(): Promise<void> {
    closing = true;
    server.close();
    // release held answers, let in-flight requests finish, then drop keep-alive connections
    for (const h of held) {
      clearTimeout(h.timer);
      held.delete(h);
      h.res.destroy();
    }
    if (inFlight > 0) await Promise.race([new Promise<void>((r) => idle.push(r)), sleep(30_000)]);
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await writer.drain();
    await lock.run(async () => {
      if (engine) await engine.close().catch(() => undefined);
      await store.conn.run('CHECKPOINT');
    });
    await store.close();
  }

  return {
    url,
    port,
    stats,
    close() {
      closed ??= close();
      return closed;
    },
  };
}
