/**
 * Replay progress on stderr: a redrawn bar with events/s on a terminal, plain lines (every 10%
 * or 5 s) otherwise (CI logs), nothing with --quiet.
 * Hand-written: no kept progress-bar library also does the plain CI lines and a resume-aware rate.
 */
export interface ProgressSink {
  update(done: number): void;
  done(done: number): void;
}

export interface ProgressOptions {
  total: number;
  /** Events already done before this run (resume): excluded from the rate. */
  start: number;
  tty: boolean;
  quiet: boolean;
  write?: (s: string) => void;
  now?: () => number;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function createProgress(o: ProgressOptions): ProgressSink {
  const write = o.write ?? ((s: string) => void process.stderr.write(s));
  const now = o.now ?? (() => Date.now());
  const t0 = now();
  let lastDraw = 0;
  let lastPct = -1;
  const rate = (done: number) => {
    const s = (now() - t0) / 1000;
    return s > 0 ? (done - o.start) / s : 0;
  };
  const line = (done: number) => {
    const pct = o.total ? Math.floor((done / o.total) * 100) : 100;
    return { pct, text: `${fmt(done)}/${fmt(o.total)} events (${pct}%), ${fmt(rate(done))} events/s` };
  };
  if (o.quiet) return { update() {}, done() {} };
  if (o.tty) {
    const draw = (done: number) => {
      const width = 30;
      const filled = o.total ? Math.round((done / o.total) * width) : width;
      write(`\r\x1b[2Kreplay [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(done).text}`);
    };
    return {
      update(done) {
        const t = now();
        if (t - lastDraw < 100) return;
        lastDraw = t;
        draw(done);
      },
      done(done) {
        draw(done);
        write('\n');
      },
    };
  }
  let lastDone = -1;
  return {
    update(done) {
      const l = line(done);
      const t = now();
      const step = Math.floor(l.pct / 10);
      if (step > lastPct || t - lastDraw >= 5000) {
        lastPct = step;
        lastDraw = t;
        lastDone = done;
        write(`replay: ${l.text}\n`);
      }
    },
    done(done) {
      if (done !== lastDone) write(`replay: ${line(done).text}\n`);
    },
  };
}
