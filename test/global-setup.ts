// Tests that spawn the CLI run the compiled dist/; build it once before the suite.
// Type errors (src and test) are reported by `npm test` before vitest starts; tsc still emits JS
// when it finds them, so a type error elsewhere does not hide behavioural test results.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export default function setup(): () => void {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (r.status !== 0) process.stderr.write(`[global-setup] tsc reported problems:\n${r.stdout}${r.stderr}`);
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('build failed: dist/cli/main.js was not produced');
  // the run's PostHog request ledger (XDG_STATE_HOME in vitest.config.ts) goes with the run
  return () => rmSync(join(tmpdir(), `discover-metrics-test-state-${process.pid}`), { recursive: true, force: true });
}
