import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const bin = join(root, 'bin', 'discover-metrics');
let dir: string;
let db: string;

function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [bin, '--store', db, ...args], { input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const line = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    event: 'tp.ui.discover.started',
    distinct_id: `u${n}`,
    timestamp: `2024-05-0${n}T00:00:00Z`,
    properties: { 'tp.discover.metadata.id': 's', 'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS' },
    ...extra,
  });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dm-store-cli-'));
  db = join(dir, 'events.duckdb');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('load / store info (CLI)', () => {
  it('loads from stdin, reports new vs present, and store info --format json', () => {
    const a = run(['--format', 'json', 'load', '-'], `${line(1)}\n${line(2)}\n`);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ read: 2, inserted: 2, duplicates: 0, files: ['<stdin>'] });
    const b = run(['--format', 'json', 'load', '-'], `${line(2)}\n${line(3)}\n`);
    expect(JSON.parse(b.out)).toMatchObject({ read: 2, inserted: 1, duplicates: 1 });
    const info = run(['--format', 'json', 'store', 'info']);
    expect(info.code, info.err).toBe(0);
    expect(JSON.parse(info.out)).toMatchObject({
      events: 3,
      persons: 3,
      first: '2024-05-01T00:00:00.000Z',
      last: '2024-05-03T00:00:00.000Z',
      eventNames: [{ name: 'tp.ui.discover.started', count: 3 }],
    });
    const mat = run(['--format', 'json', 'store', 'materialize', '$lib', 'tp.discover.step.status']);
    expect(mat.code, mat.err).toBe(0);
    expect(JSON.parse(mat.out)).toMatchObject({ added: ['$lib'], already: ['tp.discover.step.status'] });
  });

  it('store index: (re)builds the session index beside the store and says what is in it', () => {
    const r = run(['--format', 'json', 'store', 'index']);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out);
    // three events of one wizard session
    expect(out.index).toMatchObject({ path: `${db}.sessions`, events: 3, sessions: 1 });
    expect(out.index.combinations).toBeGreaterThan(0);
    expect(existsSync(`${db}.sessions`)).toBe(true);
    // a store without wizard sessions has none to index
    const other = join(dir, 'no-sessions.duckdb');
    const load = spawnSync(process.execPath, [bin, '--store', other, 'load', '-'], {
      input: `${JSON.stringify({ uuid: '00000000-0000-4000-8000-000000000099', event: '$pageview', distinct_id: 'x', timestamp: '2024-05-01T00:00:00Z', properties: {} })}\n`,
      encoding: 'utf8',
    });
    expect(load.status, load.stderr).toBe(0);
    const none = spawnSync(process.execPath, [bin, '--store', other, 'store', 'index'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(none.status, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/no session index for .*no-sessions\.duckdb: the store has no events or no wizard session column/);
  });

  it('bad input: exit 2, file:line and field on stderr, nothing stored', () => {
    const f = join(dir, 'bad.jsonl');
    writeFileSync(f, `${line(4)}\n${line(5, { timestamp: 'not a time' })}\n`);
    const r = run(['load', f]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.jsonl:2: timestamp: "not a time" is not a timestamp/);
    expect(JSON.parse(run(['--format', 'json', 'store', 'info']).out).events).toBe(3);
  });

  it('says plainly when another process holds the store', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { Store } = await import(${JSON.stringify(join(root, 'dist', 'store', 'store.js'))});
         const s = await Store.open(${JSON.stringify(db)});
         process.stdout.write('ready\\n');
         setTimeout(() => process.exit(0), 30000);
         process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((res, rej) => {
        holder.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res());
        holder.on('exit', (c) => rej(new Error(`holder exited ${c}`)));
      });
      const r = run(['load', '-'], `${line(6)}\n`);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is locked by another process/);
    } finally {
      holder.stdin!.end();
      holder.kill();
    }
  });
});
