// Every start of the CLI loads only its wiring: zod, the definition files, the store and DuckDB
// load when a command that needs them runs (`--version` took 0.32 CPU-s and 222 modules when
// the registrars and the global options imported them eagerly; 0.17 CPU-s and ~110 modules now).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, tmpDir } from '../commands/cli.js';

/** The URLs of every module a run of the binary loads (a loader hook writes them to a file). */
function modulesLoadedBy(args: string[]): string[] {
  const list = join(tmpDir('dm-startup-'), 'modules.txt');
  const hooks = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { appendFileSync(${JSON.stringify(list)}, url + '\\n'); return next(url, context); }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, BIN, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(list, 'utf8').trim().split('\n');
}

describe('CLI start-up', () => {
  it.each([['--version'], ['funnel', '--help'], ['dau', '--help']].map((a) => [a.join(' '), a] as const))('%s loads neither zod, the definitions, the store nor DuckDB', (_name, args) => {
    const loaded = modulesLoadedBy([...args]);
    expect(loaded.some((u) => u.includes('/dist/cli/program.js'))).toBe(true);
    // the store's default path is the one piece of the store every start needs
    expect(loaded.filter((u) => /node_modules\/(zod|@duckdb)\/|\/dist\/(definitions|engines|config)\/|\/dist\/store\/(?!path\.js)/.test(u))).toEqual([]);
  });
});
