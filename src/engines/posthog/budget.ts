/**
 * PostHog's query API budget (posthog/rate_limit.py, posthog-api.md §4.4): a personal API key may
 * send 240 query requests a minute and 1,200 an hour, polls included, and a project runs at most
 * 3 queries at once. A 429 after the budget is spent makes a run wait minutes, so the client
 * paces itself instead: before each request it waits until both windows have room, and says so.
 *
 * Recent request times are kept in a small ledger file per PostHog host and project (times only:
 * no key, no query, no address), so a second run in the same hour knows what the first one spent.
 * Other tools using the same key are not seen; their use shows up as a 429, which is waited out.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeWhole } from '../../write-whole.js';

export const POSTHOG_QUERY_LIMITS = { perMinute: 240, perHour: 1200, concurrentQueries: 3 } as const;

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** PostHog counts a request when it arrives, a little after it is recorded here. */
const MARGIN = 1_000;
/** At most one pacing line this often (several queries wait at once). */
const NOTE_EVERY = 10_000;

export type RequestKind = 'query' | 'poll' | 'other';

export interface RequestCounts {
  /** Every HTTP request sent (queries, polls, project reads, cancels, retries). */
  total: number;
  /** POSTs that start a query. */
  queries: number;
  /** GETs of a running query's status. */
  polls: number;
  other: number;
  /** 429 answers received. */
  throttled: number;
  /** Time spent waiting for the budget (ms). */
  pacedMs: number;
}

export interface BudgetOptions {
  perMinute?: number;
  perHour?: number;
  /** Ledger file; null keeps the count in memory only. */
  ledgerPath?: string | null;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called with a progress line whenever the budget makes a request wait. */
  onWait?: (msg: string) => void;
}

/** Where the ledger for a host and project lives (XDG state dir; never inside the event store). */
export function ledgerPathFor(host: string, projectId: string, env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME ??
    (process.platform === 'win32' ? (env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local')) : join(homedir(), '.local', 'state'));
  const id = createHash('sha256').update(`${host}\n${projectId}`).digest('hex').slice(0, 16);
  return join(base, 'discover-metrics', 'posthog-requests', `${id}.json`);
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RequestBudget {
  readonly perMinute: number;
  readonly perHour: number;
  readonly counts: RequestCounts = { total: 0, queries: 0, polls: 0, other: 0, throttled: 0, pacedMs: 0 };
  private times: number[] = [];
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onWait: (msg: string) => void;
  private readonly ledgerPath: string | null;
  /** Requests expected for the current run (for the progress line). */
  private expected = 0;
  private lastNote = -Infinity;

  constructor(o: BudgetOptions = {}) {
    this.perMinute = o.perMinute ?? POSTHOG_QUERY_LIMITS.perMinute;
    this.perHour = o.perHour ?? POSTHOG_QUERY_LIMITS.perHour;
    this.now = o.now ?? Date.now;
    this.sleep = o.sleep ?? defaultSleep;
    this.onWait = o.onWait ?? (() => {});
    this.ledgerPath = o.ledgerPath ?? null;
    this.times = this.readLedger();
  }

  private readLedger(): number[] {
    if (!this.ledgerPath) return [];
    try {
      const raw = JSON.parse(readFileSync(this.ledgerPath, 'utf8')) as { times?: unknown };
      const cut = this.now() - HOUR;
      return Array.isArray(raw.times) ? raw.times.filter((t): t is number => typeof t === 'number' && t > cut).sort((a, b) => a - b) : [];
    } catch {
      return []; // missing or unreadable: start counting from here
    }
  }

  private writeLedger(): void {
    if (!this.ledgerPath) return;
    try {
      mkdirSync(dirname(this.ledgerPath), { recursive: true });
      writeWhole(this.ledgerPath, JSON.stringify({ version: 1, times: this.times }));
    } catch {
      /* the ledger is an aid: a read-only home must not fail a report */
    }
  }

  private prune(now: number): void {
    let i = 0;
    while (i < this.times.length && this.times[i]! <= now - HOUR) i++;
    if (i) this.times.splice(0, i);
  }

  /** Requests sent in the last minute and hour (this machine, this host and project). */
  used(now = this.now()): { minute: number; hour: number } {
    this.prune(now);
    let minute = 0;
    for (let i = this.times.length - 1; i >= 0 && this.times[i]! > now - MINUTE - MARGIN; i--) minute++;
    return { minute, hour: this.times.length };
  }

  /** Milliseconds until one more request fits both windows. */
  waitMs(now = this.now()): number {
    const u = this.used(now);
    let wait = 0;
    if (u.minute >= this.perMinute) wait = Math.max(wait, this.times[this.times.length - this.perMinute]! + MINUTE + MARGIN - now);
    if (u.hour >= this.perHour) wait = Math.max(wait, this.times[this.times.length - this.perHour]! + HOUR + MARGIN - now);
    return Math.max(0, Math.ceil(wait));
  }

  /**
   * Before a run: how its `requests` fit the budget. `paceSeconds` is the least time the run
   * must wait for the hour window (0 when it fits).
   */
  plan(requests: number, now = this.now()): { requests: number; usedLastHour: number; remaining: number; paceSeconds: number } {
    this.expected += requests;
    const u = this.used(now);
    const remaining = Math.max(0, Math.min(this.perHour - u.hour, this.perMinute - u.minute));
    let paceSeconds = 0;
    const over = u.hour + requests - this.perHour;
    if (over > 0) {
      // the over-th oldest request of the window has to age out first
      const t = this.times[Math.min(over, this.times.length) - 1];
      paceSeconds = t === undefined ? 3600 : Math.ceil((t + HOUR - now) / 1000);
    } else if (requests > remaining) paceSeconds = Math.ceil(((requests - remaining) / this.perMinute) * 60);
    return { requests, usedLastHour: u.hour, remaining, paceSeconds };
  }

  /** Wait until the budget allows one more request, then record it. */
  async acquire(kind: RequestKind): Promise<void> {
    for (;;) {
      const wait = this.waitMs();
      if (wait <= 0) break;
      const u = this.used();
      const which = u.hour >= this.perHour ? `${this.perHour.toLocaleString('en-US')} requests/hour` : `${this.perMinute} requests/minute`;
      const next = this.counts.total + 1;
      const of = this.expected >= next ? ` (request ${next} of about ${this.expected})` : '';
      if (this.now() - this.lastNote >= NOTE_EVERY) {
        this.lastNote = this.now();
        this.onWait(`pacing for PostHog's rate limit (${which} per personal API key): next request in ${Math.ceil(wait / 1000)} s${of}`);
      }
      const t0 = this.now();
      await this.sleep(wait);
      this.counts.pacedMs += Math.max(0, this.now() - t0);
    }
    const now = this.now();
    this.times.push(now);
    this.counts.total++;
    if (kind === 'query') this.counts.queries++;
    else if (kind === 'poll') this.counts.polls++;
    else this.counts.other++;
    this.writeLedger();
  }

  /** A 429 means someone else (another tool, another machine) spent the budget: note it. */
  throttled(): void {
    this.counts.throttled++;
  }
}
