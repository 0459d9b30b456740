/**
 * Global options shared by every command, declared once on the program and resolved once per run.
 */
import { Option, type Command } from 'commander';
import { defaultStorePath } from '../store/path.js';
import { setColor } from '../output/color.js';
import { FORMATS, type OutputFormat } from '../output/report.js';

export interface GlobalOptions {
  store: string;
  /** --store or DISCOVER_METRICS_STORE was given (not the default path). */
  storeChosen: boolean;
  format: OutputFormat;
  color: boolean;
  quiet: boolean;
}

export function addGlobalOptions(program: Command): void {
  program
    .addOption(new Option('--store <path>', 'event store file').env('DISCOVER_METRICS_STORE'))
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table'))
    .option('--no-color', 'disable colours (also NO_COLOR)')
    .option('-q, --quiet', 'print only results and errors');
}

/** Resolve the global options of a command (they are the root program's options). */
export function globalsOf(cmd: Command, env: NodeJS.ProcessEnv = process.env, tty = !!process.stdout.isTTY): GlobalOptions {
  const o = cmd.optsWithGlobals() as { store?: string; format: OutputFormat; color?: boolean; quiet?: boolean };
  const color = o.color !== false && !('NO_COLOR' in env && env.NO_COLOR !== '') && tty && env.TERM !== 'dumb';
  setColor(color);
  return {
    store: o.store ?? defaultStorePath(env),
    storeChosen: o.store !== undefined,
    format: o.format,
    color,
    quiet: !!o.quiet,
  };
}
