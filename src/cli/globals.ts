/**
 * Global options shared by every command, resolved once from flags and environment.
 */
import type { Command } from 'commander';
import { defaultStorePath } from '../store/store.js';
import { UsageError } from '../errors.js';
import { setColor } from '../output/color.js';

export type OutputFormat = 'table' | 'json' | 'csv' | 'markdown';

export interface GlobalOptions {
  store: string;
  format: OutputFormat;
  color: boolean;
  quiet: boolean;
  /** stdout is a terminal (tables, progress bars, charts). */
  tty: boolean;
}

export const FORMATS: readonly OutputFormat[] = ['table', 'json', 'csv', 'markdown'];

export function addGlobalOptions(program: Command): void {
  program
    .option('--store <path>', 'event store file (env DISCOVER_METRICS_STORE)', undefined)
    .option('--format <format>', `output format: ${FORMATS.join('|')} (default: table)`)
    .option('--no-color', 'disable colours (also NO_COLOR)')
    .option('-q, --quiet', 'print only results and errors');
}

/** Resolve global options for a command (reads the root program's options). */
export function globalsOf(cmd: Command, env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  const o = cmd.optsWithGlobals() as { store?: string; format?: string; color?: boolean; quiet?: boolean };
  const tty = !!process.stdout.isTTY;
  let format: OutputFormat = 'table';
  if (o.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(o.format)) {
      throw new UsageError(`--format: unknown format '${o.format}'`, `Valid formats: ${FORMATS.join(', ')}.`);
    }
    format = o.format as OutputFormat;
  }
  const color = o.color !== false && !('NO_COLOR' in env && env.NO_COLOR !== '') && tty && env.TERM !== 'dumb';
  setColor(color);
  return {
    store: o.store ?? defaultStorePath(env),
    format,
    color,
    quiet: !!o.quiet,
    tty,
  };
}
