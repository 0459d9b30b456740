/**
 * Every command's registrar, in help order. A registrar defines options and an action that
 * lazy-imports the command's logic.
 */
import type { Command } from 'commander';
import { register as funnel } from '../commands/funnel.js';

export type Registrar = (program: Command) => void;

export const registrars: Registrar[] = [
  funnel,
];
