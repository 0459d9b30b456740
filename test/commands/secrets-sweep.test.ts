// Every error path of the CLI run with PostHog keys set (environment, flags, config files,
// mis-pasted into other options, reflected by a hostile server, inside input files): no key
// ever reaches stdout or stderr, in clear or URL-encoded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runProcess, tmpDir } from './cli.js';

const BODY = 'Zq8Lm3Xw9Tt2Rk7Vb4Np6Hs1Jc5Gd0Yf3Ue8Wa2Q';
const PERSONAL = `phx_${BODY}`;
const PROJECT = `phc_${BODY.split('').reverse().join('')}`;
/** What must never be printed: the keys' bodies (the last 4 characters may show, as maskSecret does), plain or encoded. */
const FORBIDDEN = [PERSONAL, PROJECT, BODY.slice(0, -4), PROJECT.slice(4, -4), encodeURIComponent(PERSONAL), 'phx%5F' + BODY.slice(0, 8)];

let dir: string;
let server: Server;
let host: string;

beforeAll(async () => {
  dir = tmpDir('dm-secrets-');
  // A hostile PostHog: reflects the Authorization header and the request body, URL-encoded too.
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      const status = Number(/\/projects\/(\d+)\//.exec(req.url ?? '')?.[1] ?? 500);
      const reflected = `${auth} ${encodeURIComponent(auth)} ${body.slice(0, 200)}`;
      if (status === 200) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<html>welcome ${reflected}</html>`);
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ type: 'validation_error', code: 'invalid', detail: `bad token ${reflected}`, attr: reflected }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The CLI's whole output, stdout and stderr together: no key may appear in either. */
async function sweep(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const r = await run(['--store', join(dir, 'store.duckdb'), ...args], {
    env: { POSTHOG_PERSONAL_API_KEY: PERSONAL, POSTHOG_PROJECT_API_KEY: PROJECT, XDG_CONFIG_HOME: dir, ...env },
  });
  return { code: r.code, out: r.stdout + r.stderr };
}

const event = (extra: Record<string, unknown>) => JSON.stringify({ event: 'x', distinct_id: 'u', timestamp: '2026-11-03T10:00:00Z', ...extra }) + '\n';

describe('secrets sweep: no key in any error output', () => {
  const cases: [string, () => string[], Record<string, string>?][] = [
    ['posthog engine without a host', () => ['dau', '--engine', 'posthog']],
    ['a key pasted as --host', () => ['dau', '--engine', 'posthog', '--host', `http://${PERSONAL}`, '--project-id', '1']],
    ['a URL-encoded key in --host', () => ['dau', '--engine', 'posthog', '--host', `https://us.posthog.com/${encodeURIComponent(PERSONAL).replace('_', '%5F')}`, '--project-id', '1']],
    ['a key glued into --project-id', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', `x${PERSONAL}`]],
    ['a key without prefix as --project-id', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', BODY]],
    ['a key as an unknown config key name', () => ['dau', '--engine', 'posthog', '--config', file('c1.json', JSON.stringify({ [BODY]: 1 }))]],
    ['a prefixed key as an unknown config key name', () => ['dau', '--engine', 'posthog', '--config', file('c2.json', JSON.stringify({ [`x${PERSONAL}`]: 1 }))]],
    ['a config file that is only a key', () => ['dau', '--engine', 'posthog', '--config', file('c3.json', `${BODY}\n`)]],
    ['a config file with a key and a syntax error', () => ['dau', '--engine', 'posthog', '--config', file('c4.json', `{"personalApiKey": "${BODY}" "host": 1}`)]],
    ['a config value of the wrong type', () => ['dau', '--engine', 'posthog', '--config', file('c5.json', JSON.stringify({ host: 5, personalApiKey: PERSONAL }))]],
    ['401 reflecting the token', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', '401']],
    ['400 reflecting the token', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', '400']],
    ['403 reflecting the token', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', '403']],
    ['404 reflecting the token', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', '404']],
    ['200 with an HTML page reflecting the token', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', '200']],
    ['a key given with --personal-api-key and a server refusing it', () => ['dau', '--engine', 'posthog', '--host', host, '--project-id', '401', '--personal-api-key', PERSONAL], { POSTHOG_PERSONAL_API_KEY: '' }],
    ['load: a key as a bad timestamp', () => ['load', file('bad-ts.jsonl', event({ timestamp: PERSONAL }))]],
    ['load: a key as a bad uuid', () => ['load', file('bad-uuid.jsonl', event({ uuid: PROJECT }))]],
    ['load: a key in a line that is not JSON', () => ['load', file('bad-json.jsonl', `{"event": "${PERSONAL}", oops}\n`)]],
    ['load: a key as a file name', () => ['load', join(dir, `${PERSONAL}.jsonl`)]],
    ['load: a key as an unknown enum value', () => ['load', file('bad-enum.jsonl', event({ event: 'tp.ui.discover.started', properties: { 'tp.discover.metadata.id': 's', 'tp.discover.step.status': PERSONAL } }))]],
    ['a key in the --store path', () => ['--store', join('/proc', PERSONAL, 'x.duckdb'), 'load', file('ok.jsonl', event({}))]],
    ['a key as an unknown command', () => [PERSONAL]],
    ['a key as an option value that is refused', () => ['dau', '--interval', PERSONAL]],
  ];

  it.each(cases)('%s', async (_name, args, env) => {
    const r = await sweep(args(), env);
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).not.toMatch(/internal error|unknown option/);
    for (const f of FORBIDDEN) expect(r.out, `printed ${f}`).not.toContain(f);
  });

  it('the spawned binary prints no key either (what Node itself would print included)', async () => {
    for (const [, args, env] of cases.filter(([name]) => /^(401 reflecting|load: a key as a bad uuid)/.test(name))) {
      const r = await runProcess(['--store', join(dir, 'store.duckdb'), ...args()], {
        env: { POSTHOG_PERSONAL_API_KEY: PERSONAL, POSTHOG_PROJECT_API_KEY: PROJECT, XDG_CONFIG_HOME: dir, ...env },
      });
      const out = r.stdout + r.stderr;
      expect(r.code, out).toBe(2);
      for (const f of FORBIDDEN) expect(out, `printed ${f}`).not.toContain(f);
    }
  });
});
