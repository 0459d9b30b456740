/**
 * Write a file whole or not at all: through a temporary file beside it, renamed into place (a
 * rename within one folder replaces the file in one step), the temporary file removed when
 * anything fails. The error is the caller's to word (an option's name, a file's place).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeWhole(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
