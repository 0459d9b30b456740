// `smoke` stopped by SIGTERM (CI cancelling a job) removes its temporary folder (fixtures and a
// local event store), wherever it is stopped.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, PKEY, ROOT, TOKEN, tmp } from '../sandbox/helpers.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

describe('smoke under SIGTERM', () => {
  it('leaves no temporary folder behind when stopped while waiting on the target', async () => {
    // a target that takes every request and never answers: smoke waits on it
    server = createServer(() => {});
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = tmp('dm-smoke-sig-');
    const child = spawn(process.execPath, [BIN, 'smoke', '--host', url, '--project-id', '1', '--seed', '5', '--days', '2'], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: dir, POSTHOG_PROJECT_API_KEY: TOKEN, POSTHOG_PERSONAL_API_KEY: PKEY, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = once(child, 'close');
    const smokeDirs = () => readdirSync(dir).filter((n) => n.startsWith('dm-smoke-'));
    // bounded: the folder appears once smoke has written its fixtures, then it waits on the target
    for (let i = 0; i < 200 && !(smokeDirs().length && stderr.includes('smoke: run')); i++) await sleep(50);
    expect(smokeDirs(), stderr).toHaveLength(1);
    await sleep(300);
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    const [code, signal] = await Promise.race([closed, sleep(10_000).then(() => ['timeout', null])]);
    expect(code === null ? signal : code).not.toBe('timeout');
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);
});
