/**
 * The one progress line of long-running commands (load, fixtures generate, seed, downloads,
 * replay, push), always on stderr so stdout stays clean for json/csv:
 *   - on a terminal: one line redrawn in place (at most every 100 ms), a bar when the total is
 *     known, the rate and an ETA; a phase that is not proportional to the input (dedup,
 *     persons, commit) shows what it is doing and for how long;
 *   - otherwise (CI logs, a pipe): a plain line at most every few seconds (5 s;
 *     DISCOVER_METRICS_PROGRESS_INTERVAL in ms changes it, for tests), and at the end;
 *   - --quiet: nothing.
 * update() only compares a clock reading while it has nothing to draw, so hot loops may call it
 * per item. Hand-written: no kept progress library also prints the plain CI lines, counts two
 * quantities (bytes and events) and excludes a resumed run's earlier work from the rate.
 */
import { formatDuration } from './format.js';

export type ProgressUnit = 'events' | 'bytes' | 'files' | 'insights';

export interface ProgressOptions {
  /** Leads every line: the command's name ("load", "replay"). */
  label: string;
  unit: ProgressUnit;
  /** Known total in `unit` (bar, percentage, ETA); undefined = unknown (counts and rate only). */
  total?: number;
  /** Work already done before this run (a resumed replay): excluded from the rate. */
  start?: number;
  quiet: boolean;
  /** Draw on a terminal; default: whether stderr is one. */
  tty?: boolean;
  write?: (s: string) => void;
  now?: () => number;
  /** Plain-line interval in ms (default DISCOVER_METRICS_PROGRESS_INTERVAL, else 5000). */
  intervalMs?: number;
  /** Terminal width for the redrawn line (default: stderr's columns). */
  columns?: number;
}

export interface Progress {
  /** `done` so far in the unit; `detail` is a second count shown after it ("12,000 events"). */
  update(done: number, detail?: string): void;
  /** Now doing something not proportional to the input ("deduplicating uuids"). */
  phase(text: string): void;
  /** The work is over: final line (terminal: then a newline; plain: if not already printed). */
  done(done?: number, detail?: string): void;
}

const TTY_MS = 100;

function intervalFromEnv(): number {
  const v = Number(process.env.DISCOVER_METRICS_PROGRESS_INTERVAL);
  return Number.isFinite(v) && v >= 0 && process.env.DISCOVER_METRICS_PROGRESS_INTERVAL !== '' ? v : 5000;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** Bytes as people read them: 812 B, 45.2 MB, 1.3 GB (decimal units, like ls -h --si). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[i]}`;
}

function amount(unit: ProgressUnit, n: number): string {
  return unit === 'bytes' ? formatBytes(n) : count(n);
}

export const NO_PROGRESS: Progress = { update() {}, phase() {}, done() {} };

export function createProgress(o: ProgressOptions): Progress {
  if (o.quiet) return NO_PROGRESS;
  const write = o.write ?? ((s: string) => void process.stderr.write(s));
  const now = o.now ?? (() => Date.now());
  const tty = o.tty ?? !!process.stderr.isTTY;
  const every = tty ? TTY_MS : (o.intervalMs ?? intervalFromEnv());
  const start = o.start ?? 0;
  const t0 = now();
  let last = -Infinity;
  let lastKey = '';
  let current = start;
  let detail: string | undefined;
  let phase: { text: string; since: number } | undefined;
  let ticker: NodeJS.Timeout | undefined;

  const text = (t: number): string => {
    if (phase) return t - phase.since < 1000 ? `${phase.text}…` : `${phase.text}… ${formatDuration((t - phase.since) / 1000)}`;
    const secs = (t - t0) / 1000;
    const rate = secs > 0 ? (current - start) / secs : 0;
    const perSec = o.unit === 'bytes' ? `${formatBytes(rate)}/s` : `${count(rate)} ${o.unit}/s`;
    const extra = detail ? ` · ${detail}` : '';
    if (o.total === undefined) return `${amount(o.unit, current)}${o.unit === 'bytes' ? '' : ` ${o.unit}`}${extra}, ${perSec}`;
    const pct = o.total ? Math.min(100, Math.floor((current / o.total) * 100)) : 100;
    const left = o.total - current;
    const eta = rate > 0 && left / rate >= 1 && secs >= 1 ? `, ETA ${formatDuration(left / rate)}` : '';
    const of = `${amount(o.unit, current)}/${amount(o.unit, o.total)}${o.unit === 'bytes' ? '' : ` ${o.unit}`}`;
    return `${of} (${pct}%)${extra}, ${perSec}${eta}`;
  };
  const draw = (t: number) => {
    last = t;
    const body = text(t);
    if (!tty) {
      lastKey = phase ? '' : `${current}|${detail}`;
      write(`${o.label}: ${body}\n`);
      return;
    }
    let line = `${o.label} ${body}`;
    if (o.total !== undefined && !phase) {
      const width = 30;
      const filled = o.total ? Math.min(width, Math.round((current / o.total) * width)) : width;
      line = `${o.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${body}`;
    }
    const cols = o.columns ?? process.stderr.columns ?? 0;
    if (cols > 1 && line.length >= cols) line = line.slice(0, cols - 1);
    write(`\r\x1b[2K${line}`);
  };
  const stopTicker = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };

  return {
    update(done, d) {
      current = done;
      detail = d;
      if (phase) {
        phase = undefined;
        stopTicker();
      }
      const t = now();
      if (t - last >= every) draw(t);
    },
    phase(p) {
      const t = now();
      phase = { text: p, since: t };
      if (tty || t - last >= every) draw(t);
      // a phase has no counts to report: the clock keeps the line alive (terminal: its elapsed
      // time; plain: a line per interval, so a CI log shows the process is not stuck)
      stopTicker();
      ticker = setInterval(() => {
        const now_ = now();
        if (tty || now_ - last >= every) draw(now_);
      }, tty ? 1000 : Math.max(every, 250));
      ticker.unref();
    },
    done(done, d) {
      stopTicker();
      phase = undefined;
      if (done !== undefined) current = done;
      if (d !== undefined) detail = d;
      const t = now();
      if (tty) {
        draw(t);
        write('\n');
      } else if (`${current}|${detail}` !== lastKey) draw(t);
    },
  };
}
