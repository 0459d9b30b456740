/**
 * The discover-metrics binary: commander wiring only. Each registrar in ./commands declares its
 * commands' options and lazy-imports the command modules, so `--help` stays fast and DuckDB loads
 * only when needed.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { debugEnabled, DEBUG_ENV } from '../debug.js';
import { addGlobalOptions } from './globals.js';
import { registrars } from './commands.js';
import { CORRUPT_STORE_HINT, CORRUPT_STORE_RE, DmError, EXIT_INTERNAL, EXIT_USAGE, redactSecrets } from '../errors.js';
import { c } from '../output/color.js';

export function buildProgram(): Command {
  const program = new Command('discover-metrics');
  program
    .description('Teleport Discover and Connect product metrics from PostHog events — on PostHog or on an embedded DuckDB engine.')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(c().red(redactSecrets(str))) })
    .exitOverride();
  addGlobalOptions(program);
  for (const register of registrars) register(program);
  program.commands.forEach((cmd) => applyExitOverride(cmd));
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride().showSuggestionAfterError(true);
  cmd.commands.forEach(applyExitOverride);
}

/** The package's version (package.json sits two levels above src/cli and dist/cli alike). */
export const VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

let pipesGuarded = false;

export async function main(argv: string[]): Promise<number> {
  // `discover-metrics ... | head` closes the pipe early: stop quietly, like other CLI tools.
  // Once per process: main may run more than once in one (tests, benches).
  if (!pipesGuarded) {
    pipesGuarded = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
        throw e;
      });
    }
  }
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed the message (and help) for usage errors
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return e.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (e instanceof DmError) {
    process.stderr.write(c().red(`error: ${redactSecrets(e.message)}`) + '\n');
    if (e.hint) process.stderr.write(redactSecrets(e.hint) + '\n');
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (CORRUPT_STORE_RE.test(msg)) {
    // a damaged store found by a query after it opened (Store.open says so itself)
    process.stderr.write(c().red(`error: the event store is corrupt: ${redactSecrets(msg.split('\n')[0]!)}`) + '\n');
    process.stderr.write(`${CORRUPT_STORE_HINT}\n`);
    return EXIT_USAGE;
  }
  process.stderr.write(c().red(`internal error: ${redactSecrets(msg)}`) + '\n');
  if (debugEnabled('stack') && e instanceof Error && e.stack) process.stderr.write(redactSecrets(e.stack) + '\n');
  else process.stderr.write(`(set ${DEBUG_ENV}=stack for a stack trace)\n`);
  return EXIT_INTERNAL;
}

