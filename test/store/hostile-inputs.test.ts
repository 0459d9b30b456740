// Inputs a careless or hostile user gives `load`: each gets an InputError (exit 2) naming the
// place and the field, and nothing is stored; the odd-but-valid ones load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Store } from '../../src/store/store.js';
import { loadFiles } from '../../src/store/ingest.js';
import { InputError } from '../../src/errors.js';
import { BIN } from '../commands/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-hostile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ev = (n: number, extra: Record<string, unknown> = {}) => ({
  uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  event: 'signup',
  distinct_id: `u${n}`,
  timestamp: '2026-11-03T10:00:00Z',
  properties: { n },
  ...extra,
});
const lines = (events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Load into a fresh in-memory store; the error (if any) and how many events were stored. */
async function tryLoad(paths: string[]): Promise<{ error?: Error; events: number; summary?: { read: number } }> {
  const store = await Store.open(':memory:');
  try {
    let error: Error | undefined;
    let summary;
    try {
      summary = await loadFiles(store, paths);
    } catch (e) {
      error = e as Error;
    }
    const events = Number((await store.conn.runAndReadAll('SELECT count(*) FROM events')).getRows()[0]![0]);
    return { error, events, summary };
  } finally {
    await store.close();
  }
}

async function refused(paths: string[], message: RegExp): Promise<void> {
  const r = await tryLoad(paths);
  expect(r.error, 'expected the load to fail').toBeInstanceOf(InputError);
  expect(r.error!.message).toMatch(message);
  expect(r.events).toBe(0);
}

describe('item 9: load refuses what it should not accept, naming file:line and field', () => {
  it('a JSON array cut off after a comma', async () => {
    const p = file('cut.json', `[${JSON.stringify(ev(1))},\n${JSON.stringify(ev(2))},`);
    await refused([p], /cut\.json\[2\] \(line 2\): the JSON array is not closed/);
  });

  it('a gzipped JSON array cut off after a comma', async () => {
    const p = file('cut.json.gz', gzipSync(`[${JSON.stringify(ev(1))},`));
    await refused([p], /cut\.json\.gz\[1\] \(line 1\): the JSON array is not closed/);
  });

  it('an object or `true` as the event name; an object as the distinct_id', async () => {
    await refused([file('obj.jsonl', lines([ev(1), ev(2, { event: { name: 'x' } })]))], /obj\.jsonl:2: event: expected a string \(the event's name\), found an object/);
    await refused([file('true.jsonl', lines([ev(1, { event: true })]))], /true\.jsonl:1: event: expected a string .* found the boolean true/);
    await refused([file('did.json', JSON.stringify([ev(1), ev(2, { distinct_id: ['a'] })]))], /did\.json\[1\] \(line 1\): distinct_id: expected a string or a number, found an array/);
  });

  it('an impossible UTC offset', async () => {
    await refused([file('off.jsonl', lines([ev(1, { timestamp: '2026-11-03T10:00:00+25:00' })]))], /off\.jsonl:1: timestamp: .*offset \+25:00/);
    await refused([file('off2.jsonl', lines([ev(1, { timestamp: '2026-11-03 10:00:00-1961' })]))], /off2\.jsonl:1: timestamp: .*offset -1961/);
  });

  it('epoch seconds (which would be read as milliseconds: 1970)', async () => {
    await refused([file('secs.jsonl', lines([ev(1, { timestamp: 1762164000 })]))], /secs\.jsonl:1: timestamp: "1762164000" looks like epoch seconds/);
    await refused([file('secs.csv', 'event,distinct_id,timestamp\nsignup,u1,1762164000\n')], /secs\.csv: row 1: timestamp: "1762164000" looks like epoch seconds|secs\.csv:2: timestamp: "1762164000" looks like epoch seconds/);
  });

  it('years 0001 and 9999', async () => {
    await refused([file('y1.jsonl', lines([ev(1), ev(2, { timestamp: '0001-01-01T00:00:00Z' })]))], /y1\.jsonl:2: timestamp: "0001-01-01T00:00:00Z" is outside the years 1990-2099/);
    await refused([file('y9.csv', 'event,distinct_id,timestamp\nsignup,u1,9999-12-31 00:00:00\n')], /y9\.csv:2: timestamp: "9999-12-31 00:00:00" is outside the years 1990-2099/);
  });

  it('invalid UTF-8 is reported on its own line (line 4, not 5)', async () => {
    const good = lines([ev(1), ev(2), ev(3)]);
    const bad = Buffer.concat([Buffer.from(good), Buffer.from('{"event":"x'), Buffer.from([0xff, 0xfe]), Buffer.from(`","distinct_id":"u","timestamp":"2026-11-03T10:00:00Z"}\n`)]);
    await refused([file('utf8.jsonl', bad)], /utf8\.jsonl:4: not valid UTF-8 text/);
    const csv = Buffer.concat([Buffer.from('event,distinct_id,timestamp\nsignup,u1,2026-11-03T10:00:00Z\nsign'), Buffer.from([0xc3, 0x28]), Buffer.from('up,u2,2026-11-03T10:00:00Z\n')]);
    await refused([file('utf8.csv', csv)], /utf8\.csv:3: not valid UTF-8 text/);
  });

  it('odd but valid: JSONL and JSON with a byte order mark (plain and gzipped), offsets up to ±18:00, a numeric distinct_id', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const a = file('bom.jsonl', Buffer.concat([bom, Buffer.from(lines([ev(1), ev(2)]))]));
    const b = file('bom.json.gz', gzipSync(Buffer.concat([bom, Buffer.from(JSON.stringify([ev(3)]))])));
    const c = file('edge.jsonl', lines([ev(4, { timestamp: '2026-11-03T10:00:00+14:00' }), ev(5, { timestamp: '2026-11-03T10:00:00-18:00' }), ev(6, { distinct_id: 42 })]));
    const r = await tryLoad([a, b, c]);
    expect(r.error).toBeUndefined();
    expect(r.events).toBe(6);
  });
});

describe('item 6: a corrupt gzip is a clear error, nothing stored', () => {
  // big enough that the damage lies beyond the first 64 KiB the format sniffing inflates
  const events = Array.from({ length: 3000 }, (_, i) => ev(i, { properties: { n: i, pad: `${i}`.repeat(20) } }));
  const good = () => gzipSync(lines(events));

  it('a flipped byte in the compressed data', async () => {
    const gz = good();
    gz[Math.floor(gz.length * 0.8)] ^= 0xff;
    await refused([file('flip.jsonl.gz', gz)], /flip\.jsonl\.gz: the gzip data is (corrupt|cut off)/);
  });

  it('a bad CRC32 in the trailer', async () => {
    const gz = good();
    gz[gz.length - 8] ^= 0x01;
    await refused([file('crc.jsonl.gz', gz)], /crc\.jsonl\.gz: the gzip data is corrupt \(incorrect data check\)/);
  });

  it('a wrong length in the trailer, and a cut-off length trailer', async () => {
    const gz = good();
    gz[gz.length - 1] ^= 0x01;
    await refused([file('len.jsonl.gz', gz)], /len\.jsonl\.gz: the gzip data is corrupt \(incorrect length check\)/);
    await refused([file('cut.jsonl.gz', good().subarray(0, -3))], /cut\.jsonl\.gz: the gzip data is cut off/);
  });

  it('the good file loads', async () => {
    const r = await tryLoad([file('good.jsonl.gz', good())]);
    expect(r.error).toBeUndefined();
    expect(r.events).toBe(3000);
  });
});

describe('item 4: a path names one file, never a glob', () => {
  it("'a[1b].jsonl' and '*.jsonl' load only the file of that name", async () => {
    const sub = join(dir, 'globs');
    mkdirSync(sub);
    writeFileSync(join(sub, 'a1.jsonl'), lines([ev(1)]));
    writeFileSync(join(sub, 'ab.jsonl'), lines([ev(2)]));
    writeFileSync(join(sub, 'a[1b].jsonl'), lines([ev(3), ev(4), ev(5)]));
    writeFileSync(join(sub, '*.jsonl'), lines([ev(6), ev(7)]));
    const r = await tryLoad([join(sub, 'a[1b].jsonl')]);
    expect(r.error).toBeUndefined();
    expect(r.events).toBe(3);
    const s = await tryLoad([join(sub, '*.jsonl')]);
    expect(s.events).toBe(2);
    const q = await tryLoad([join(sub, 'a?.jsonl')]);
    expect(q.error?.message).toMatch(/a\?\.jsonl: no such file/);
  });
});

describe('item 13: pipes and unwritable store folders', () => {
  it('load <(zcat f.gz): a pipe is read as a stream', () => {
    const gz = file('pipe.jsonl.gz', gzipSync(lines([ev(1), ev(2)])));
    const db = join(dir, 'pipe.duckdb');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --store "${db}" --format json load <(zcat "${gz}")`], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ read: 2, inserted: 2 });
  });

  it('--store /proc/x/y.duckdb: exit 2 at once, no hang', async () => {
    const child = spawn(process.execPath, [BIN, '--store', '/proc/dm-no-such/y.duckdb', 'load', file('one.jsonl', lines([ev(1)]))], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    clearTimeout(guard);
    expect(code, err).toBe(2);
    expect(err).toMatch(/cannot create the folder \/proc\/dm-no-such for the event store/);
  });
});

describe('item 5: a corrupt store says corrupt (exit 2) and what to do', () => {
  async function makeStore(name: string): Promise<Buffer> {
    const p = join(dir, name);
    const store = await Store.open(p);
    await loadFiles(store, [file(`${name}.jsonl`, lines(Array.from({ length: 2000 }, (_, i) => ev(i, { properties: { n: i, pad: 'x'.repeat(200 + (i % 13)) } }))))]);
    await store.close();
    return readFileSync(p);
  }

  function cli(db: string, args: string[]) {
    return spawnSync(process.execPath, [BIN, '--store', db, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  }

  it('random bytes in the middle of the file: corrupt, not locked', async () => {
    const bytes = await makeStore('rand.duckdb');
    // 512 bytes of noise every 64 KiB past the headers: data and metadata blocks both hit
    for (let at = 16384 + 4096; at < bytes.length; at += 65536) for (let i = at; i < Math.min(at + 512, bytes.length); i++) bytes[i] = (i * 7919) & 0xff;
    const db = file('rand.duckdb', bytes);
    for (const args of [['store', 'info'], ['dau', '--from', 'all'], ['load', file('more.jsonl', lines([ev(99999)]))]]) {
      const r = cli(db, args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).not.toMatch(/locked|internal error/);
      expect(r.stderr).toMatch(/is corrupt/);
      expect(r.stderr).toMatch(/Move it aside \(or delete it\) and load your event files again/);
    }
  });

  it('a truncated file: corrupt, exit 2, not an internal error', async () => {
    const bytes = await makeStore('trunc.duckdb');
    const db = file('trunc.duckdb', bytes.subarray(0, Math.floor(bytes.length / 2)));
    for (const args of [['store', 'info'], ['load', file('more2.jsonl', lines([ev(99998)]))]]) {
      const r = cli(db, args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/is corrupt/);
    }
  });
});
