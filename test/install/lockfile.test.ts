// `npm ci` refuses a lockfile that lacks an optional dependency the package asks for, so every
// platform binding that @duckdb/node-bindings lists must be recorded, not only this machine's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; optionalDependencies?: Record<string, string> }>;
};

describe('package-lock.json', () => {
  it('records every optional platform binding of every package, so `npm ci` works on any platform', () => {
    const missing: string[] = [];
    let optional = 0;
    for (const [path, pkg] of Object.entries(lock.packages)) {
      for (const [name, range] of Object.entries(pkg.optionalDependencies ?? {})) {
        optional++;
        const nested = `${path ? path + '/' : ''}node_modules/${name}`;
        const entry = lock.packages[nested] ?? lock.packages[`node_modules/${name}`];
        if (!entry) missing.push(`${name}@${range} (wanted by ${path || 'the root'})`);
      }
    }
    expect(missing).toEqual([]);
    // the DuckDB bindings are the ones that went missing before: check they are really there
    const duck = Object.keys(lock.packages).filter((p) => p.startsWith('node_modules/@duckdb/node-bindings-'));
    expect(duck.length).toBeGreaterThanOrEqual(8);
    expect(optional).toBeGreaterThan(0);
  });
});
