// fixtures generate and downloads show their progress on stderr (plain lines without a
// terminal), and stdout keeps only what the command produces.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tmpDir } from './cli.js';

const env = { DISCOVER_METRICS_PROGRESS_INTERVAL: '0' };

describe('progress of fixtures generate and downloads', () => {
  it('counts events generated, then log files and their bytes read', async () => {
    const dir = tmpDir('dm-progress-');
    const cdn = join(dir, 'cdn');
    const gen = await run(['--format', 'json', 'fixtures', 'generate', '--seed', '3', '--days', '3', '--accounts', '10', '--installations', '10', '--out', join(dir, 'f.jsonl'), '--cdn-logs', cdn], { env });
    expect(gen.code, gen.stderr).toBe(0);
    const events = (JSON.parse(gen.stdout) as { events: number }).events;
    const lines = gen.stderr.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => /^generate: [\d,]+ events, [\d,]+ events\/s$/.test(l))).toBe(true);
    expect(lines.at(-1)).toContain(`generate: ${events.toLocaleString('en-US')} events,`);

    const dl = await run(['--format', 'json', 'downloads', cdn], { env });
    expect(dl.code, dl.stderr).toBe(0);
    expect(() => JSON.parse(dl.stdout)).not.toThrow();
    const last = dl.stderr.split('\n').filter((l) => l.startsWith('downloads: ')).at(-1);
    expect(last).toMatch(/^downloads: (\d+)\/\1 files \(100%\) · [\d.]+ [kM]?B of logs, /);
  });
});
