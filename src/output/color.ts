/** One chalk instance, configured once from --no-color / NO_COLOR / TTY detection. */
import { Chalk, type ChalkInstance } from 'chalk';

let instance: ChalkInstance = new Chalk({ level: 0 });

export function setColor(enabled: boolean): void {
  instance = new Chalk({ level: enabled ? 1 : 0 });
}

export function c(): ChalkInstance {
  return instance;
}
