/**
 * The edge between commander and a command: normalise the parsed options once into the command's
 * typed options, run it (loaded lazily, so `--help` stays fast and DuckDB loads only when needed),
 * and hand its result to the output layer.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../commands/context.js';
import { Output } from '../output/output.js';
import type { CommandResult } from '../output/report.js';
import { globalsOf } from './globals.js';

type Raw = Record<string, any>;
type Run<O> = (o: O, c: CommandContext) => Promise<CommandResult>;

/**
 * Set `cmd`'s action: `normalise(opts, args, cmd)` builds the typed options (usage errors exit 2
 * before anything runs), `load()` imports the command.
 */
export function action<O>(cmd: Command, normalise: (o: Raw, args: string[][], cmd: Command) => O | Promise<O>, load: () => Promise<Run<O>>): Command {
  return cmd.action(async (...params: unknown[]) => {
    const command = params[params.length - 1] as Command;
    const args = params.slice(0, -2) as string[][];
    const g = globalsOf(command);
    const out = new Output({ format: g.format, quiet: g.quiet });
    const options = await normalise(command.opts(), args, command);
    const run = await load();
    const result = await run(options, { store: g.store, storeChosen: g.storeChosen, quiet: g.quiet, out });
    out.result(result);
    if (result && 'failure' in result && result.failure) throw result.failure;
  });
}
