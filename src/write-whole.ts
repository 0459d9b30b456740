/**
 * Write a file whole or not at all: through a temporary file beside it, renamed into place (a
 * rename within one folder replaces the file in one step), the temporary file removed when
 * anything fails. The error is the caller's to word (an option's name, a file's place).
 */
import { closeSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `content`: text, or binary parts written one after another. */
export function writeWhole(path: string, content: string | readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    if (typeof content === 'string') writeFileSync(tmp, content);
    else {
      const fd = openSync(tmp, 'w');
      try {
        for (const part of content) {
          for (let at = 0; at < part.length; ) at += writeSync(fd, part, at, Math.min(part.length - at, 1 << 30));
        }
      } finally {
        closeSync(fd);
      }
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
