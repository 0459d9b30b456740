import type { Command, Option } from 'commander';

/** Add shared option declarations (from ../options.ts) to a command. */
export function withOptions(cmd: Command, options: readonly Option[]): Command {
  for (const opt of options) cmd.addOption(opt);
  return cmd;
}
