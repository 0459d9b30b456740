import { describe, expect, it } from 'vitest';
import { json, run } from '../commands/cli.js';
import { logText, tempDir, writeLog, STEM_DMG, type Req } from './helpers.js';

const IPS = ['198.51.100.77', '203.0.113.201', '2001:db8:cafe::17', '192.0.2.250'];
const base = (over: Partial<Req> = {}): Req => ({ date: '2026-11-02', time: '10:00:00', 'c-ip': IPS[0]!, 'cs-uri-stem': STEM_DMG, ...over });

function fixture(): string {
  const dir = tempDir();
  writeLog(dir, 'E1.2026-11-02-10.aaaa1111.gz', logText([
    base(),
    base({ 'c-ip': IPS[1]!, 'cs-uri-stem': '/download/Teleport%2520Connect%2520Setup-16.4.0.exe', time: '10:05:00' }),
    base({ 'c-ip': IPS[2]!, 'cs-uri-stem': '/download/teleport-connect_16.4.0_arm64.deb', 'sc-status': '206', time: '10:06:00' }),
    base({ 'c-ip': IPS[2]!, 'cs-uri-stem': '/download/teleport-connect_16.4.0_arm64.deb', 'sc-status': '206', time: '10:06:03' }),
    base({ 'c-ip': IPS[3]!, 'cs-uri-stem': '/download/Teleport%20Connect-16.4.1-mac.zip', date: '2026-11-09', time: '08:00:00', 'x-forwarded-for': IPS[0]! }),
  ]), true);
  const text = logText([base({ date: '2026-11-10', time: '09:00:00', 'c-ip': IPS[1]! })]).replace('\n2026', '\nbroken\tline\n2026');
  writeLog(dir, 'sub/E1.2026-11-10-09.bbbb2222', text);
  return dir;
}

describe('discover-metrics downloads (CLI)', () => {
  const dir = fixture();

  it('prints breakdowns in every format without any raw address', async () => {
    const outputs: string[] = [];
    for (const format of ['table', 'json', 'csv', 'markdown']) {
      const r = await run(['--format', format, 'downloads', dir, '--by', 'period,platform,arch,version', '--interval', 'week']);
      expect(r.code, r.stderr).toBe(0);
      outputs.push(r.stdout, r.stderr);
    }
    const j = json(await run(['--format', 'json', 'downloads', dir, '--by', 'platform']));
    expect(j.totals).toMatchObject({ downloads: 5, installs: 4, updates: 1 });
    expect(j.rows.map((r: { platform: string; downloads: number }) => [r.platform, r.downloads])).toEqual([
      ['macos', 3],
      ['linux', 1],
      ['windows', 1],
    ]);
    expect(j.read.malformed).toBe(1);
    outputs.push(JSON.stringify(j));
    for (const out of outputs) for (const ip of IPS) expect(out).not.toContain(ip);
  });

  it('warns about skipped lines on stderr, fails on them with --strict', async () => {
    const r = await run(['--format', 'csv', 'downloads', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped 1 malformed line \(first: .*sub\/E1\.2026-11-10-09\.bbbb2222:3: expected 33 fields \(#Fields at line 2\), found 2\)/);
    expect(r.stdout.split('\n')[0]).toBe('platform,installs,updates,downloads,downloaders,share,range_from,range_to,date_from,date_to');
    const s = await run(['downloads', dir, '--strict']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/error: .*bbbb2222:3: expected 33 fields/);
    expect(s.stdout).toBe('');
  });

  it('states its range like every report: the days the logs hold, or --from/--to', async () => {
    const t = await run(['downloads', dir, '--now', '2026-11-20T12:00:00Z']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('Range: 2026-11-02 → 2026-11-10, UTC');
    const j = json(await run(['--format', 'json', 'downloads', dir, '--from', '2026-11-01', '--to', '-0d', '--now', '2026-11-20T12:00:00Z']));
    expect(j.dateRange).toMatchObject({ date_from: '2026-11-01T00:00:00+00:00', date_to: '2026-11-20T23:59:59.999999+00:00', incomplete: true });
  });

  it('says so when there are no Connect downloads', async () => {
    const empty = tempDir();
    writeLog(empty, 'x.log', logText([base({ 'cs-uri-stem': '/teleport-v16.4.0-linux-amd64-bin.tar.gz' })]));
    const r = await run(['--format', 'table', 'downloads', empty]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no Teleport Connect downloads in 1 log file (1 request read)\n');
    const ranged = await run(['downloads', dir, '--from', '2027-01-01']);
    expect(ranged.stdout).toMatch(/^no Teleport Connect downloads between 2027-01-01 and the end/);
  });

  it('rejects bad options with exit 2 and the option name', async () => {
    const by = await run(['downloads', dir, '--by', 'platfrom']);
    expect(by.code).toBe(2);
    expect(by.stderr).toContain("--by: unknown breakdown 'platfrom' (did you mean 'platform'?)");
    const from = await run(['downloads', dir, '--from', '2026-02-30']);
    expect(from.code).toBe(2);
    expect(from.stderr).toContain("--from: '2026-02-30' is not a date");
    const missing = await run(['downloads', `${dir}/nope`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope: no such file or directory');
  });
});
