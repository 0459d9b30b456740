import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOKEN, plainEvents, runCli, sandbox, tmp, uuidsIn, writeFixture } from '../sandbox/helpers.js';

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

describe('replay CLI killed with SIGKILL mid-flight, then resumed', () => {
  it('ends with exactly the fixture events in the sandbox', async () => {
    const dir = tmp();
    const lines = plainEvents('kill', 1200);
    const file = writeFixture(dir, 'f.jsonl.gz', lines, true);
    const cp = join(dir, 'cp.json');
    const s = await sandbox({ latencyMs: 60 });
    open.push(s);
    const args = ['replay', file, '--host', s.url, '--batch-size', '50', '--chunk-size', '100', '--checkpoint', cp, '--format', 'json'];
    const env = { POSTHOG_PROJECT_API_KEY: TOKEN };
    let pid = 0;
    const first = runCli(args, env, { onSpawn: (p) => (pid = p) });
    // wait until some chunks are acknowledged, then kill without warning
    const t0 = Date.now();
    for (;;) {
      if (existsSync(cp) && JSON.parse(readFileSync(cp, 'utf8')).done >= 300) break;
      if (Date.now() - t0 > 30_000) throw new Error('replay made no progress');
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(pid, 'SIGKILL');
    const killed = await first;
    expect(killed.signal).toBe('SIGKILL');
    const before = JSON.parse(readFileSync(cp, 'utf8')).done as number;
    expect(before).toBeLessThan(1200);

    const resumed = await runCli([...args, '--resume'], env);
    expect(resumed.stderr).not.toContain(TOKEN);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.alreadyDone).toBeGreaterThanOrEqual(before);
    expect(summary.alreadyDone + summary.sent).toBe(1200);
    const ids = await uuidsIn(s);
    expect(ids).toHaveLength(1200);
    expect(new Set(ids)).toEqual(new Set(lines.map((l) => l.uuid)));
  });
});

describe('replay killed mid-flight into a sandbox that keeps every copy (like PostHog before a merge)', () => {
  it('re-sends at most the one batch per worker that was on the wire', async () => {
    const dir = tmp();
    const lines = plainEvents('kill2', 1500);
    const file = writeFixture(dir, 'f.jsonl', lines);
    const cp = join(dir, 'cp.json');
    const s = await sandbox({ latencyMs: 40, noDedup: true });
    open.push(s);
    const args = ['replay', file, '--host', s.url, '--batch-size', '50', '--chunk-size', '300', '--concurrency', '3', '--checkpoint', cp, '--format', 'json'];
    const env = { POSTHOG_PROJECT_API_KEY: TOKEN };
    let pid = 0;
    const first = runCli(args, env, { onSpawn: (p) => (pid = p) });
    const t0 = Date.now();
    const acked = () => {
      if (!existsSync(cp)) return 0;
      const c = JSON.parse(readFileSync(cp, 'utf8')) as { done: number; partial?: [number, number][] };
      return c.done + (c.partial ?? []).reduce((n, [a, b]) => n + b - a, 0);
    };
    while (acked() < 450) {
      if (Date.now() - t0 > 30_000) throw new Error('replay made no progress');
      await new Promise((r) => setTimeout(r, 10));
    }
    process.kill(pid, 'SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    const resumed = await runCli([...args, '--resume'], env);
    expect(resumed.code, resumed.stderr).toBe(0);
    const ids = await uuidsIn(s);
    expect(new Set(ids)).toEqual(new Set(lines.map((l) => l.uuid)));
    // a chunk is 300 events: checkpointing per chunk would re-send up to 900 here
    expect(ids.length - 1500).toBeLessThanOrEqual(3 * 50);
  });
});

describe('replay CLI interrupted with SIGINT', () => {
  it('finishes the chunks in flight, reports, exits 1, and resumes to exactly the fixture', async () => {
    const dir = tmp();
    const lines = plainEvents('sigint', 1000);
    const file = writeFixture(dir, 'f.jsonl', lines);
    const cp = join(dir, 'cp.json');
    const s = await sandbox({ latencyMs: 60 });
    open.push(s);
    const args = ['replay', file, '--host', s.url, '--batch-size', '50', '--chunk-size', '100', '--checkpoint', cp, '--format', 'json'];
    const env = { POSTHOG_PROJECT_API_KEY: TOKEN };
    let pid = 0;
    const run = runCli(args, env, { onSpawn: (p) => (pid = p) });
    const t0 = Date.now();
    while (!(existsSync(cp) && JSON.parse(readFileSync(cp, 'utf8')).done >= 200)) {
      if (Date.now() - t0 > 30_000) throw new Error('replay made no progress');
      await new Promise((r) => setTimeout(r, 20));
    }
    process.kill(pid, 'SIGINT');
    const r = await run;
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout);
    expect(summary.interrupted).toBe(true);
    expect(summary.failed).toBe(0);
    expect(summary.sent).toBeLessThan(1000);
    expect(JSON.parse(readFileSync(cp, 'utf8')).done).toBe(summary.sent);
    expect(r.stderr).toContain('replay interrupted');
    const resumed = await runCli([...args, '--resume'], env);
    expect(resumed.code).toBe(0);
    const ids = await uuidsIn(s);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids)).toEqual(new Set(lines.map((l) => l.uuid)));
  });
});
