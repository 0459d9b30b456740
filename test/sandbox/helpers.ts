/** Shared helpers for sandbox, replay and posthog-engine tests: tiny fixtures, a sandbox, the CLI. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { BIN, ROOT, run, runProcess } from '../commands/cli.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/server.js';
import { taxonomy } from '../../src/events/taxonomy.js';
import type { FixtureEvent } from '../../src/replay/input.js';
import { storeWith, type TestEvent, type TestPerson } from '../engines/local/trends/helpers.js';

export { BIN, ROOT };
export const TOKEN = 'phc_testProjectToken0001';
export const PKEY = 'phx_testPersonalKey00001';

export function tmp(prefix = 'dm-sb-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function uuidFor(seed: string, i: number): string {
  const h = createHash('sha1').update(`${seed}:${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A PostHog-shaped fixture line, as the replay reader gives it. */
export type FixtureLine = FixtureEvent;

/**
 * Small Discover-shaped fixture: users walk the server track (started -> resourceSelection ->
 * deployService -> principalsConfigure -> testConnection -> completed) and drop off at a step that
 * depends on their index.
 */
export function discoverEvents(seed: string, users: number, day = '2026-01-05'): FixtureLine[] {
  const t = taxonomy();
  const ev = t.discover.events;
  const p = t.discover.properties;
  const steps = [ev.started, ev.resourceSelection, ev.deployService, ev.principalsConfigure, ev.testConnection, ev.completed];
  const out: FixtureLine[] = [];
  let i = 0;
  for (let u = 0; u < users; u++) {
    const reach = 1 + (u % steps.length);
    const base = Date.parse(`${day}T08:00:00.000Z`) + u * 60_000;
    for (let s = 0; s < reach; s++) {
      out.push({
        uuid: uuidFor(seed, i++),
        event: steps[s]!,
        distinct_id: `${seed}-user-${u}`,
        timestamp: new Date(base + s * 30_000).toISOString(),
        properties: { [p.sessionId]: `${seed}-session-${u}`, [p.resource]: 'DISCOVER_RESOURCE_SERVER', [p.status]: 'DISCOVER_STATUS_SUCCESS' },
        ...(s === 0 ? { person_properties: { email: `${u}@example.com` } } : {}),
      });
    }
  }
  return out;
}

/** n generic (non-Teleport) events: fast to generate, any size. */
export function plainEvents(seed: string, n: number): FixtureLine[] {
  const base = Date.parse('2026-01-01T00:00:00.000Z');
  return Array.from({ length: n }, (_, i) => ({
    uuid: uuidFor(seed, i),
    event: i % 3 === 0 ? 'test.event.a' : 'test.event.b',
    distinct_id: `${seed}-u${i % 97}`,
    timestamp: new Date(base + i * 1000).toISOString(),
    properties: { i, seed },
  }));
}

export function writeFixture(dir: string, name: string, lines: FixtureLine[], gz = false): string {
  const path = join(dir, name);
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  writeFileSync(path, gz ? gzipSync(text) : text);
  return path;
}

export async function sandbox(over: Partial<SandboxOptions> = {}): Promise<Sandbox & { storePath: string }> {
  const storePath = over.storePath ?? join(tmp(), 'sandbox.duckdb');
  const sb = await startSandbox({ projectToken: TOKEN, personalApiKey: PKEY, ...over, storePath });
  return Object.assign(sb, { storePath });
}

/**
 * A sandbox (on 127.0.0.1) over a fresh store already holding `events` and `persons`; its
 * close() also removes the store's folder.
 */
export async function sandboxOver(events: TestEvent[], persons: TestPerson[], over: Partial<SandboxOptions> = {}): Promise<Sandbox & { storePath: string }> {
  const dir = tmp('dm-sb-store-');
  const storePath = join(dir, 'events.duckdb');
  await (await storeWith(events, persons, { path: storePath })).close();
  const sb = await sandbox({ ...over, storePath });
  const close = sb.close.bind(sb);
  return Object.assign(sb, {
    close: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/**
 * `discover-metrics sandbox serve` on a free port in a child process: the child, the URL it
 * prints first, and its stderr so far.
 */
export async function serveSandbox(store: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, '--store', store, 'sandbox', 'serve', '--port', '0', '--project-token', TOKEN, '--personal-api-key', PKEY], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    const [first] = await once(child.stdout!, 'data');
    return { child, url: String(first).trim(), stderr: () => stderr };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}

export async function uuidsIn(sb: Sandbox): Promise<string[]> {
  const r = await fetch(`${sb.url}/_sandbox/uuids`);
  return ((await r.json()) as { uuids: string[] }).uuids;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the CLI with no user config. In this process (see test/commands/cli.ts) unless the caller
 * needs the child's pid (to signal it) or the command is one that always spawns.
 */
export async function runCli(args: string[], env: Record<string, string> = {}, opts: { onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  const fullEnv = { XDG_CONFIG_HOME: join(tmpdir(), 'dm-no-config'), ...env };
  if (opts.onSpawn) return runProcess(args, { env: fullEnv, onSpawn: opts.onSpawn });
  return { ...(await run(args, { env: fullEnv })), signal: null };
}
