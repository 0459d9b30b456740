/**
 * Replay checkpoints: how many events (in file/line order) the target has acknowledged, plus the
 * acknowledged ranges beyond that prefix. Written atomically (temp file + rename) after each
 * acknowledged batch, so a crash or kill at any moment leaves either the previous or the next
 * state, never a torn file.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { writeWhole } from '../write-whole.js';
import { dirname, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { InputFile } from './input.js';
import { firstIssue } from '../zod-issues.js';

const schema = z.object({
  version: z.literal(1),
  /** sha256 of host + project token: a checkpoint never resumes into another project. */
  target: z.string(),
  inputs: z.array(z.object({ path: z.string(), size: z.number(), mtimeMs: z.number() })),
  total: z.number().int().nonnegative(),
  done: z.number().int().nonnegative(),
  /**
   * Event ranges [from, to) acknowledged past `done` (batches of chunks still in flight, written
   * after each batch), so a kill re-sends at most the one batch per worker that was on the wire.
   */
  partial: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
  updatedAt: z.string(),
});
export type Checkpoint = z.infer<typeof schema>;

export function targetId(host: string, token: string): string {
  return createHash('sha256').update(`${host}\n${token}`).digest('hex').slice(0, 16);
}

export function readCheckpoint(path: string): Checkpoint | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(path, `cannot read the checkpoint (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(path, `the checkpoint is not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    throw new InputError(path, `not a replay checkpoint: ${firstIssue(r.error)}`);
  }
  return r.data;
}

export function writeCheckpoint(path: string, cp: Checkpoint): void {
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  writeWhole(full, JSON.stringify(cp, null, 2) + '\n');
}

/** Why a checkpoint cannot be resumed with these inputs and target (undefined when it can). */
export function checkpointMismatch(cp: Checkpoint, inputs: readonly InputFile[], target: string): string | undefined {
  if (cp.target !== target) return 'it was written for a different host or project token';
  if (cp.inputs.length !== inputs.length) return `it covers ${cp.inputs.length} input file(s), this run has ${inputs.length}`;
  for (let i = 0; i < inputs.length; i++) {
    const a = cp.inputs[i]!;
    const b = inputs[i]!;
    if (a.path !== b.path) return `input #${i + 1} was ${a.path}, now ${b.path}`;
    if (a.size !== b.size) return `${b.path} changed size since the checkpoint (${a.size} -> ${b.size} bytes)`;
  }
  return undefined;
}
