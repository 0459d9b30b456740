/**
 * What a load reports while it runs (LoadOptions.onProgress): bytes read of the inputs, with an
 * events count (exact for finished files, estimated from the file's first lines while DuckDB
 * reads a plain JSONL/CSV file), and the phases that are not proportional to the input.
 *
 * DuckDB reads each file in one statement; its own query progress (the fraction of the file its
 * reader has consumed) is polled every 200 ms while the insert runs, so the load itself does no
 * extra work per row.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { StoreHandle } from '../handle.js';
import type { Source } from '../sources.js';

export type LoadProgress =
  /** stdin being spooled to a temporary file: bytes so far and lines (events, for JSONL). */
  | { kind: 'spool'; bytes: number; lines: number }
  /** Inputs being read: bytes of all inputs, events (estimated while a file is read). */
  | { kind: 'read'; bytes: number; totalBytes: number; events: number; estimated: boolean }
  /** A phase not proportional to the input. */
  | { kind: 'phase'; text: string };

export type OnLoadProgress = (p: LoadProgress) => void;

const POLL_MS = 200;

/** Average bytes per event in the first 64 KiB of a plain JSONL/CSV file; undefined otherwise. */
function bytesPerEvent(src: Source): number | undefined {
  if (src.gzip || (src.format !== 'jsonl' && src.format !== 'csv')) return undefined;
  const fd = openSync(src.path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let lines = 0;
    let end = 0;
    for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) {
      lines++;
      end = i + 1;
    }
    if (src.format === 'csv') lines--; // the header row
    return lines > 0 ? end / lines : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Reports the read progress of a load's sources, one insert at a time. */
export class ReadWatcher {
  private readonly sizes: number[];
  private readonly total: number;
  private doneBytes = 0;
  private events = 0;

  constructor(
    private readonly store: StoreHandle,
    private readonly sources: Source[],
    private readonly on: OnLoadProgress | undefined,
  ) {
    this.sizes = on ? sources.map((s) => statSync(s.path).size) : [];
    this.total = this.sizes.reduce((a, b) => a + b, 0);
  }

  phase(text: string): void {
    this.on?.({ kind: 'phase', text });
  }

  /** Run the insert of source `i`, polling DuckDB's progress; then count its rows as read. */
  async insert<T extends { rowsChanged: number }>(i: number, run: () => Promise<T>): Promise<T> {
    const on = this.on;
    if (!on) return run();
    const conn = this.store.conn;
    const perEvent = bytesPerEvent(this.sources[i]!);
    const size = this.sizes[i]!;
    const report = (fraction: number) => {
      const bytes = size * Math.min(1, Math.max(0, fraction));
      on({
        kind: 'read',
        bytes: this.doneBytes + bytes,
        totalBytes: this.total,
        events: this.events + (perEvent ? Math.round(bytes / perEvent) : 0),
        estimated: true,
      });
    };
    report(0);
    await conn.run(`SET enable_progress_bar = true; SET enable_progress_bar_print = false`);
    const timer = setInterval(() => {
      const p = conn.progress.percentage;
      if (p >= 0) report(p / 100);
    }, POLL_MS);
    try {
      const r = await run();
      this.doneBytes += size;
      this.events += r.rowsChanged;
      on({ kind: 'read', bytes: this.doneBytes, totalBytes: this.total, events: this.events, estimated: false });
      return r;
    } finally {
      clearInterval(timer);
      // (after a failed insert the transaction only accepts a rollback: the settings stay, unprinted)
      await conn.run(`RESET enable_progress_bar; RESET enable_progress_bar_print`).catch(() => undefined);
    }
  }
}
