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
    // the PostHog request ledger (rate-limit pacing) of a test run lives and dies with the run
    env: { XDG_STATE_HOME: join(tmpdir(), `discover-metrics-test-state-${process.pid}`) },
  },
});
