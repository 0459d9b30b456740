// push: definitions become saved insights on one dashboard through PostHog's REST API (the
// sandbox on 127.0.0.1 implements insights and dashboards with pagination).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Sandbox } from '../../src/sandbox/server.js';
import { runCli } from '../peer/harness.js';
import { sandboxOver } from '../sandbox/helpers.js';
import { PostHogClient } from '../../src/engines/posthog/client.js';
import { desiredInsights, keyOf, managedDescription } from '../../src/push/desired.js';
import { listAll } from '../../src/push/push.js';

const TOKEN = 'phc_pushTestToken000001';
const PKEY = 'phx_pushTestKey0000001';
let dir: string;
let sb: Sandbox;
let client: PostHogClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dm-push-'));
  sb = await sandboxOver([{ event: 'x', distinct_id: 'd', timestamp: '2026-01-01T00:00:00Z' }], [], { projectToken: TOKEN, personalApiKey: PKEY });
  client = new PostHogClient({ host: sb.url, projectId: '1', personalApiKey: PKEY });
});
afterAll(async () => {
  await sb?.close();
  rmSync(dir, { recursive: true, force: true });
});

const conn = () => ['--host', sb.url, '--project-id', '1', '--personal-api-key', PKEY];
const pushJson = async (...args: string[]) => {
  const r = await runCli(['push', ...conn(), '--format', 'json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(PKEY);
  return JSON.parse(r.stdout) as { created: number; updated: number; unchanged: number; deleted: number; insights: { key: string; action: string; changes: string[] }[]; dashboard: { id: number; action: string } };
};

describe('push', () => {
  const want = desiredInsights();

  it('defines one insight per definition, each with a unique key', () => {
    const keys = want.map((w) => w.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of ['discover/funnel/rds-postgres', 'discover/time-to-first-resource', 'connect/dau', 'connect/lifecycle', 'connect/retention', 'connect/stickiness']) expect(keys).toContain(k);
    for (const w of want) expect(keyOf(w.description)).toBe(w.key);
  });

  it('--dry-run plans every insight as created and changes nothing', async () => {
    const plan = await pushJson('--dry-run');
    expect(plan.created).toBe(want.length);
    expect(plan.dashboard.action).toBe('create');
    expect(await listAll(client, 'insights')).toEqual([]);
    expect(await listAll(client, 'dashboards')).toEqual([]);
  });

  it('twice leaves exactly one insight per definition and one dashboard; the second run changes nothing', async () => {
    const first = await pushJson();
    expect(first).toMatchObject({ created: want.length, updated: 0, unchanged: 0, deleted: 0 });
    const second = await pushJson();
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: want.length, deleted: 0 });
    const insights = await listAll(client, 'insights');
    expect(insights.map((i) => keyOf(i.description)).sort()).toEqual(want.map((w) => w.key).sort());
    const dashboards = await listAll(client, 'dashboards');
    expect(dashboards).toHaveLength(1);
    expect((dashboards[0]!.tiles as unknown[]).length).toBe(want.length);
    for (const i of insights) expect(i.tags).toContain('discover-metrics');
    const lifecycle = insights.find((i) => keyOf(i.description) === 'connect/lifecycle')!;
    expect(lifecycle.query).toMatchObject({ kind: 'InsightVizNode', source: { kind: 'LifecycleQuery' } });
  });

  it('--dry-run shows what an edit in PostHog would be reverted to, and push restores it', async () => {
    const target = (await listAll(client, 'insights')).find((i) => keyOf(i.description) === 'connect/dau')!;
    const q = structuredClone(target.query) as { source: { interval: string } };
    q.source.interval = 'week';
    await client.request('PATCH', `/insights/${target.id}/`, { name: 'renamed in the UI', query: q });
    const plan = await pushJson('--dry-run');
    expect(plan).toMatchObject({ created: 0, updated: 1, unchanged: want.length - 1 });
    const row = plan.insights.find((i) => i.key === 'connect/dau')!;
    expect(row.action).toBe('update');
    expect(row.changes).toContain('name: "renamed in the UI" → "Connect: active installations per day"');
    expect(row.changes).toContain('query.source.interval: "week" → "day"');
    expect((await pushJson()).updated).toBe(1);
    expect((await pushJson()).unchanged).toBe(want.length);
  });

  it('settles on projects that drop tags (PostHog plans without tagging): no endless tag updates', async () => {
    const mine = (await listAll(client, 'insights')).filter((i) => keyOf(i.description));
    for (const i of mine) await client.request('PATCH', `/insights/${i.id}/`, { tags: [] });
    expect(await pushJson()).toMatchObject({ updated: 0, unchanged: want.length });
    for (const i of mine) await client.request('PATCH', `/insights/${i.id}/`, { tags: i.tags });
  });

  it('--prune removes insights pushed earlier that no definition produces, and only those', async () => {
    const { json } = await client.request('POST', '/insights/', { name: 'old', description: managedDescription('gone', 'connect/obsolete'), query: { kind: 'InsightVizNode', source: { kind: 'TrendsQuery', series: [] } } });
    await client.request('POST', '/insights/', { name: 'someone else’s insight', description: 'hand-made' });
    const without = await pushJson();
    expect(without.deleted).toBe(0);
    expect(await listAll(client, 'insights')).toHaveLength(want.length + 2);
    const pruned = await pushJson('--prune');
    expect(pruned.deleted).toBe(1);
    expect(pruned.insights.find((i) => i.action === 'delete')).toMatchObject({ key: 'connect/obsolete' });
    const left = await listAll(client, 'insights');
    expect(left).toHaveLength(want.length + 1);
    expect(left.some((i) => i.id === (json as { id: number }).id)).toBe(false);
    expect(left.some((i) => i.name === 'someone else’s insight')).toBe(true);
  });
});

describe('sandbox insights API', () => {
  it('pages lists with limit/offset and next links, and listAll follows them', async () => {
    const before = (await listAll(client, 'insights')).length;
    for (let i = 0; i < 120; i++) await client.request('POST', '/insights/', { name: `bulk ${i}` });
    const { json } = await client.request('GET', '/insights/?limit=50&offset=0');
    const page = json as { count: number; next: string | null; results: unknown[] };
    expect(page.count).toBe(before + 120);
    expect(page.results).toHaveLength(50);
    expect(page.next).toMatch(/limit=50&offset=50$/);
    expect(await listAll(client, 'insights')).toHaveLength(before + 120);
  });

  it('refuses hard deletes like PostHog and hides soft-deleted insights', async () => {
    const { json } = await client.request('POST', '/insights/', { name: 'to delete' });
    const id = (json as { id: number }).id;
    await expect(client.request('DELETE', `/insights/${id}/`)).rejects.toThrow(/405.*Hard delete of this model is not allowed/);
    await client.request('PATCH', `/insights/${id}/`, { deleted: true });
    await expect(client.request('GET', `/insights/${id}/`)).rejects.toThrow(/404/);
  });

  it('rejects an insight on a dashboard that does not exist, naming the field', async () => {
    await expect(client.request('POST', '/insights/', { name: 'x', dashboards: [9999] })).rejects.toThrow(/400.*Dashboard 9999 does not exist/);
  });
});

describe('push progress (insights done of the total, on stderr)', () => {
  const want = desiredInsights();
  const n = want.length.toLocaleString('en-US');

  it('prints plain lines without a terminal: the reads, then insights done of the total; stdout keeps the JSON', async () => {
    const r = await runCli(['push', ...conn(), '--format', 'json', '--dry-run'], { env: { DISCOVER_METRICS_PROGRESS_INTERVAL: '0' } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('push'));
    // a phase line repeats while the phase lasts (a busy host): compare each one once
    const shown = lines.filter((l, i) => l !== lines[i - 1]);
    expect(shown.slice(0, 2)).toEqual(['push: reading the dashboards…', 'push: reading the insights…']);
    expect(shown[2]).toMatch(new RegExp(`^push: 0/${n} insights \\(0%\\), `));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^push: 1/${n} insights \\(\\d+%\\), [\\d,]+ insights/s`)));
    expect(lines.at(-1)).toMatch(new RegExp(`^push: ${n}/${n} insights \\(100%\\), `));
    expect(lines.every((l) => !l.includes('\r') && !l.includes('\x1b'))).toBe(true);
    expect(r.stderr).not.toContain(PKEY);
  });

  it('redraws one line under a terminal, ending at 100%; silent with --quiet', async () => {
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const out = join(dir, 'push-tty.json');
    const cmd = [process.execPath, join(process.cwd(), 'bin', 'discover-metrics'), 'push', ...conn(), '--format', 'json', '--dry-run'].map(quote).join(' ');
    // the sandbox answers from this process: spawn, not spawnSync
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('script', ['-qfec', `${cmd} > ${quote(out)}`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status) => (clearTimeout(timer), resolve({ status, stdout, stderr })));
    });
    expect(r.status, r.stderr).toBe(0);
    const frames = r.stdout.split('\r\x1b[2K').filter((f) => f.trim() !== '');
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(frames.at(-1)).toMatch(new RegExp(`^push \\[#{30}\\] ${n}/${n} insights \\(100%\\), [\\d,]+ insights/s\\r?\\n$`));
    expect(frames.slice(0, -1).every((f) => !f.includes('\n'))).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ dryRun: true });

    const quiet = await runCli(['push', ...conn(), '--quiet', '--format', 'json', '--dry-run'], { env: { DISCOVER_METRICS_PROGRESS_INTERVAL: '0' } });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toMatch(/^push/m);
  });
});
