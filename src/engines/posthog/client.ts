/**
 * HTTP client for PostHog's query API (posthog-api.md §4, posthog-semantics.md §4):
 *   POST {host}/api/projects/{id}/query/  with Authorization: Bearer <personal API key>
 * Queries are sent with refresh "blocking" by default: PostHog answers from its cache when a
 * fresh result exists (a second run costs one cheap request per query) and computes otherwise,
 * in one request, without polls. When PostHog answers asynchronously anyway (202 with a
 * query_status), the client polls GET .../query/{query_id}/ with backoff.
 *
 * Every request passes through the RequestBudget (240/min, 1,200/h per key), which counts it and
 * paces the run. 429s are waited out for the time PostHog states ("Expected available in N
 * seconds." or Retry-After), with a progress line, never failing a run that only has to wait.
 * Each query carries a client_query_id: after an ambiguous failure (a timeout, a reset
 * connection) the client asks PostHog for that id before posting again, so a retry does not
 * start a second query PostHog already runs. A refused connection fails fast (the host is down
 * or wrong; retrying for minutes helps nobody). Every response is validated with zod. The
 * personal API key is never put into any message.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HttpError, QueryValidationError, redactSecrets } from '../../errors.js';
import type { PostHogQuery, QueryResponse } from '../types.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestBudget, type RequestKind } from './budget.js';

/** PostHog's `refresh` modes (posthog/api/query.py); all but force_* may answer from the cache. */
export const REFRESH_MODES = ['blocking', 'async', 'lazy_async', 'async_except_on_cache_miss', 'force_blocking', 'force_async', 'force_cache'] as const;
export type RefreshMode = (typeof REFRESH_MODES)[number];

/** Scopes a personal API key needs for the reports: queries, and the project's settings. */
export const REQUIRED_SCOPES = ['query:read', 'project:read'] as const;

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface PostHogClientConfig {
  host: string;
  projectId: string;
  personalApiKey: string;
  fetch?: FetchLike;
  /** Per HTTP request timeout (ms). Default 60 s. */
  requestTimeoutMs?: number;
  /** Overall bound for one query including polling and 429 waits (ms). Default 10 min. */
  maxQueryMs?: number;
  /** First poll delay (ms), grows ×1.5 up to maxPollMs. Defaults 200 / 5000. */
  pollMs?: number;
  maxPollMs?: number;
  /** Retries for 5xx and network errors per request. Default 5. */
  maxRetries?: number;
  /** 429 answers waited out per request (each for the time PostHog states). Default 30. */
  maxThrottleRetries?: number;
  /** Longest single 429 wait accepted (s). Default 3600 (PostHog's hourly window). */
  maxThrottleWaitS?: number;
  /** PostHog's cache mode for queries. Default 'blocking' (cached when fresh, else computed). */
  refresh?: RefreshMode;
  /** Paces and counts requests; default: an in-memory budget with PostHog's limits. */
  budget?: RequestBudget;
  /** Called with human-readable notes (throttling waits, retries). */
  onNote?: (msg: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

const errorBody = z
  .object({
    type: z.string().optional(),
    code: z.string().nullable().optional(),
    detail: z.unknown().optional(),
    attr: z.string().nullable().optional(),
  })
  .loose();

const queryStatus = z
  .object({
    id: z.string(),
    complete: z.boolean().optional(),
    error: z.boolean().nullable().optional(),
    error_message: z.string().nullable().optional(),
    results: z.unknown().optional(),
  })
  .loose();

const queryResponse = z.object({ results: z.unknown() }).loose();
const asyncResponse = z.object({ query_status: queryStatus }).loose();

export const projectSchema = z
  .object({
    id: z.union([z.number(), z.string()]),
    timezone: z.string().nullable().optional(),
    week_start_day: z.number().int().min(0).max(1).nullable().optional(),
    name: z.string().nullable().optional(),
  })
  .loose();
export type ProjectInfo = z.infer<typeof projectSchema>;

/** Parse "Expected available in N seconds." (DRF's throttle message) or a Retry-After header. */
export function throttleWaitSeconds(detail: string | undefined, retryAfter: string | null): number | undefined {
  const m = detail ? /available in (\d+(?:\.\d+)?) seconds?/i.exec(detail) : null;
  if (m) return Number(m[1]);
  if (retryAfter) {
    const n = Number(retryAfter);
    if (Number.isFinite(n) && n >= 0) return n;
    const d = Date.parse(retryAfter);
    if (!Number.isNaN(d)) return Math.max(0, (d - Date.now()) / 1000);
  }
  return undefined;
}

function detailText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}


/** How long PostHog keeps a query's status after the query started. */
export const STATUS_TTL_S = 600;

/** The system error code behind a fetch failure (undici wraps it in `cause`). */
function networkCode(e: unknown): string | undefined {
  const c = (e as { cause?: { code?: unknown; errors?: { code?: unknown }[] } })?.cause;
  if (typeof c?.code === 'string') return c.code;
  const inner = c?.errors?.[0]?.code;
  return typeof inner === 'string' ? inner : undefined;
}

export class PostHogClient {
  readonly host: string;
  readonly projectId: string;
  private readonly key: string;
  private readonly fetchImpl: FetchLike;
  private readonly opts: Required<Omit<PostHogClientConfig, 'fetch' | 'onNote' | 'host' | 'projectId' | 'personalApiKey' | 'budget'>>;
  private readonly note: (msg: string) => void;
  readonly budget: RequestBudget;

  constructor(cfg: PostHogClientConfig) {
    this.host = cfg.host.replace(/\/+$/, '');
    this.projectId = cfg.projectId;
    this.key = cfg.personalApiKey;
    this.fetchImpl = cfg.fetch ?? ((url, init) => fetch(url, init));
    this.opts = {
      requestTimeoutMs: cfg.requestTimeoutMs ?? 60_000,
      maxQueryMs: cfg.maxQueryMs ?? 600_000,
      pollMs: cfg.pollMs ?? 200,
      maxPollMs: cfg.maxPollMs ?? 5_000,
      maxRetries: cfg.maxRetries ?? 5,
      maxThrottleRetries: cfg.maxThrottleRetries ?? 30,
      maxThrottleWaitS: cfg.maxThrottleWaitS ?? 3600,
      refresh: cfg.refresh ?? 'blocking',
      sleep: cfg.sleep ?? ((ms: number) => sleep(ms)),
    };
    this.note = cfg.onNote ?? (() => {});
    this.budget = cfg.budget ?? new RequestBudget({ sleep: this.opts.sleep, onWait: (m) => this.note(m) });
  }

  private url(path: string): string {
    return `${this.host}/api/projects/${encodeURIComponent(this.projectId)}${path}`;
  }

  private redact(s: string): string {
    return redactSecrets(s, [this.key]);
  }

  /**
   * One HTTP exchange with retries for 429 (waiting what PostHog states), 5xx and network errors.
   * Hand-written: generic retry libraries do not wait PostHog's Retry-After nor read its throttle text.
   * Returns status and parsed JSON body for 2xx; throws HttpError otherwise. `recover` is asked
   * after an ambiguous failure (the request may have reached PostHog) before the request is sent
   * again; an answer from it is used instead of re-sending.
   */
  async request(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    deadline = Date.now() + this.opts.maxQueryMs,
    kind: RequestKind = 'other',
    recover?: () => Promise<{ status: number; json: unknown } | undefined>,
  ): Promise<{ status: number; json: unknown }> {
    const url = this.url(path);
    const what = `${method} ${this.host}/api/projects/${this.projectId}${path}`;
    let throttles = 0;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      await this.budget.acquire(kind);
      try {
        res = await this.fetchImpl(url, {
          method,
          headers: {
            Authorization: `Bearer ${this.key}`,
            Accept: 'application/json',
            ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal: AbortSignal.timeout(Math.max(1, Math.min(this.opts.requestTimeoutMs, deadline - Date.now()))),
        });
      } catch (e) {
        const code = networkCode(e);
        const cause = e instanceof Error ? ((e as { cause?: Error }).cause?.message ?? e.message) : String(e);
        const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        // refused / unknown host: nothing is listening there; two quick retries cover a restart
        const dead = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
        const limit = dead ? Math.min(2, this.opts.maxRetries) : this.opts.maxRetries;
        if (attempt < limit && Date.now() < deadline) {
          if (!dead && recover) {
            const known = await recover().catch(() => undefined);
            if (known) return known;
          }
          const wait = dead ? 250 * (attempt + 1) : this.backoff(attempt);
          this.note(`${what}: ${timedOut ? 'timed out' : 'network error'} (${this.redact(cause)}); retrying in ${(wait / 1000).toFixed(1)} s`);
          await this.opts.sleep(wait);
          continue;
        }
        const why = timedOut ? 'request timed out' : dead ? `${this.redact(cause)} — is ${this.host} the right host, and is it up?` : cause;
        throw new HttpError(0, this.redact(`${what} failed: ${why}`));
      }
      const text = await res.text();
      let json: unknown = undefined;
      if (text) {
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
      }
      if (res.status >= 200 && res.status < 300) {
        if (json === undefined && method !== 'DELETE') {
          throw new HttpError(res.status, this.redact(`${what}: PostHog answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`));
        }
        return { status: res.status, json };
      }
      const eb = errorBody.safeParse(json);
      const qsMsg = asyncResponse.safeParse(json).data?.query_status.error_message ?? undefined;
      const detail = (eb.success ? detailText(eb.data.detail) : undefined) ?? qsMsg ?? (text ? text.slice(0, 300) : undefined);
      if (res.status === 429) {
        this.budget.throttled();
        // a stated wait is PostHog's rate limit; none stated is "too many concurrent queries":
        // back off and try again (the other queries finish within seconds)
        const s = throttleWaitSeconds(detail, res.headers.get('retry-after')) ?? Math.min(30, 2 ** Math.min(throttles, 5));
        if (throttles < this.opts.maxThrottleRetries && s <= this.opts.maxThrottleWaitS) {
          throttles++;
          attempt--; // a throttle is not a failed attempt
          this.note(`PostHog is throttling queries (429${detail ? `: ${this.redact(detail)}` : ''}): waiting ${s} s as it asks`);
          await this.opts.sleep(s * 1000);
          deadline += s * 1000; // waiting for the budget does not eat the query's own time
          continue;
        }
      }
      if ((res.status === 502 || res.status === 503 || res.status === 504) && attempt < this.opts.maxRetries && Date.now() < deadline) {
        const wait = this.backoff(attempt);
        this.note(`${what}: ${res.status}; retrying in ${(wait / 1000).toFixed(1)} s`);
        await this.opts.sleep(wait);
        continue;
      }
      throw this.httpError(what, res.status, eb.success ? eb.data : undefined, detail);
    }
  }

  private backoff(attempt: number): number {
    return Math.min(10_000, 500 * 2 ** attempt);
  }

  private httpError(what: string, status: number, body: z.infer<typeof errorBody> | undefined, detail: string | undefined): Error {
    const kind = [body?.type, body?.code].filter(Boolean).join('/');
    const d = detail ? `: ${detail}` : '';
    let msg = `PostHog answered HTTP ${status}${kind ? ` (${kind})` : ''}${d}`;
    const scopes = REQUIRED_SCOPES.join(', ');
    if (status === 401) msg += ` — check the personal API key (it needs the scopes ${scopes})`;
    else if (status === 403) msg += ` — the personal API key lacks access to this project or one of the scopes ${scopes}`;
    else if (status === 404) msg += ` — is project ${this.projectId} on ${this.host}? (use the app host, e.g. https://us.posthog.com, not the ingest host)`;
    msg = this.redact(`${what}: ${msg}`);
    if (status === 400 && body?.type === 'validation_error') return new QueryValidationError(msg);
    return new HttpError(status, msg, detail ? this.redact(detail) : undefined);
  }

  /** Run a query: one POST (answered from PostHog's cache or computed); polls only if PostHog answers async. */
  async query(query: PostHogQuery, name = 'discover-metrics'): Promise<QueryResponse> {
    const deadline = Date.now() + this.opts.maxQueryMs;
    const id = randomUUID().replace(/-/g, '');
    const statusPath = `/query/${id}/`;
    // after a timeout or reset: does PostHog already know this query? then follow it, do not re-post
    const recover = async () => {
      try {
        return await this.request('GET', statusPath, undefined, deadline, 'poll');
      } catch (e) {
        if (e instanceof HttpError && e.status === 404) return undefined;
        throw e;
      }
    };
    const started = await this.request('POST', '/query/', { query, refresh: this.opts.refresh, client_query_id: id, name }, deadline, 'query', recover);
    const hasStatus = typeof started.json === 'object' && started.json !== null && 'query_status' in started.json && !('results' in started.json);
    if (!hasStatus) {
      const done = queryResponse.safeParse(started.json);
      if (!done.success) throw new HttpError(started.status, `PostHog's query response has no results: ${z.prettifyError(done.error).slice(0, 300)}`);
      return done.data as QueryResponse;
    }
    const as = asyncResponse.safeParse(started.json);
    if (!as.success) {
      throw new HttpError(started.status, `PostHog's query response has an unexpected shape: ${z.prettifyError(as.error).slice(0, 300)}`);
    }
    let status = as.data.query_status;
    let wait = this.opts.pollMs;
    while (!status.complete) {
      if (Date.now() + wait > deadline) {
        await this.request('DELETE', `/query/${encodeURIComponent(status.id)}/`, undefined, Date.now() + 10_000).catch(() => undefined);
        throw new HttpError(504, `query ${status.id} did not finish within ${Math.round(this.opts.maxQueryMs / 1000)} s; it was cancelled`);
      }
      await this.opts.sleep(wait);
      wait = Math.min(this.opts.maxPollMs, Math.round(wait * 1.5));
      let polled;
      try {
        polled = await this.request('GET', `/query/${encodeURIComponent(status.id)}/`, undefined, deadline, 'poll');
      } catch (e) {
        throw this.pollError(e, status.id);
      }
      const p = asyncResponse.safeParse(polled.json);
      if (!p.success) throw new HttpError(polled.status, `PostHog's query status has an unexpected shape: ${z.prettifyError(p.error).slice(0, 300)}`);
      status = p.data.query_status;
    }
    if (status.error) {
      const m = status.error_message ?? 'the query failed without a message';
      throw new QueryValidationError(this.redact(`PostHog query ${status.id} failed: ${m}`));
    }
    const r = queryResponse.safeParse(status.results);
    if (!r.success) throw new HttpError(200, `PostHog's completed query ${status.id} has no results`);
    return r.data as QueryResponse;
  }

  /**
   * A failed poll: 400 carries the query's own error (query_status.error_message, a user-fixable
   * query error); 404 means PostHog no longer knows the query (its status expires 600 s after
   * the query was started).
   */
  private pollError(e: unknown, id: string): unknown {
    if (!(e instanceof HttpError)) return e;
    if (e.status === 400) return new QueryValidationError(this.redact(`PostHog query ${id} failed: ${e.detail ?? e.message}`));
    if (e.status === 404) {
      return new HttpError(
        404,
        `PostHog no longer knows query ${id}: a query's status expires ${STATUS_TTL_S} s after it started, so a query that ran longer than that (or a wrong project) ends here; run the command again (finished results are cached)`,
      );
    }
    return e;
  }

  async project(): Promise<ProjectInfo> {
    const r = await this.request('GET', '/', undefined, undefined, 'other');
    const p = projectSchema.safeParse(r.json);
    if (!p.success) throw new HttpError(r.status, `PostHog's project response has an unexpected shape: ${z.prettifyError(p.error).slice(0, 300)}`);
    return p.data;
  }
}
