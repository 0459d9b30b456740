import { defineConfig } from 'vitest/config';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // one worker process runs many files: Node, vitest and the shared modules (DuckDB, zod, dist/)
    // start twice per run instead of once per file; files restore what they change (env stubs below)
    isolate: false,
    unstubEnvs: true,
    // the PostHog request ledger (rate-limit pacing) of a test run lives and dies with the run
    env: { XDG_STATE_HOME: join(tmpdir(), `discover-metrics-test-state-${process.pid}`) },
  },
});
