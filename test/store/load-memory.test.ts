import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { loadFiles } from '../../src/store/ingest.js';
import { capLoadMemory, LOAD_MEMORY_BASE_MB, LOAD_MEMORY_PER_THREAD_MB, settingBytes } from '../../src/store/load/memory.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-load-memory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setting = async (store: Store, name: string) => String((await store.conn.runAndReadAll(`SELECT current_setting('${name}')`)).getRows()[0]![0]);

describe('the memory a load lets DuckDB use', () => {
  it('reads DuckDB size settings as it prints them', () => {
    expect(settingBytes('18.8 GiB')).toBeCloseTo(18.8 * 2 ** 30);
    expect(settingBytes('512.0 MiB')).toBe(512 * 2 ** 20);
    expect(settingBytes('1.5 GB')).toBe(1.5e9);
    expect(settingBytes('unlimited')).toBeUndefined();
  });

  it('is capped by threads for a file store while it loads (peak memory flat in the input), then put back', async () => {
    const store = await Store.open(join(dir, 'cap.duckdb'));
    try {
      await store.conn.run(`SET threads = 2; SET memory_limit = '8GiB'`);
      const before = await setting(store, 'memory_limit');
      const restore = await capLoadMemory(store);
      expect(settingBytes(await setting(store, 'memory_limit'))).toBe((LOAD_MEMORY_BASE_MB + 2 * LOAD_MEMORY_PER_THREAD_MB) * 2 ** 20);
      await restore();
      expect(await setting(store, 'memory_limit')).toBe(before);
      // a limit already below the cap stays
      await store.conn.run(`SET memory_limit = '300MiB'`);
      const low = await setting(store, 'memory_limit');
      await (await capLoadMemory(store))();
      expect(await setting(store, 'memory_limit')).toBe(low);
      // a whole load, failed or not, leaves it as it was
      await store.conn.run(`SET memory_limit = '8GiB'`);
      const ev = { uuid: '00000000-0000-4000-8000-000000000001', event: '$pageview', distinct_id: 'd', timestamp: '2024-05-01T10:00:00Z', properties: {} };
      const good = join(dir, 'good.jsonl');
      writeFileSync(good, JSON.stringify(ev) + '\n');
      await loadFiles(store, [good]);
      expect(await setting(store, 'memory_limit')).toBe(before);
      // seen from another connection while a load runs (the limit is the database's)
      const many = join(dir, 'many.jsonl');
      writeFileSync(many, Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ ...ev, uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, distinct_id: `d${i}` })).join('\n') + '\n');
      const other = await store.instance.connect();
      const seen = new Set<string>();
      let done = false;
      const load = loadFiles(store, [many]).finally(() => (done = true));
      while (!done) seen.add(String((await other.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0]![0]));
      await load;
      other.closeSync();
      expect([...seen].map(settingBytes)).toContain((LOAD_MEMORY_BASE_MB + 2 * LOAD_MEMORY_PER_THREAD_MB) * 2 ** 20);
      expect(await setting(store, 'memory_limit')).toBe(before);
      const bad = join(dir, 'bad.jsonl');
      writeFileSync(bad, JSON.stringify({ ...ev, timestamp: 'nope' }) + '\n');
      await expect(loadFiles(store, [bad])).rejects.toThrow(/bad\.jsonl:1/);
      expect(await setting(store, 'memory_limit')).toBe(before);
    } finally {
      await store.close();
    }
  });

  it('is left alone for an in-memory store (its tables live in that memory)', async () => {
    const store = await Store.open(':memory:');
    try {
      const before = await setting(store, 'memory_limit');
      await (await capLoadMemory(store))();
      const restore = await capLoadMemory(store);
      expect(await setting(store, 'memory_limit')).toBe(before);
      await restore();
    } finally {
      await store.close();
    }
  });
});
