// `sandbox serve` started and stopped from scripts: a PID file, `sandbox start/stop`, and a server
// that stops when the launcher in front of it (npx, npm exec) is killed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, PKEY, ROOT, TOKEN, tmp } from './helpers.js';

const env = { ...process.env, NO_COLOR: '1', POSTHOG_PROJECT_API_KEY: TOKEN, POSTHOG_PERSONAL_API_KEY: PKEY };
const cli = (cwd: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, '--store', join(cwd, 'sb.duckdb'), ...args], { cwd, env, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(ok: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return ok();
}

describe('sandbox from scripts', () => {
  it('start prints the URL and leaves the server running with a PID file; stop ends it cleanly', async () => {
    const dir = tmp();
    const started = cli(dir, 'sandbox', 'start', '--port', '0', '--pid-file', 'sb.pid');
    expect(started.code, started.stderr).toBe(0);
    const url = started.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const [pidLine, urlLine] = readFileSync(join(dir, 'sb.pid'), 'utf8').split('\n');
    const pid = Number(pidLine);
    expect(urlLine).toBe(url);
    expect(alive(pid)).toBe(true);
    expect((await fetch(`${url}/batch/`, { method: 'POST', body: JSON.stringify({ api_key: TOKEN, batch: [] }) })).status).toBeLessThan(500);
    // a second server on the same PID file is refused while the first runs
    const again = cli(dir, 'sandbox', 'start', '--port', '0', '--pid-file', 'sb.pid');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`belongs to a running sandbox (pid ${pid})`);
    const stopped = cli(dir, 'sandbox', 'stop', '--pid-file', 'sb.pid');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'sb.pid'))).toBe(false);
    expect(readFileSync(join(dir, 'sb.log'), 'utf8')).toContain('SIGTERM, shutting down');
    const none = cli(dir, 'sandbox', 'stop', '--pid-file', 'sb.pid');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('sb.pid does not exist');
  });

  it('serve stops when the launcher in front of it is killed (kill $! under npx)', async () => {
    const dir = tmp();
    const pidFile = join(dir, 'serve.pid');
    // a launcher that, like npm exec, does not pass SIGTERM on to the server it started
    const launcher = spawn(
      process.execPath,
      ['-e', `require('child_process').spawn(process.execPath, [${JSON.stringify(BIN)}, '--store', ${JSON.stringify(join(dir, 'sb.duckdb'))}, 'sandbox', 'serve', '--port', '0', '--pid-file', ${JSON.stringify(pidFile)}], { stdio: 'ignore' }); process.on('SIGTERM', () => process.exit(143)); setInterval(() => {}, 1000);`],
      { cwd: ROOT, env, stdio: 'ignore' },
    );
    expect(await until(() => existsSync(pidFile))).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    expect(alive(pid)).toBe(true);
    launcher.kill('SIGTERM');
    expect(await until(() => !alive(pid))).toBe(true);
    expect(existsSync(pidFile)).toBe(false);
  });
});
