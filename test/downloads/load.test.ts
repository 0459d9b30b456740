import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { hashClient, loadDownloadLogs, SALT_META_KEY } from '../../src/downloads/index.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import { json, run } from '../commands/cli.js';
import { logText, tempDir, writeLog, STEM_DMG, type Req } from './helpers.js';

const IPS = ['198.51.100.23', '203.0.113.99', '2001:db8:beef::5'];
const base = (over: Partial<Req> = {}): Req => ({ date: '2026-11-02', time: '10:00:00', 'c-ip': IPS[0]!, 'cs-uri-stem': STEM_DMG, ...over });

function logs(): string {
  const dir = tempDir();
  writeLog(dir, 'E1.2026-11-02-10.aaaa.gz', logText([
    base(),
    base({ 'c-ip': IPS[1]!, 'cs-uri-stem': '/download/Teleport%20Connect%20Setup-16.4.0.exe', time: '10:30:00' }),
    base({ 'c-ip': IPS[2]!, 'cs-uri-stem': '/download/Teleport%20Connect-16.4.1-arm64-mac.zip', date: '2026-11-04' }),
    base({ 'c-ip': IPS[2]!, 'cs-uri-stem': '/download/teleport-connect-16.4.0-x64.tar.gz', 'sc-status': '206', date: '2026-11-05' }),
    base({ 'c-ip': IPS[2]!, 'cs-uri-stem': '/download/teleport-connect-16.4.0-x64.tar.gz', 'sc-status': '206', date: '2026-11-05', time: '10:00:09' }),
  ]), true);
  return dir;
}

function storeBytes(dir: string): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

describe('loading downloads into the store', () => {
  it('loads one event per download, idempotently, with taxonomy names and no raw addresses', async () => {
    const dir = tempDir('dm-dl-store-');
    const path = join(dir, 'events.duckdb');
    const src = logs();
    const store = await Store.open(path);
    try {
      const first = await loadDownloadLogs(store, [src], {}, {});
      expect(first.load.inserted).toBe(4);
      const again = await loadDownloadLogs(store, [src], {}, {});
      expect(again.load.inserted).toBe(0);
      expect(again.load.duplicates).toBe(4);
      const t = taxonomy().downloads;
      const rows = (
        await store.conn.runAndReadAll(
          `SELECT event, distinct_id, json_extract_string(properties, '$."${t.properties.platform}"'), json_extract_string(properties, '$."${t.properties.kind}"'), json_extract_string(properties, '$."${t.properties.client}"') FROM events ORDER BY timestamp`,
        )
      ).getRows();
      expect(rows.map((r) => [r[0], r[2], r[3]])).toEqual([
        [t.event, 'macos', 'install'],
        [t.event, 'windows', 'install'],
        [t.event, 'macos', 'update'],
        [t.event, 'linux', 'install'],
      ]);
      for (const r of rows) expect(r[1]).toBe(`download.${r[4]}`);
    } finally {
      await store.close();
    }
    const bytes = storeBytes(dir);
    for (const ip of IPS) expect(bytes).not.toContain(ip);
  });

  it('a copied store reveals no client address: no hashing key in it, no stored hash an address can be searched for', async () => {
    const dir = tempDir('dm-dl-privacy-');
    const path = join(dir, 'events.duckdb');
    const src = logs();
    const store = await Store.open(path);
    let hashes: string[];
    try {
      await loadDownloadLogs(store, [src], {}, {});
      const t = taxonomy().downloads;
      hashes = (
        await store.conn.runAndReadAll(`SELECT DISTINCT json_extract_string(properties, '$."${t.properties.client}"') FROM events UNION SELECT DISTINCT substr(distinct_id, 10) FROM events`)
      )
        .getRows()
        .map((r) => String(r[0]));
      expect(hashes.length).toBeGreaterThan(0);
      const meta = (await store.conn.runAndReadAll(`SELECT key, value FROM meta`)).getRows().map((r) => [String(r[0]), String(r[1])]);
      expect(meta.map(([k]) => k)).not.toContain(SALT_META_KEY);
    } finally {
      await store.close();
    }
    // An attacker with a copy tries every secret-looking string in the file as the key, over the
    // addresses (and user agents) of the logs: nothing matches.
    const text = storeBytes(dir);
    const keys = new Set(['', ...[...text.matchAll(/[0-9a-f]{64}/g)].map((m) => m[0])]);
    const agents = ['', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)'];
    for (const key of keys) for (const ip of IPS) for (const ua of agents) expect(hashes).not.toContain(hashClient(key, ip, ua));
  });

  it('a store made before, holding its hashing key, loses the key when opened for writing', async () => {
    const dir = tempDir('dm-dl-oldsalt-');
    const path = join(dir, 'events.duckdb');
    const old = await Store.open(path);
    await old.conn.run(`INSERT INTO meta VALUES ('${SALT_META_KEY}', '${'ab'.repeat(32)}')`);
    await old.close();
    const store = await Store.open(path);
    try {
      const n = (await store.conn.runAndReadAll(`SELECT count(*) FROM meta WHERE key = '${SALT_META_KEY}'`)).getRows()[0]![0];
      expect(Number(n)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('logs without request ids load idempotently though each run hashes with a new key', async () => {
    const dir = tempDir('dm-dl-noreq-');
    const path = join(dir, 'events.duckdb');
    const src = tempDir();
    const noId = (r: Req): Req => ({ ...r, 'x-edge-request-id': '-' });
    writeLog(src, 'E2.2026-11-02-10.bbbb', logText([noId(base()), noId(base({ 'c-ip': IPS[1]! })), noId(base({ 'c-ip': IPS[2]!, time: '11:00:00' }))]));
    const store = await Store.open(path);
    try {
      const first = await loadDownloadLogs(store, [src], {}, {});
      expect(first.load.inserted).toBe(3);
      const again = await loadDownloadLogs(store, [src], {}, {});
      expect(again.load).toMatchObject({ inserted: 0, duplicates: 3 });
    } finally {
      await store.close();
    }
  });

  it('fails with --strict before writing anything', async () => {
    const dir = tempDir('dm-dl-strict-');
    const path = join(dir, 'events.duckdb');
    const src = logs();
    writeLog(src, 'bad.log', logText([base()]).replace('\n2026', '\nnot a log line\n2026'));
    const r = await run(['--store', path, 'load-downloads', src, '--strict']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.log:3: expected 33 fields (#Fields at line 2), found 1');
    if (existsSync(path)) {
      const store = await Store.open(path, { readOnly: true });
      try {
        const n = (await store.conn.runAndReadAll('SELECT count(*) FROM events')).getRows()[0]![0];
        expect(Number(n)).toBe(0);
        const m = (await store.conn.runAndReadAll(`SELECT count(*) FROM meta WHERE key = '${SALT_META_KEY}'`)).getRows()[0]![0];
        expect(Number(m)).toBe(0);
      } finally {
        await store.close();
      }
    }
  });

  it('works end to end: load-downloads, downloads --load, then trends-backed adoption downloads', async () => {
    const dir = tempDir('dm-dl-cli-');
    const path = join(dir, 'events.duckdb');
    const src = logs();
    const outputs: string[] = [];
    const l = await run(['--store', path, '--format', 'json', 'load-downloads', src]);
    expect(l.code, l.stderr).toBe(0);
    expect(json(l)).toMatchObject({ downloads: 4, installs: 3, updates: 1, load: { inserted: 4, duplicates: 0 } });
    // a summary of what it did, like load's: --quiet leaves it out of the table output
    const quiet = await run(['--store', path, '--quiet', 'load-downloads', src]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout + quiet.stderr).toBe('');
    const d = await run(['--store', path, '--format', 'table', 'downloads', src, '--load']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain('0 new download events, 4 already loaded');
    outputs.push(l.stdout, l.stderr, d.stdout, d.stderr);
    const a = await run(['--store', path, '--format', 'json', 'adoption', '--interval', 'day', '--from', '2026-11-01', '--to', '2026-11-06', '--now', '2026-11-07T00:00:00Z']);
    expect(a.code, a.stderr).toBe(0);
    outputs.push(a.stdout, a.stderr);
    const rep = json(a);
    expect(rep.downloadsSource).toBe('store');
    const byPlatform = Object.fromEntries(rep.totals.map((x: { platform: string; downloads: number; updates: number }) => [x.platform, [x.downloads, x.updates]]));
    expect(byPlatform).toEqual({ macos: [1, 1], windows: [1, 0], linux: [1, 0] });
    for (const o of outputs) for (const ip of IPS) expect(o).not.toContain(ip);
    const bytes = storeBytes(dir);
    for (const ip of IPS) expect(bytes).not.toContain(ip);
  });
});
