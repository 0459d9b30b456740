/**
 * The sandbox's PID file, so scripts start and stop the server itself rather than a launcher in
 * front of it (under `npx`, a signal to the launcher's PID never reaches the server).
 */
import { readFileSync, rmSync } from 'node:fs';
import { writeWhole } from '../write-whole.js';
import { UsageError, cannotWrite } from '../errors.js';

export interface PidInfo {
  pid: number;
  url?: string;
}

/** True while a process with this PID exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID file's contents: the PID on the first line, the URL on the second; undefined when absent. */
export function readPidFile(path: string): PidInfo | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`--pid-file: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const [first, second] = text.split('\n');
  const pid = Number(first?.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new UsageError(`--pid-file: ${path}:1 is not a process id`);
  return { pid, url: second?.trim() || undefined };
}

/** Refuse a PID file whose process still runs (another sandbox); a stale one is replaced. */
export function claimPidFile(path: string): void {
  const old = readPidFile(path);
  if (old && old.pid !== process.pid && isAlive(old.pid)) {
    throw new UsageError(`--pid-file: ${path} belongs to a running sandbox (pid ${old.pid})`, `Stop it first: discover-metrics sandbox stop --pid-file ${path}`);
  }
}

/** Write this process's PID and URL whole (through a temporary file), or not at all. */
export function writePidFile(path: string, url: string): void {
  try {
    writeWhole(path, `${process.pid}\n${url}\n`);
  } catch (e) {
    throw cannotWrite('--pid-file', path, e);
  }
}

/** Remove the PID file if it is still this process's. */
export function releasePidFile(path: string, pid = process.pid): void {
  try {
    if (readPidFile(path)?.pid === pid) rmSync(path, { force: true });
  } catch {
    // a file someone else rewrote or made unreadable is theirs
  }
}
