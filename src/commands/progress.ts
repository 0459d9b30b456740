/**
 * The progress lines of the commands that can run long, fed by the logic's callbacks: a load
 * (stdin spooled, bytes and events read, then its phases), events generated, log files read,
 * insights pushed.
 */
import type { Output } from '../output/output.js';
import { formatBytes, type Progress, type ProgressUnit } from '../output/progress.js';
import { formatNumber } from '../output/format.js';
import type { LoadProgress, OnLoadProgress } from '../store/ingest.js';

export interface Reporter<F extends (...a: never[]) => void> {
  on: F;
  /** The work is over (or failed): the final line, and the terminal line ended. */
  end(): void;
}

/** A load's progress: stdin's bytes and lines while it is spooled, then bytes and events read with an ETA, then its phases. */
export function loadReporter(out: Output, label = 'load'): Reporter<OnLoadProgress> {
  if (out.quiet) return { on: () => {}, end() {} };
  let stage: 'spool' | 'read' | undefined;
  let line: Progress | undefined;
  let last: Extract<LoadProgress, { kind: 'read' }> | undefined;
  const events = (p: Extract<LoadProgress, { kind: 'read' }>) => `${p.estimated ? '~' : ''}${formatNumber(p.events)} events`;
  return {
    on(p) {
      if (p.kind === 'phase') {
        (line ??= out.progress({ label, unit: 'bytes' })).phase(p.text);
        return;
      }
      if (p.kind !== stage) {
        line?.done();
        stage = p.kind;
        line = out.progress({ label, unit: 'bytes', total: p.kind === 'read' ? p.totalBytes : undefined });
      }
      if (p.kind === 'spool') line!.update(p.bytes, `${formatNumber(p.lines)} lines from stdin`);
      else {
        last = p;
        line!.update(p.bytes, events(p));
      }
    },
    end() {
      line?.done(last?.bytes, last ? events(last) : undefined);
      line = stage = last = undefined;
    },
  };
}

/** Events generated (no total is known before the generator is done). */
export function eventsReporter(out: Output, label: string): Reporter<(events: number) => void> {
  let line: Progress | undefined;
  return {
    on(n) {
      (line ??= out.progress({ label, unit: 'events' })).update(n);
    },
    end() {
      line?.done();
      line = undefined;
    },
  };
}

/** Items done of a known total (push: insights), and the steps that are not per item. */
export function itemsReporter(out: Output, label: string, unit: ProgressUnit, total: number): Reporter<(done: number) => void> & { phase(text: string): void } {
  let line: Progress | undefined;
  const get = () => (line ??= out.progress({ label, unit, total }));
  return {
    on(done) {
      get().update(done);
    },
    phase(text) {
      get().phase(text);
    },
    end() {
      line?.done();
      line = undefined;
    },
  };
}

/** Log files read, of how many, with the megabytes of log text read. */
export function filesReporter(out: Output, label: string): Reporter<(files: number, of: number, bytes: number) => void> {
  let line: Progress | undefined;
  let detail = '';
  return {
    on(files, of, bytes) {
      detail = `${formatBytes(bytes)} of logs`;
      (line ??= out.progress({ label, unit: 'files', total: of })).update(files, detail);
    },
    end() {
      line?.done(undefined, detail);
      line = undefined;
    },
  };
}
