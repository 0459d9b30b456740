import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { generateCdnLogs, writeCdnLogs } from '../../src/downloads/generate.js';
import { analyzeDownloadLogs } from '../../src/downloads/index.js';
import { tempDir } from './helpers.js';

const start = new Date('2026-10-01T00:00:00Z');
const installations = Array.from({ length: 60 }, (_, i) => ({
  firstSeen: new Date(start.getTime() + ((i * 7919) % (9 * 86_400)) * 1000 + 86_400_000),
  os: ['darwin', 'win32', 'linux', 'darwin'][i % 4]!,
  arch: i % 3 === 0 ? 'arm64' : 'x64',
  version: i % 2 ? '16.4.0' : '17.0.1',
}));

describe('writeCdnLogs', () => {
  it('is deterministic: same seed, same files byte for byte', async () => {
    const a = tempDir();
    const b = tempDir();
    const fa = await writeCdnLogs(a, { seed: 7, start, days: 4, installations });
    const fb = await writeCdnLogs(b, { seed: 7, start, days: 4, installations });
    expect(fa.map((f) => f.slice(a.length))).toEqual(fb.map((f) => f.slice(b.length)));
    for (let i = 0; i < fa.length; i++) expect(readFileSync(fa[i]!).equals(readFileSync(fb[i]!))).toBe(true);
    const other = generateCdnLogs({ seed: 8, start, days: 4, installations });
    expect(other.map((f) => f.text).join('')).not.toBe(generateCdnLogs({ seed: 7, start, days: 4, installations }).map((f) => f.text).join(''));
  });

  it('writes hourly gzipped CloudFront files with headers and the 33 standard fields', async () => {
    const dir = tempDir();
    const files = await writeCdnLogs(dir, { seed: 3, start, days: 3, installations: installations.slice(0, 10) });
    expect(files.length).toBeGreaterThan(3 * 20);
    expect(readdirSync(dir).sort()).toEqual(files.map((f) => f.slice(dir.length + 1)));
    for (const f of files) expect(f).toMatch(/\/E2DMCONNECT0001\.2026-10-0[1-3]-\d\d\.[0-9a-f]{8}\.gz$/);
    const text = gunzipSync(readFileSync(files[0]!)).toString('utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('#Version: 1.0');
    expect(lines[1]!.startsWith('#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status')).toBe(true);
    for (const l of lines.slice(2)) expect(l.split('\t').length).toBe(33);
  });

  it('matches the installations: one install download each (when in range), extra downloads, updates, noise', async () => {
    const dir = tempDir();
    await writeCdnLogs(dir, { seed: 11, start, days: 12, installations });
    const r = await analyzeDownloadLogs([dir], { salt: 'generated-salt-1' });
    expect(r.stats.malformed).toBe(0);
    const installs = r.downloads.filter((d) => d.kind === 'install');
    const updates = r.downloads.filter((d) => d.kind === 'update');
    expect(installs.length).toBeGreaterThan(installations.length);
    expect(installations.length / installs.length).toBeLessThan(1);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((d) => d.platform === 'macos')).toBe(true);
    expect(r.stats.excluded.head).toBeGreaterThan(0);
    expect(r.stats.excluded.sideFiles).toBeGreaterThan(0);
    expect(r.stats.excluded.manifests).toBe(updates.length);
    expect(r.downloads.some((d) => d.status === 206 && d.requests > 1)).toBe(true);
    expect(r.stats.requests).toBeGreaterThan(r.stats.connectRequests * 3);
    // Each installation's own installer download lands before it is first seen.
    const perPlatform = (p: string) => installs.filter((d) => d.platform === p).length;
    expect(perPlatform('macos')).toBeGreaterThanOrEqual(installations.filter((i) => i.os === 'darwin').length);
    expect(perPlatform('windows')).toBeGreaterThanOrEqual(installations.filter((i) => i.os === 'win32').length);
    expect(perPlatform('linux')).toBeGreaterThanOrEqual(installations.filter((i) => i.os === 'linux').length);
    const arm = installs.filter((d) => d.arch === 'arm64').length;
    expect(arm).toBeGreaterThan(0);
    const path = join(dir, readdirSync(dir)[0]!);
    expect(readFileSync(path)[0]).toBe(0x1f);
  });
});
