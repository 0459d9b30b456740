/**
 * Where the event store lives when --store and DISCOVER_METRICS_STORE say nothing. Its own module:
 * the CLI needs the path at every start, the store's code (and DuckDB) only when a command runs.
 */
import { join, resolve } from 'node:path';
import { homedir } from 'node:os';

export function defaultStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DISCOVER_METRICS_STORE) return resolve(env.DISCOVER_METRICS_STORE);
  const base = env.XDG_DATA_HOME
    ? env.XDG_DATA_HOME
    : process.platform === 'darwin'
      ? join(homedir(), 'Library', 'Application Support')
      : process.platform === 'win32'
        ? (env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
        : join(homedir(), '.local', 'share');
  return join(base, 'discover-metrics', 'events.duckdb');
}
