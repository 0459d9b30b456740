/**
 * A local PostHog-compatible server for tests and CI (node:http, no framework), serving one
 * project from an embedded event store:
 *
 *   capture   GET|POST /batch/ /e/ /capture/ /i/v0/e/ /track/ /engage/ /s/   (as rust capture:
 *             data= for GET, base64, forms, gzip, lz64; body limits per route; plain-text errors)
 *   query     POST /api/projects/{id}/query/  (+ /api/environments/{id}/query/)
 *             GET|DELETE /api/projects/{id}/query/{query_id}/   (async polling like PostHog)
 *   project   GET /api/projects/{id}/   (timezone, week_start_day)
 *   sandbox   GET /_sandbox/stats, GET /_sandbox/uuids, GET /_sandbox/health
 *
 * Writes are serialized through one writer that merges concurrent requests into one load, and
 * a capture request is acknowledged only once its events are stored (a 200 is never followed by
 * a drop). Any event is stored, whether or not it follows the Teleport vocabulary (PostHog's
 * capture accepts any event). Queries run on the local
 * engine over the same store, between writes. Faults can be injected for tests: 503 bursts,
 * random 503s, latency, and held requests that outlive the client's timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Store } from '../store/store.js';
import type { Engine, PostHogQuery, QueryContext } from '../engines/types.js';
import { DmError } from '../errors.js';
import { InsightsApi } from './insights.js';
import { DEFINITION_ROUTES, definitionsResponse } from './definitions.js';
import { POSTHOG_QUERY_SCHEMAS } from '../query/schema.js';
import { zodIssuesMessage } from '../zod-issues.js';
import { MAX_JSON_DEPTH, jsonDepth } from '../events/json-depth.js';
import { QueryRateLimiter, DbLock, Writer, notFound, readBody, rng, sameSecret, sendError, sendJson, sendText, sleep, type ErrorBody } from './http.js';
import { BATCH_BODY_LIMIT, EVENT_BODY_LIMIT, RECORDING_BODY_LIMIT, CaptureError, parseCapture, type CapturedEvent } from './capture.js';
import { decodeBodySized } from './decode.js';

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
  /**
   * Store every accepted event, re-sent uuids included, as PostHog's events table (a
   * ReplacingMergeTree) holds them until a background merge: a re-send then counts twice.
   */
  noDedup?: boolean;
  /** PostHog's query API limits per personal API key; null turns them off. Default 240/min, 1,200/h. */
  queryRateLimits?: { perMinute: number; perHour: number } | null;
  /** Queries running at once per project before a 429 (PostHog: 3). */
  maxConcurrentQueries?: number;
  /** Called with every query the query API is asked to run (tests: what a report really sent). */
  onQuery?: (query: PostHogQuery) => void;
  /** Store loader; default loadEvents from src/store/ingest.ts (uuid dedup, $set/$set_once), without the Teleport vocabulary check. */
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
  /** Acknowledged events the store then refused: always 0, as capture answers only once its events are stored. */
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

/**
 * What PostHog refuses before running a query: a node with keys its schema does not allow (our
 * PostHog-aligned schema, strict), or a regex property filter that does not compile.
 */
export function validateQuery(q: PostHogQuery): string | undefined {
  const schema = (POSTHOG_QUERY_SCHEMAS as Record<string, { safeParse: (v: unknown) => { success: boolean; error?: { issues: unknown[] } } }>)[q.kind];
  if (schema) {
    const r = schema.safeParse(q);
    if (!r.success) return zodIssuesMessage(r.error!.issues as never, 'query').slice(0, 3).join('; ');
  }
  const bad: string[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${path}[${i}]`));
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if ((o.operator === 'regex' || o.operator === 'not_regex') && typeof o.value === 'string') {
      try {
        new RegExp(o.value);
      } catch (e) {
        bad.push(`${path}.value: invalid regular expression ${JSON.stringify(o.value).slice(0, 60)} (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`);
      }
    }
    for (const [k, x] of Object.entries(o)) walk(x, `${path}.${k}`);
  };
  walk(q, 'query');
  return bad[0];
}

/** Capture routes and their body limits (rust capture's router: DefaultBodyLimit per route). */
const CAPTURE_LIMITS = new Map([
  ['/batch', BATCH_BODY_LIMIT],
  ['/e', EVENT_BODY_LIMIT],
  ['/capture', EVENT_BODY_LIMIT],
  ['/i/v0/e', EVENT_BODY_LIMIT],
  ['/track', EVENT_BODY_LIMIT],
  ['/engage', EVENT_BODY_LIMIT],
  ['/s', RECORDING_BODY_LIMIT],
]);
/** axum's answer (text/plain) when a body is over the route's DefaultBodyLimit. */
const BODY_LIMIT_TEXT = 'Failed to buffer the request body: length limit exceeded';
const ASYNC_REFRESH = new Set(['async', 'force_async', 'lazy_async', 'async_except_on_cache_miss']);
const REFRESH = new Set(['blocking', 'force_blocking', 'force_cache', ...ASYNC_REFRESH]);

/** Start a sandbox server; resolves once it listens. */
export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const projectId = opts.projectId ?? 1;
  const log = opts.log ?? (() => {});
  const random = rng(opts.seed ?? 1);
  const { Store } = await import('../store/store.js');
  const { loadEvents } = await import('../store/ingest.js');
  // PostHog stores any event: no Teleport vocabulary check
  const loader = opts.loader ?? ((s: Store, events: CapturedEvent[]) => loadEvents(s, events, { vocabulary: false, sessionIndex: false }));
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
  const saved = new InsightsApi(() => url); // saved insights and dashboards (push)
  const writer = new Writer(
    lock,
    async (events) => {
      if (!opts.noDedup) return void (await loader(store, events));
      // the loader keeps one row per uuid; add the copies PostHog would hold before its merge
      const seen = new Map<string, number>();
      for (const e of events) seen.set(e.uuid, (seen.get(e.uuid) ?? 0) + 1);
      const list = [...seen.keys()].map((u) => `'${u.replace(/'/g, '')}'`).join(',');
      const before = new Set((await store.conn.runAndReadAll(`SELECT DISTINCT CAST(uuid AS VARCHAR) FROM events WHERE uuid IN (${list})`)).getRows().map((r) => String(r[0])));
      await loader(store, events);
      for (const [u, n] of seen) {
        const extra = before.has(u) ? n : n - 1;
        for (let i = 0; i < extra; i++) await store.conn.run(`INSERT INTO events SELECT * FROM events WHERE uuid = '${u.replace(/'/g, '')}' LIMIT 1`);
      }
    },
    undefined,
    !opts.noDedup,
  );
  const limiter = opts.queryRateLimits === null ? undefined : new QueryRateLimiter(opts.queryRateLimits?.perMinute ?? 240, opts.queryRateLimits?.perHour ?? 1200);
  let runningQueries = 0;
  const jobs = new Map<string, QueryJob>();
  const held = new Set<{ timer: NodeJS.Timeout; res: ServerResponse }>();
  let inFlight = 0;
  let closing = false;
  const idle: (() => void)[] = [];

  async function capture(req: IncomingMessage, res: ServerResponse, limit: number, query: URLSearchParams): Promise<void> {
    counters.captureRequests++;
    const raw = await readBody(req, limit);
    if (raw === 'too_large') {
      counters.rejectedRequests++;
      return sendText(res, 413, BODY_LIMIT_TEXT, { Connection: 'close' });
    }
    // transient failures first, like a capture service whose sink is down
    if (burstLeft > 0 || (opts.failRate && random() < opts.failRate)) {
      if (burstLeft > 0) burstLeft--;
      else burstLeft = Math.max(0, (opts.failBurst ?? 1) - 1);
      counters.injectedFailures++;
      return sendText(res, 503, 'transient error, please retry');
    }
    let parsed;
    try {
      const body = await decodeBodySized(raw, { headers: req.headers as Record<string, string>, query });
      parsed = parseCapture(body.value, opts.projectToken, Date.now(), body.bytes);
    } catch (e) {
      counters.rejectedRequests++;
      if (e instanceof CaptureError) return sendText(res, e.status, e.message);
      throw e;
    }
    if (parsed.events.length) {
      // acknowledged once stored, so a 200 is never followed by a drop (PostHog acknowledges
      // once its queue has the events); concurrent requests still share one load (the writer)
      try {
        await writer.write(parsed.events);
      } catch (e) {
        counters.rejectedRequests++;
        if (e instanceof DmError && e.exitCode === 2) return sendText(res, 400, `invalid event could not be processed (${e.message})`);
        log(`internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
        return sendText(res, 500, 'internal server error');
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

  function newJob(clientId: string | undefined): QueryJob {
    const now = new Date().toISOString();
    return { id: clientId ?? randomBytes(16).toString('hex'), complete: false, error: false, errorMessage: null, results: null, startTime: now, endTime: null, cancelled: false };
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
    if (req.method === 'POST' || req.method === 'PATCH') {
      const raw = await readBody(req, BATCH_BODY_LIMIT);
      if (raw === 'too_large') return sendError(res, 413, { type: 'invalid_request', code: 'payload_too_large', detail: 'Request body too large.', attr: null }, { Connection: 'close' });
      try {
        const text = raw.toString('utf8');
        if (jsonDepth(text) > MAX_JSON_DEPTH) throw new Error(`the body is nested deeper than ${MAX_JSON_DEPTH} levels`);
        const v: unknown = raw.length ? JSON.parse(text) : {};
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
        body = v as Record<string, unknown>;
      } catch (e) {
        if (!authorized(req, res)) return;
        return sendError(res, 400, { type: 'validation_error', code: 'parse_error', detail: `JSON parse error - ${(e as Error).message}`, attr: null });
      }
    } else req.resume();
    if (!authorized(req, res, body?.personal_api_key)) return;
    if (id !== String(projectId)) return sendError(res, 404, notFound);
    if (rest.length === 0) {
      if (req.method !== 'GET') return methodNotAllowed(res, req.method);
      return sendJson(res, 200, { id: projectId, name: 'discover-metrics sandbox', timezone: opts.timezone ?? 'UTC', week_start_day: opts.weekStart ?? 0 });
    }
    if (rest[0] === 'insights' || rest[0] === 'dashboards') return saved.serve(req, rest, body, `/api/${scope}/${id}`, (status, b) => sendJson(res, status, b));
    if (rest.length === 1 && DEFINITION_ROUTES.has(rest[0]!) && req.method === 'GET') return sendJson(res, ...(await writer.drain().then(() => lock.run(() => definitionsResponse(store, rest[0]!, url, req.headers.host)))));
    if (rest[0] !== 'query') return sendError(res, 404, notFound);
    if (limiter) {
      const wait = limiter.take();
      if (wait > 0) {
        return sendError(res, 429, { type: 'throttled_error', code: 'throttled', detail: `Request was throttled. Expected available in ${wait} seconds.`, attr: null });
      }
    }
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
      opts.onQuery?.(q as PostHogQuery);
      const invalid = validateQuery(q as PostHogQuery);
      if (invalid) return sendError(res, 400, { type: 'validation_error', code: 'invalid_input', detail: invalid, attr: 'query' });
      if (runningQueries >= (opts.maxConcurrentQueries ?? 3)) {
        // PostHog's ConcurrencyLimitExceeded, answered as DRF's Throttled without a wait
        return sendError(res, 429, { type: 'throttled_error', code: 'throttled', detail: 'Request was throttled.', attr: null });
      }
      const clientId = typeof body!.client_query_id === 'string' && body!.client_query_id ? body!.client_query_id : undefined;
      if (!(ASYNC_REFRESH.has(refresh) || body!.async === true)) {
        // a blocking query is known by its client_query_id too, so a client whose POST timed out can ask for it
        const job = newJob(clientId);
        jobs.set(job.id, job);
        runningQueries++;
        try {
          const r = await runQuery(q as PostHogQuery);
          Object.assign(job, { results: r, complete: true, endTime: new Date().toISOString() });
          return sendJson(res, 200, r);
        } catch (e) {
          const qe = queryError(e);
          Object.assign(job, { complete: true, error: true, errorMessage: qe.status === 400 ? qe.body.detail : null, endTime: new Date().toISOString() });
          return sendError(res, qe.status, qe.body);
        } finally {
          runningQueries--;
        }
      }
      {
        const job = newJob(clientId);
        jobs.set(job.id, job);
        runningQueries++;
        runQuery(q as PostHogQuery).finally(() => runningQueries--).then(
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

  function methodNotAllowed(res: ServerResponse, method: string | undefined): void { sendError(res, 405, { type: 'invalid_request', code: 'method_not_allowed', detail: `Method "${method ?? ''}" not allowed.`, attr: null }); }

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
    const captureLimit = CAPTURE_LIMITS.get(path);
    if (captureLimit !== undefined) {
      if (closing) return sendText(res, 503, 'transient error, please retry', { Connection: 'close' });
      // rust capture: GET (data= in the query) and POST, OPTIONS for CORS; axum answers 405 with no body otherwise
      if (req.method === 'OPTIONS') return req.resume(), sendJson(res, 200, { status: 'Ok' });
      if (req.method !== 'POST' && req.method !== 'GET') return req.resume(), sendText(res, 405, '');
      return capture(req, res, captureLimit, url.searchParams);
    }
    if (closing) return sendError(res, 503, { type: 'server_error', code: 'shutting_down', detail: 'The sandbox is shutting down.', attr: null }, { Connection: 'close' });
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
