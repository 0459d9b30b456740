import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay, assertComplete, toMessage } from '../../src/replay/replay.js';
import { readCheckpoint } from '../../src/replay/checkpoint.js';
import { FindingError, InputError, UsageError } from '../../src/errors.js';
import { TOKEN, plainEvents, discoverEvents, sandbox, tmp, uuidsIn, writeFixture } from '../sandbox/helpers.js';

const quiet = { quiet: true, log: () => {} };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sb(over: Parameters<typeof sandbox>[0] = {}) {
  const s = await sandbox(over);
  open.push(s);
  return s;
}

describe('replay', () => {
  it('sends every event once with its uuid, timestamp, marker and person properties as $set', async () => {
    const dir = tmp();
    const lines = discoverEvents('r1', 40);
    const file = writeFixture(dir, 'f.jsonl.gz', lines, true);
    const s = await sb();
    const r = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, batchSize: 25, chunkSize: 60, historical: true, ...quiet });
    expect(r).toMatchObject({ events: lines.length, sent: lines.length, failed: 0, notSent: 0 });
    expect((await s.stats()).historicalEvents).toBe(lines.length);
    assertComplete(r);
    expect(new Set(await uuidsIn(s))).toEqual(new Set(lines.map((l) => l.uuid)));
    const m = toMessage({ ...lines[0]!, person_properties: { email: 'a@b' } }, 'dm.synthetic');
    expect(m.properties).toMatchObject({ 'dm.synthetic': true, $ignore_sent_at: true, $set: { email: 'a@b' } });
    expect(m.uuid).toBe(lines[0]!.uuid);
  });

  it('loses nothing and doubles nothing through 503 bursts and timeouts', async () => {
    const dir = tmp();
    const lines = plainEvents('flaky', 600);
    const file = writeFixture(dir, 'f.jsonl', lines);
    const s = await sb({ failBurst: 2, failRate: 0.3, timeoutRate: 0.25, holdMs: 1500, seed: 3 });
    const r = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, batchSize: 50, chunkSize: 200, retryDelayMs: 20, sdkRetries: 2, requestTimeoutMs: 1000, retries: 10, ...quiet });
    expect(r.failed).toBe(0);
    expect(r.sent).toBe(600);
    const ids = await uuidsIn(s);
    expect(ids).toHaveLength(600);
    expect(new Set(ids)).toEqual(new Set(lines.map((l) => l.uuid)));
    const st = (await (await fetch(`${s.url}/_sandbox/stats`)).json()) as { injectedFailures: number; heldRequests: number };
    expect(st.injectedFailures).toBeGreaterThan(0);
    expect(st.heldRequests).toBeGreaterThan(0);
  });

  it('four replays at once into one sandbox store every event once', async () => {
    const dir = tmp();
    const a = plainEvents('par-a', 400);
    const b = plainEvents('par-b', 300);
    const fa = writeFixture(dir, 'a.jsonl', a);
    const fb = writeFixture(dir, 'b.jsonl', b);
    const s = await sb();
    const runs = await Promise.all(
      [fa, fb, fa, fb].map((f) => replay({ files: [f], host: s.url, projectApiKey: TOKEN, batchSize: 40, chunkSize: 120, ...quiet })),
    );
    expect(runs.map((r) => r.failed)).toEqual([0, 0, 0, 0]);
    const ids = await uuidsIn(s);
    expect(ids).toHaveLength(700);
    expect(new Set(ids)).toEqual(new Set([...a, ...b].map((l) => l.uuid)));
  });

  it('stops with a clean error on a wrong project token, without echoing it', async () => {
    const dir = tmp();
    const file = writeFixture(dir, 'f.jsonl', plainEvents('tok', 10));
    const s = await sb();
    const err = await replay({ files: [file], host: s.url, projectApiKey: 'phc_WRONGtokenWRONG', retryDelayMs: 10, ...quiet }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('401');
    expect(err.message).not.toContain('WRONG');
    expect(await uuidsIn(s)).toHaveLength(0);
  });

  it('reports failures (exit 1) when the target keeps failing', async () => {
    const dir = tmp();
    const file = writeFixture(dir, 'f.jsonl', plainEvents('down', 30));
    const s = await sb({ failRate: 1 });
    const r = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, batchSize: 10, chunkSize: 10, retryDelayMs: 5, sdkRetries: 1, retries: 1, ...quiet });
    expect(r.sent).toBe(0);
    // chunks already in flight when the first one gives up also fail; the rest is not attempted
    expect(r.failed).toBeGreaterThanOrEqual(10);
    expect(r.failed + r.notSent).toBe(30);
    expect(() => assertComplete(r)).toThrow(FindingError);
  });

  it('reports what the target refused, with its plain-text detail (as rust capture answers), without re-sending hopeless 400s', async () => {
    const dir = tmp();
    const file = writeFixture(dir, 'f.jsonl', plainEvents('refused', 1));
    // a sink that refuses the event, as PostHog's NonRetryableSinkError
    const s = await sb({ loader: async () => Promise.reject(new InputError('events[0]', 'refused by the sink')) });
    const r = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, retryDelayMs: 10, ...quiet });
    expect(r).toMatchObject({ sent: 0, failed: 1, resendRounds: 0 });
    expect(r.lastError).toBe('HTTP 400: invalid event could not be processed (events[0]: refused by the sink)');
    expect(() => assertComplete(r)).toThrow(/last error: HTTP 400/);
  });

  it('validates inputs with file:line errors, counts on --dry-run, refuses remote hosts without --yes', async () => {
    const dir = tmp();
    const good = writeFixture(dir, 'g.jsonl', plainEvents('dry', 5));
    const dry = await replay({ files: [good], dryRun: true, ...quiet });
    expect(dry).toMatchObject({ dryRun: true, events: 5, sent: 0 });
    const badPath = join(dir, 'bad.jsonl');
    writeFileSync(badPath, JSON.stringify(plainEvents('x', 1)[0]) + '\n{"event": "a", "distinct_id": "u"}\n');
    const e = await replay({ files: [badPath], dryRun: true, ...quiet }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain(`${badPath}:2`);
    expect(e.message).toContain('timestamp');
    const lines: string[] = [];
    const remote = await replay({ files: [good], host: 'https://us.i.posthog.com', projectApiKey: 'phc_realLookingToken1234', log: (l) => lines.push(l), quiet: true }).catch((x) => x);
    expect(remote).toBeInstanceOf(UsageError);
    expect(remote.message).toContain('--yes');
    expect(lines.join('\n')).toContain('phc_…1234');
    expect(lines.join('\n')).not.toContain('realLooking');
  });

  it('checkpoints after each chunk and resumes only the rest', async () => {
    const dir = tmp();
    const lines = plainEvents('cp', 300);
    const file = writeFixture(dir, 'f.jsonl', lines);
    const cpPath = join(dir, 'cp.json');
    const s = await sb();
    const r1 = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, batchSize: 50, chunkSize: 100, checkpoint: cpPath, ...quiet });
    expect(r1.sent).toBe(300);
    expect(readCheckpoint(cpPath)).toMatchObject({ total: 300, done: 300 });
    // a second run without --resume refuses; with --resume there is nothing left
    await expect(replay({ files: [file], host: s.url, projectApiKey: TOKEN, checkpoint: cpPath, ...quiet })).rejects.toThrow(/already records 300.300/);
    const r2 = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, checkpoint: cpPath, resume: true, ...quiet });
    expect(r2).toMatchObject({ alreadyDone: 300, sent: 0, notSent: 0 });
    // resuming into another project is refused
    await expect(replay({ files: [file], host: s.url, projectApiKey: 'phc_otherToken99999', checkpoint: cpPath, resume: true, ...quiet })).rejects.toThrow(/different host or project token/);
    expect(existsSync(cpPath)).toBe(true);
    expect(JSON.parse(readFileSync(cpPath, 'utf8')).target).not.toContain(TOKEN);
  });
});

describe('replay exact where capture does not dedup', () => {
  it('stores each fixture event exactly once in a --no-dedup sandbox through timeouts and 503s, asking PostHog before re-sending', async () => {
    const { createPostHogEngine } = await import('../../src/engines/posthog/index.js');
    const { postHogUuidVerifier } = await import('../../src/replay/verify.js');
    const { PKEY } = await import('../sandbox/helpers.js');
    const dir = tmp();
    const lines = plainEvents('nodedup', 400);
    const file = writeFixture(dir, 'f.jsonl', lines);
    const s = await sb({ noDedup: true, timeoutRate: 0.3, failRate: 0.1, holdMs: 1500, seed: 5 });
    const verify = postHogUuidVerifier(createPostHogEngine({ host: s.url, projectId: '1', personalApiKey: PKEY }).client);
    const r = await replay({ files: [file], host: s.url, projectApiKey: TOKEN, batchSize: 40, chunkSize: 120, retryDelayMs: 20, requestTimeoutMs: 1000, retries: 10, verify, ...quiet });
    expect(r).toMatchObject({ sent: 400, failed: 0 });
    expect(r.verifiedStored).toBeGreaterThan(0);
    const ids = await uuidsIn(s);
    expect(ids).toHaveLength(400);
    expect(new Set(ids)).toEqual(new Set(lines.map((l) => l.uuid)));
    expect((await s.stats()).heldRequests).toBeGreaterThan(0);
  });

  it('without a verifier the same faults double events in a --no-dedup sandbox (what PostHog would count), and replay says so', async () => {
    const dir = tmp();
    const lines = plainEvents('nodedup2', 200);
    const file = writeFixture(dir, 'f.jsonl', lines);
    const s = await sb({ noDedup: true, timeoutRate: 0.3, holdMs: 1500, seed: 5 });
    const log: string[] = [];
    await replay({ files: [file], host: s.url, projectApiKey: TOKEN, batchSize: 40, chunkSize: 120, retryDelayMs: 20, sdkRetries: 0, requestTimeoutMs: 1000, retries: 10, log: (l) => log.push(l) });
    expect((await uuidsIn(s)).length).toBeGreaterThan(200);
    expect(log.join('\n')).toContain('PostHog counts a re-sent event twice');
  });

  it('refuses --batch-size 0 and --concurrency 0 instead of hanging, and an event nested too deep already on --dry-run', async () => {
    const dir = tmp();
    const file = writeFixture(dir, 'f.jsonl', plainEvents('zero', 5));
    await expect(replay({ files: [file], host: 'http://127.0.0.1:9', projectApiKey: TOKEN, batchSize: 0, ...quiet })).rejects.toThrow(/--batch-size: '0' must be a positive integer/);
    await expect(replay({ files: [file], host: 'http://127.0.0.1:9', projectApiKey: TOKEN, concurrency: 0, ...quiet })).rejects.toThrow(/--concurrency: '0' must be a positive integer/);
    const deep = { ...plainEvents('deep', 1)[0]!, properties: { p: JSON.parse('['.repeat(2800) + ']'.repeat(2800)) } };
    const f2 = join(dir, 'deep.jsonl');
    writeFileSync(f2, plainEvents('ok', 3).map((l) => JSON.stringify(l)).join('\n') + '\n' + JSON.stringify(deep) + '\n');
    const e = await replay({ files: [f2], dryRun: true, ...quiet }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/deep\.jsonl:4: the event is nested 2802 levels deep/);
  });
});

describe('replay to a dead host', () => {
  it('fails within seconds when the connection is refused, sending nothing', async () => {
    const { createServer } = await import('node:http');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    const file = writeFixture(tmp(), 'f.jsonl', plainEvents('dead', 5));
    const t0 = Date.now();
    const e = await replay({ files: [file], host: `http://127.0.0.1:${port}`, projectApiKey: TOKEN, ...quiet }).catch((x) => x);
    expect(e.message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is the host right, and is it up\? Nothing was sent\./);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});
