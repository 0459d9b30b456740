/**
 * Plumbing for the sandbox server: a seeded PRNG for fault injection, one-at-a-time store access,
 * the writer that merges concurrent capture requests into one load, body reading with a size cap,
 * JSON answers, and PostHog's query API rate limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { CapturedEvent } from './capture.js';

/** PostHog's query API error body (drf-exceptions-hog). */
export interface ErrorBody {
  type: string;
  code: string;
  detail: string;
  attr: string | null;
}

/** Mulberry32: small seeded PRNG for reproducible fault injection. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export { setTimeout as sleep } from 'node:timers/promises';

/** One-at-a-time access to the store (DuckDB connection): writes and queries never interleave. */
export class DbLock {
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
export class Writer {
  private pending: PendingWrite[] = [];
  private running: Promise<void> | undefined;
  /** Events queued or being loaded. */
  queued = 0;
  constructor(
    private readonly lock: DbLock,
    private readonly load: (events: CapturedEvent[]) => Promise<void>,
    private readonly maxEvents = 100_000,
    /** Merge re-sent uuids within one load (last write wins); off for a sandbox that keeps every copy. */
    private readonly dedup = true,
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
      const merged = this.dedup ? [...byUuid.values()] : take.flatMap((w) => w.events);
      try {
        await this.lock.run(() => this.load(merged));
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A plain-text answer, as rust capture gives its errors (axum's (StatusCode, String): text/plain; charset=utf-8). */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, text ? { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers } : { 'Content-Length': 0, ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, body: ErrorBody, headers: Record<string, string> = {}): void {
  sendJson(res, status, body, headers);
}

export const notFound: ErrorBody = { type: 'invalid_request', code: 'not_found', detail: 'Not found.', attr: null };

/** Read a request body up to `limit` bytes; beyond it, answer 413 and stop reading. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    // the client may have gone while the request waited (--latency): its 'close' has fired
    // already, and listeners added now would wait for ever (a shutdown then waited 30 s)
    if (req.destroyed) return reject(new Error('client closed the connection before its body was read'));
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

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}


/**
 * PostHog's query API throttles (posthog/rate_limit.py): requests per personal API key in a
 * sliding minute and hour, polls included. Answers the seconds until a request fits, or 0.
 */
export class QueryRateLimiter {
  private times: number[] = [];
  constructor(
    private readonly perMinute: number,
    private readonly perHour: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record a request if it fits; else the whole seconds until one does. */
  take(): number {
    const now = this.now();
    while (this.times.length && this.times[0]! <= now - 3_600_000) this.times.shift();
    let wait = 0;
    const inMinute = this.times.filter((t) => t > now - 60_000).length;
    if (inMinute >= this.perMinute) wait = Math.max(wait, this.times[this.times.length - this.perMinute]! + 60_000 - now);
    if (this.times.length >= this.perHour) wait = Math.max(wait, this.times[this.times.length - this.perHour]! + 3_600_000 - now);
    if (wait > 0) return Math.max(1, Math.ceil(wait / 1000));
    this.times.push(now);
    return 0;
  }
}


