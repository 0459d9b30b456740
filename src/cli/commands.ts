/** Every command group's registrar, in help order. */
import type { Command } from 'commander';
import { register as discover } from './commands/discover.js';
import { register as connect } from './commands/connect.js';
import { register as data } from './commands/data.js';
import { register as posthog } from './commands/posthog.js';

export type Registrar = (program: Command) => void;

export const registrars: Registrar[] = [discover, connect, data, posthog];
