// The Connect reports through --engine posthog: the same TrendsQuery sent to a PostHog-compatible
// query API (the in-process sandbox on 127.0.0.1) gives the numbers counted from the fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../../src/sandbox/server.js';
import { runCli } from '../../peer/harness.js';
import { sandboxOver } from '../../sandbox/helpers.js';
import { connectFixture, installationsPerDay } from '../local/trends/connect-fixture.js';

const TOKEN = 'phc_trendsTestToken0001';
const PKEY = 'phx_trendsTestKey00001';
const fx = connectFixture(5, 25, 20);
let sb: Sandbox;

beforeAll(async () => {
  sb = await sandboxOver(fx.events, fx.persons, { projectToken: TOKEN, personalApiKey: PKEY });
});
afterAll(async () => {
  await sb?.close();
});

const remote = () => ['--engine', 'posthog', '--host', sb.url, '--project-id', '1', '--personal-api-key', PKEY];
const range = ['--from', '2026-01-01', '--to', '2026-01-20'];

describe('Connect reports with --engine posthog', () => {
  it('dau equals the installations per day counted from the fixture, and never prints the key', async () => {
    const r = await runCli(['dau', ...range, ...remote(), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.engine).toBe('posthog');
    expect(out.results[0].data).toEqual(installationsPerDay(fx.events, fx.start, fx.days));
    expect(r.stdout + r.stderr).not.toContain(PKEY);
  });

  it('platforms runs several queries remotely', async () => {
    const r = await runCli(['platforms', ...range, ...remote(), '--dimension', 'os,arch', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.dimensions.map((d: { key: string }) => d.key)).toEqual(['os', 'arch']);
    expect(out.activeInstallations).toBeGreaterThan(0);
  });
});
