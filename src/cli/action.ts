/**
 * The edge between commander and a command: normalise the parsed options once into the command's
 * typed options, run it (loaded lazily, so `--help` stays fast and DuckDB loads only when needed),
 * and hand its result to the output layer.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../commands/context.js';
import { Output } from '../output/output.js';
import { isQueryPrint, type CommandResult } from '../output/report.js';
import { globalsOf } from './globals.js';

type Raw = Record<string, any>;
type Run<O> = (o: O, c: CommandContext) => Promise<CommandResult>;

/** Receives a command's typed options instead of running it (the argv -> options tests). */
export type Intercept = (command: string, options: unknown, globals: ReturnType<typeof globalsOf>) => void;
const intercepts = new WeakMap<Command, Intercept>();

/** Make every command of `program` hand its normalised options to `fn` instead of running. */
export function interceptCommands(program: Command, fn: Intercept): void {
  intercepts.set(program, fn);
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** `store info`, `funnel`: the command's full name below the program. */
function nameOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** `{host}/project/{id}` of the PostHog project the flags, environment or config name, if both are known. */
async function projectUrlOf(o: Raw): Promise<string | undefined> {
  const { normalizeHost, resolveConnection } = await import('../config/posthog.js');
  const c = resolveConnection({ host: o.host, projectId: o.projectId, config: o.config });
  if (!c.host || !c.projectId || !/^\d+$/.test(c.projectId)) return undefined;
  return `${normalizeHost(c.host)}/project/${c.projectId}`;
}

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
    const intercept = intercepts.get(rootOf(command));
    if (intercept) return intercept(nameOf(command), options, g);
    const run = await load();
    let result = await run(options, { store: g.store, storeChosen: g.storeChosen, quiet: g.quiet, out });
    if (isQueryPrint(result) && command.opts().printInsight) result = { ...result, ui: { projectUrl: await projectUrlOf(command.opts()) } };
    out.result(result);
    if (result && 'failure' in result && result.failure) throw result.failure;
  });
}
