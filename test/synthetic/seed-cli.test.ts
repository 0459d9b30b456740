import { describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { seedStore } from '../../src/synthetic/seed.js';
import { json, run, tmpDir } from '../commands/cli.js';


async function count(store: Store, sql: string): Promise<number> {
  const r = await store.conn.runAndReadAll(sql);
  return Number(r.getRows()[0]![0]);
}

describe('seed', () => {
  test('loads generated events and matching downloads; a second run adds nothing', async () => {
    const dir = tmpDir('dm-seed-test-');
    const store = await Store.open(join(dir, 'e.duckdb'));
    try {
      const small = { accounts: 30, installations: 40, days: 14 };
      const first = await seedStore(store, { generate: small });
      expect(first.generated.events).toBeGreaterThan(1000);
      expect(first.inserted).toBe(first.generated.events);
      expect(first.downloads!.inserted).toBeGreaterThan(0);
      const total = await count(store, 'SELECT count(*) FROM events');
      expect(total).toBe(first.inserted + first.downloads!.inserted);
      expect(await count(store, `SELECT count(*) FROM events WHERE event = 'tp.ui.discover.started'`)).toBe(first.generated.byEvent['tp.ui.discover.started']);
      const again = await seedStore(store, { generate: small });
      expect(again.inserted).toBe(0);
      expect(again.duplicates).toBe(first.inserted);
      expect(again.downloads!.inserted).toBe(0);
      expect(await count(store, 'SELECT count(*) FROM events')).toBe(total);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('CLI: the built-in demo set, with a summary and the next command to try', async () => {
    const dir = tmpDir('dm-seed-cli-');
    try {
      const r = await run(['--store', join(dir, 'e.duckdb'), 'seed', '--no-downloads', '--now', '2026-10-01T12:00:00Z']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('2026-08-02 .. 2026-10-01 (end exclusive)');
      const m = /events\s*│\s*([\d,]+) \(([\d,]+) new, 0 already stored\)/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      const n = Number(m![1]!.replace(/,/g, ''));
      expect(n).toBeGreaterThan(80_000);
      expect(n).toBeLessThan(300_000);
      expect(m![2]).toBe(m![1]);
      expect(r.stderr).toContain('try: discover-metrics funnel --resource all');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fixtures generate (CLI)', () => {
  test('--out - streams JSONL to stdout, the summary to stderr', async () => {
    const r = await run(['fixtures', 'generate', '--out', '-', '--days', '3', '--accounts', '5', '--installations', '5', '--seed', '11']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) expect(Object.keys(JSON.parse(l) as object)).toEqual(['uuid', 'event', 'distinct_id', 'timestamp', 'properties', 'person_properties']);
    expect(r.stderr).toMatch(/generated [\d,]+ events \(seed 11/);
  });

  test('writes a file and CDN logs; the summary is JSON when asked', async () => {
    const dir = tmpDir('dm-fx-cli-');
    try {
      const r = await run(['fixtures', 'generate', '--out', join(dir, 'ev.jsonl.gz'), '--days', '5', '--accounts', '5', '--installations', '20', '--cdn-logs', join(dir, 'cdn'), '--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const s = json<{ events: number; cdnLogs: string[] }>(r);
      expect(s.events).toBeGreaterThan(50);
      expect(s.cdnLogs.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad input exits 2 naming the option', async () => {
    const bad = await run(['fixtures', 'generate', '--out', '-', '--days', 'ten']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--days: 'ten' is not a whole number/);
    expect(bad.stdout).toBe('');
    const noOut = await run(['fixtures', 'generate']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out/);
    const badNow = await run(['seed', '--now', 'yesterday']);
    expect(badNow.code).toBe(2);
    expect(badNow.stderr).toMatch(/--now: 'yesterday'/);
  });
});
