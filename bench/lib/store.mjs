// The benchmark stores: built once under a temp folder, then reused (--rebuild starts over).
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const { Store } = await import(join(root, 'dist/store/store.js'));

/** Opens the store at `path` (deleted first with `rebuild`); `events` is how many it holds. */
export async function openBenchStore(path, rebuild) {
  if (rebuild && existsSync(path)) rmSync(path);
  mkdirSync(dirname(path), { recursive: true });
  const store = await Store.open(path);
  const events = Number((await store.conn.runAndReadAll('SELECT count(*) FROM events')).getRows()[0][0]);
  return { store, events };
}
