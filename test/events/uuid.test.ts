import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { loadFiles } from '../../src/store/ingest.js';
import { readFixtureFile } from '../../src/replay/input.js';
import { timestampMicros } from '../../src/events/uuid.js';

describe('one uuid for an event that has none', () => {
  it('load and replay derive the same uuid for the same file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dm-uuid-'));
    const file = join(dir, 'no-uuid.jsonl');
    const lines = [
      { event: 'a', distinct_id: 'u1', timestamp: '2026-03-02T09:00:00.123456Z', properties: { x: 1, 'tp.k': 'é', nested: { y: [1, 2] } } },
      { event: 'b', distinct_id: 'u2', timestamp: '2026-03-02T10:00:00+02:00', properties: {} },
      { event: 'c', distinct_id: 'u3', timestamp: '2026-03-02 11:00:00' },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const replayed: string[] = [];
    for await (const ev of readFixtureFile(file)) replayed.push(ev.uuid);
    const store = await Store.open(join(dir, 's.duckdb'));
    try {
      expect(await loadFiles(store, [file])).toMatchObject({ inserted: 3, derivedUuids: 3 });
      const r = await store.conn.runAndReadAll(`SELECT CAST(uuid AS VARCHAR) FROM events ORDER BY timestamp`);
      const loaded = r.getRows().map((x) => String(x[0]));
      expect(replayed).toEqual([loaded[1], loaded[0], loaded[2]]); // b (08:00 UTC) sorts first
    } finally {
      await store.close();
    }
  });

  it('reads sub-millisecond digits and zones like the store', () => {
    expect(timestampMicros('1970-01-01T00:00:01.000001Z')).toBe(1_000_001n);
    expect(timestampMicros('1970-01-01T01:00:00+01:00')).toBe(0n);
    expect(timestampMicros('1970-01-01 00:00:00')).toBe(0n);
  });
});
