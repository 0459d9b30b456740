/**
 * HTTP client for PostHog's query API (posthog-api.md §4, posthog-semantics.md §4):
 *   POST {host}/api/projects/{id}/query/  with Authorization: Bearer <personal API key>
 * Queries are started with refresh "force_async" (always computed fresh, never a stale cache)
 * and polled with GET .../query/{query_id}/ until complete, with backoff and an overall bound.
 * 429s are waited out for the time PostHog states ("Expected available in N seconds." or
 * Retry-After); transient 5xx and network errors are retried a few times. Every response is
 * validated with zod. The personal API key is never put into any message.
 */
import { z } from 'zod';
import { HttpError, QueryValidationError, redactSecrets } from '../../errors.js';
import type { PostHogQuery, QueryResponse } from '../types.js';
import { setTimeout as sleep } from 'node:timers/promises';

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
  /** Retries for 429, 5xx and network errors per request. Default 5. */
  maxRetries?: number;
  /** Longest single 429 wait accepted (s). Default 300. */
  maxThrottleWaitS?: number;
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


export class PostHogClient {
  readonly host: string;
  readonly projectId: string;
  private readonly key: string;
  private readonly fetchImpl: FetchLike;
  private readonly opts: Required<Omit<PostHogClientConfig, 'fetch' | 'onNote' | 'host' | 'projectId' | 'personalApiKey'>>;
  private readonly note: (msg: string) => void;

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
      maxThrottleWaitS: cfg.maxThrottleWaitS ?? 300,
      sleep: cfg.sleep ?? ((ms: number) => sleep(ms)),
    };
    this.note = cfg.onNote ?? (() => {});
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
   * Returns status and parsed JSON body for 2xx; throws HttpError otherwise.
   */
  async request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, deadline = Date.now() + this.opts.maxQueryMs): Promise<{ status: number; json: unknown }> {
    const url = this.url(path);
    const what = `${method} ${this.host}/api/projects/${this.projectId}${path}`;
    for (let attempt = 0; ; attempt++) {
      let res: Response;
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
        const cause = e instanceof Error ? ((e as { cause?: Error }).cause?.message ?? e.message) : String(e);
        const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        if (attempt < this.opts.maxRetries && Date.now() < deadline) {
          const wait = this.backoff(attempt);
          this.note(`${what}: ${timedOut ? 'timed out' : 'network error'} (${this.redact(cause)}); retrying in ${(wait / 1000).toFixed(1)} s`);
          await this.opts.sleep(wait);
          continue;
        }
        throw new HttpError(0, this.redact(`${what} failed: ${timedOut ? 'request timed out' : cause}`));
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
      if (res.status === 429 && attempt < this.opts.maxRetries) {
        const s = throttleWaitSeconds(detail, res.headers.get('retry-after')) ?? Math.min(60, 2 ** attempt);
        if (s <= this.opts.maxThrottleWaitS && Date.now() + s * 1000 < deadline) {
          this.note(`PostHog is throttling queries (429): waiting ${s} s as it asks`);
          await this.opts.sleep(s * 1000);
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
    if (status === 401) msg += ' — check the personal API key (it needs the query:read scope)';
    else if (status === 403) msg += ' — the personal API key lacks access to this project or the query:read scope';
    else if (status === 404) msg += ` — is project ${this.projectId} on ${this.host}? (use the app host, e.g. https://us.posthog.com, not the ingest host)`;
    msg = this.redact(`${what}: ${msg}`);
    if (status === 400 && body?.type === 'validation_error') return new QueryValidationError(msg);
    return new HttpError(status, msg, detail ? this.redact(detail) : undefined);
  }

  /** Run a query: start it async, poll until complete; returns the runner response. */
  async query(query: PostHogQuery, name = 'discover-metrics'): Promise<QueryResponse> {
    const deadline = Date.now() + this.opts.maxQueryMs;
    const started = await this.request('POST', '/query/', { query, refresh: 'force_async', name }, deadline);
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
      // 400/500 on a poll carry the query's own error in query_status.error_message (request() shows it)
      const polled = await this.request('GET', `/query/${encodeURIComponent(status.id)}/`, undefined, deadline);
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

  async project(): Promise<ProjectInfo> {
    const r = await this.request('GET', '/');
    const p = projectSchema.safeParse(r.json);
    if (!p.success) throw new HttpError(r.status, `PostHog's project response has an unexpected shape: ${z.prettifyError(p.error).slice(0, 300)}`);
    return p.data;
  }
}
