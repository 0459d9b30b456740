import { describe, expect, it } from 'vitest';
import { writeFileSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeDownloadLogs } from '../../src/downloads/index.js';
import { CLOUDFRONT_FIELDS, readCloudFrontLogs } from '../../src/downloads/logs.js';
import { InputError } from '../../src/errors.js';
import { logText, tempDir, writeLog, STEM_DMG, type Req } from './helpers.js';

const SALT = 'test-salt-123456';
const base = (over: Partial<Req> = {}): Req => ({ date: '2026-11-02', time: '10:00:00', 'c-ip': '198.51.100.7', 'cs-uri-stem': STEM_DMG, ...over });

async function analyze(paths: string[], strict = false) {
  return analyzeDownloadLogs(paths, { salt: SALT, strict });
}

describe('CloudFront log reading', () => {
  it('follows the #Fields order of each file', async () => {
    const dir = tempDir();
    const reqs = [
      base(),
      base({ 'cs-uri-stem': '/download/teleport-connect_16.4.0_amd64.deb', 'c-ip': '203.0.113.9', time: '11:00:00' }),
      base({ 'cs-uri-stem': '/download/Teleport%20Connect%20Setup-16.4.0.exe', 'c-ip': '192.0.2.44', time: '12:00:00' }),
    ];
    const shuffled = [...CLOUDFRONT_FIELDS].reverse();
    const a = writeLog(dir, 'a.log', logText(reqs));
    const b = writeLog(dir, 'b.log', logText(reqs, shuffled));
    const small = writeLog(dir, 'c.log', logText(reqs, ['sc-status', 'cs-uri-stem', 'date', 'c-ip', 'time', 'cs-method']));
    const ra = await analyze([a]);
    const rb = await analyze([b]);
    const rc = await analyze([small]);
    const shape = (r: Awaited<ReturnType<typeof analyze>>) => r.downloads.map((d) => [d.platform, d.arch, d.version, d.kind, d.ts]);
    expect(shape(ra)).toEqual([
      ['macos', 'x64', '16.4.0', 'install', Date.parse('2026-11-02T10:00:00Z')],
      ['linux', 'x64', '16.4.0', 'install', Date.parse('2026-11-02T11:00:00Z')],
      ['windows', 'x64', '16.4.0', 'install', Date.parse('2026-11-02T12:00:00Z')],
    ]);
    expect(shape(rb)).toEqual(shape(ra));
    expect(shape(rc)).toEqual(shape(ra));
    expect(ra.stats.malformed + rb.stats.malformed + rc.stats.malformed).toBe(0);
  });

  it('decodes URL-encoded stems, including double-encoded spaces', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'x.log', logText([
      base({ 'cs-uri-stem': '/download/Teleport%2520Connect-16.4.0-arm64.dmg' }),
      base({ 'cs-uri-stem': '/download/Teleport%2520Connect%2520Setup-16.4.1.exe', 'c-ip': '192.0.2.1', time: '10:01:00' }),
      base({ 'cs-uri-stem': '/download/Teleport%252520Connect-16.4.0-mac.zip', 'c-ip': '192.0.2.2', time: '10:02:00' }),
    ]));
    const r = await analyze([p]);
    expect(r.downloads.map((d) => [d.artifact, d.arch, d.kind])).toEqual([
      ['Teleport Connect-16.4.0-arm64.dmg', 'arm64', 'install'],
      ['Teleport Connect Setup-16.4.1.exe', 'x64', 'install'],
      ['Teleport Connect-16.4.0-mac.zip', 'x64', 'update'],
    ]);
  });

  it('counts range requests once per client, file and day', async () => {
    const dir = tempDir();
    const piece = (time: string, over: Partial<Req> = {}) => base({ time, 'sc-status': '206', ...over });
    const p = writeLog(dir, 'r.log', logText([
      piece('10:00:00'), piece('10:00:02'), piece('10:00:05'), // one download
      piece('09:00:00', { date: '2026-11-03' }), // next day: another
      piece('10:00:00', { 'c-ip': '192.0.2.10' }), piece('10:00:01', { 'c-ip': '192.0.2.10' }), // another client
      piece('13:00:00', { 'cs-uri-stem': '/download/Teleport%20Connect-16.4.0-arm64.dmg' }), // another file
      base({ 'c-ip': '192.0.2.20', time: '08:00:00' }), piece('08:10:00', { 'c-ip': '192.0.2.20' }), // resume of a full download
      base({ time: '15:00:00', 'c-ip': '192.0.2.30' }), base({ time: '16:00:00', 'c-ip': '192.0.2.30' }), // two full downloads count twice
    ]));
    const r = await analyze([p]);
    expect(r.downloads.length).toBe(7);
    const ranged = r.downloads.filter((d) => d.status === 206);
    expect(ranged.map((d) => d.requests).sort()).toEqual([1, 1, 2, 3]);
  });

  it('excludes HEAD, checksums, block maps, manifests and failures', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'h.log', logText([
      base({ 'cs-method': 'HEAD' }),
      base({ 'cs-uri-stem': `${STEM_DMG}.sha256` }),
      base({ 'cs-uri-stem': '/download/Teleport%20Connect-16.4.0-mac.zip.blockmap' }),
      base({ 'cs-uri-stem': '/connect/latest-mac.yml' }),
      base({ 'sc-status': '404' }),
      base({ 'sc-status': '304' }),
      base({ 'cs-uri-stem': '/teleport-v16.4.0-linux-amd64-bin.tar.gz' }),
      base({ time: '18:00:00' }),
    ]));
    const r = await analyze([p]);
    expect(r.downloads.length).toBe(1);
    expect(r.stats.excluded).toEqual({ head: 1, otherMethod: 0, notSuccessful: 2, sideFiles: 2, manifests: 1 });
    expect(r.stats.requests).toBe(8);
  });

  it('tells updater fetches from fresh installs', async () => {
    const dir = tempDir();
    const electron = 'Mozilla/5.0%20(Windows%20NT%2010.0)%20Teleport%20Connect/16.4.1%20Electron/30.4.0';
    const p = writeLog(dir, 'u.log', logText([
      base({ 'cs-uri-stem': '/download/Teleport%20Connect-16.4.1-arm64-mac.zip' }), // mac zip: update
      base({ 'cs-uri-stem': '/connect/latest.yml', 'c-ip': '192.0.2.5', time: '09:30:00' }),
      base({ 'cs-uri-stem': '/download/Teleport%20Connect%20Setup-16.4.1.exe', 'c-ip': '192.0.2.5', time: '10:00:00' }), // after manifest: update
      base({ 'cs-uri-stem': '/download/Teleport%20Connect%20Setup-16.4.1.exe', 'c-ip': '192.0.2.5', time: '12:00:00' }), // 2.5 h later: install
      base({ 'cs-uri-stem': '/download/Teleport%20Connect%20Setup-16.4.1.exe', 'c-ip': '192.0.2.6', 'cs(User-Agent)': electron }), // Electron agent
      base({ 'c-ip': '192.0.2.7' }), // browser dmg: install
    ]));
    const r = await analyze([p]);
    expect(r.downloads.map((d) => `${d.platform}:${d.kind}:${new Date(d.ts).toISOString().slice(11, 16)}`).sort()).toEqual([
      'macos:install:10:00',
      'macos:update:10:00',
      'windows:install:12:00',
      'windows:update:10:00',
      'windows:update:10:00',
    ]);
  });

  it('hashes client addresses with the salt and never keeps them', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'c.log', logText([base(), base({ time: '11:00:00' }), base({ 'c-ip': '2001:db8::42', time: '12:00:00' })]));
    const r1 = await analyzeDownloadLogs([p], { salt: 'salt-one-1234' });
    const r2 = await analyzeDownloadLogs([p], { salt: 'salt-two-1234' });
    expect(r1.downloads[0]!.client).toBe(r1.downloads[1]!.client);
    expect(r1.downloads[0]!.client).not.toBe(r2.downloads[0]!.client);
    expect(r1.downloads[0]!.client).toMatch(/^[0-9a-f]{32}$/);
    expect(r1.downloads.map((d) => d.uuid)).toEqual(r2.downloads.map((d) => d.uuid));
    const text = JSON.stringify(r1);
    expect(text).not.toContain('198.51.100.7');
    expect(text).not.toContain('2001:db8::42');
  });

  it('uses the viewer address from x-forwarded-for when a proxy sent the request', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'x.log', logText([
      base({ 'c-ip': '10.0.0.1', 'x-forwarded-for': '198.51.100.1' }),
      base({ 'c-ip': '10.0.0.1', 'x-forwarded-for': '198.51.100.2', time: '10:05:00' }),
    ]));
    const r = await analyze([p]);
    expect(new Set(r.downloads.map((d) => d.client)).size).toBe(2);
  });

  it('reads gzipped files (by magic bytes) and directories recursively', async () => {
    const dir = tempDir();
    writeLog(dir, 'E1.2026-11-02-10.abcd1234.gz', logText([base()]), true);
    writeLog(dir, 'nested/deeper/E1.2026-11-02-11.ffff0000', logText([base({ time: '11:00:00' })]), true); // gzip without .gz
    writeLog(dir, 'nested/plain.log', logText([base({ time: '12:00:00' })]));
    writeLog(dir, '.hidden.log', logText([base({ time: '13:00:00' })]));
    const r = await analyze([dir]);
    expect(r.files.length).toBe(3);
    expect(r.downloads.length).toBe(3);
  });

  it('reads a file reached twice (symlinks, loops, repeated arguments) once', async () => {
    const dir = tempDir();
    const f = writeLog(dir, 'logs/E1.2026-11-02-10.abcd.gz', logText([base()]), true);
    symlinkSync(join(dir, 'logs'), join(dir, 'logs', 'loop'));
    symlinkSync(join(dir, 'logs'), join(dir, 'again'));
    const r = await analyze([dir, f]);
    expect(r.files.length).toBe(1);
    expect(r.downloads.length).toBe(1);
  });

  it('reports a truncated gzip file with its name and line, then goes on', async () => {
    const dir = tempDir();
    const reqs = Array.from({ length: 2000 }, (_, i) => base({ time: `10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`, 'c-ip': `192.0.2.${i % 250}` }));
    const full = gzipSync(Buffer.from(logText(reqs)));
    writeFileSync(join(dir, 'a-cut.gz'), full.subarray(0, Math.floor(full.length * 0.6)));
    writeLog(dir, 'b-ok.log', logText([base()]));
    const r = await analyze([dir]);
    expect(r.stats.malformed).toBe(1);
    expect(r.stats.firstMalformed!.file).toContain('a-cut.gz');
    expect(r.stats.firstMalformed!.reason).toMatch(/gzip data is truncated or corrupt after line \d+/);
    expect(r.downloads.length).toBeGreaterThan(1);
    await expect(analyze([dir], true)).rejects.toThrow(/a-cut\.gz:\d+: gzip data is truncated/);
  });

  it('skips malformed lines with a count, or fails on them with strict', async () => {
    const dir = tempDir();
    const good = logText([base(), base({ time: '11:00:00' })]);
    const lines = good.trimEnd().split('\n');
    lines.splice(3, 0, 'only\tthree\tfields', '#Bogus: header');
    const badDate = lines[2]!.replace('2026-11-02', '2026-13-45');
    lines.push(badDate);
    const p = writeLog(dir, 'bad.log', lines.join('\n') + '\n');
    const r = await analyze([p]);
    expect(r.downloads.length).toBe(2);
    expect(r.stats.malformed).toBe(3);
    expect(r.stats.firstMalformed).toEqual({ file: p, line: 4, reason: 'expected 33 fields (#Fields at line 2), found 3' });
    const err = await analyze([p], true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as Error).message).toBe(`${p}:4: expected 33 fields (#Fields at line 2), found 3`);
  });

  it('reports the first bad line in file order, whatever file finishes first', async () => {
    const dir = tempDir();
    const many = Array.from({ length: 3000 }, (_, i) => base({ time: `1${i % 10}:00:00`, 'c-ip': `192.0.2.${i % 250}` }));
    writeLog(dir, 'f1.log', logText([base()]));
    writeLog(dir, 'f2.log', logText(many).replace(/\n([^\n]*)\n$/, '\nbad\tline\n'), true);
    writeLog(dir, 'f3.log', logText([base()]));
    writeLog(dir, 'f4.log', 'bad\tline\n');
    writeLog(dir, 'f5.log', logText([base()]));
    const r = await analyze([dir]);
    expect(r.stats.malformed).toBe(2);
    expect(r.stats.firstMalformed).toMatchObject({ file: join(dir, 'f2.log'), line: 3002 });
    expect(r.downloads.length).toBe(3 + 2999);
    await expect(analyze([dir], true)).rejects.toThrow(`${join(dir, 'f2.log')}:3002: expected 33 fields`);
  });

  it('names the field, never the content, of a bad line holding an address', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'd.log', logText([base({ date: '02/11/2026' })]));
    const err = (await analyze([p], true).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(`${p}:3: field 'date' is not YYYY-MM-DD`);
    expect(err.message).not.toContain('198.51.100.7');
  });

  it('rejects a #Fields line without the fields it needs', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'f.log', '#Version: 1.0\n#Fields: date time c-ip\n2026-11-02\t10:00:00\t198.51.100.7\n');
    const r = await readCloudFrontLogs([p], { salt: SALT });
    expect(r.stats.malformed).toBe(2);
    expect(r.stats.firstMalformed!.reason).toBe('#Fields at line 2 lacks required fields cs-method, cs-uri-stem, sc-status');
  });

  it('says which path does not exist', async () => {
    await expect(analyze(['/nonexistent/logs'])).rejects.toThrow('/nonexistent/logs: no such file or directory');
  });

  it('ignores a UTF-8 byte order mark before the header', async () => {
    const dir = tempDir();
    const p = writeLog(dir, 'bom.log', '\uFEFF' + logText([base()]));
    const r = await analyze([p]);
    expect(r.downloads.length).toBe(1);
    expect(r.stats.malformed).toBe(0);
  });

  it('handles CRLF line ends and a last line without newline', async () => {
    const dir = tempDir();
    const t = logText([base(), base({ time: '11:00:00' })]).replace(/\n/g, '\r\n').replace(/\r\n$/, '');
    const p = writeLog(dir, 'crlf.log', t);
    const r = await analyze([p]);
    expect(r.downloads.length).toBe(2);
    expect(r.stats.malformed).toBe(0);
    expect(readFileSync(p, 'utf8').endsWith('\n')).toBe(false);
  });
});
