// A `load` killed (SIGKILL) at every phase, the commit included, leaves a store that opens and
// holds the load in full or not at all; loading again then completes it. The child process is
// stopped at a named phase by DISCOVER_METRICS_TEST_PAUSE_AT (read by nothing but tests).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { loadFiles } from '../../src/store/ingest.js';
import { BIN } from '../commands/cli.js';

let dir: string;
let fileA: string;
let fileB: string;
let base: string;
let reference: State;
let baseState: State;

interface State {
  events: number;
  persons: number;
  distinctIds: number;
  /** persons with their properties and distinct ids, in one sorted text */
  digest: string;
  /** events whose person or distinct id mapping is missing */
  orphans: number;
}

/** Discover wizard events: sessions (hashed key), $set, and person ids that merge distinct ids. */
function events(from: number, n: number): string {
  const out: string[] = [];
  for (let i = from; i < from + n; i++) {
    const user = i % 97;
    const e: Record<string, unknown> = {
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      event: ['tp.ui.discover.started', 'tp.ui.discover.resourceSelection', 'tp.ui.discover.completed'][i % 3],
      distinct_id: `user-${user}`,
      timestamp: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      properties: {
        'tp.discover.metadata.id': `session-${Math.floor(i / 3)}`,
        'tp.discover.step.status': 'DISCOVER_STATUS_SUCCESS',
        ...(i % 3 ? { 'tp.discover.resource.name': 'DISCOVER_RESOURCE_SERVER' } : {}),
        ...(i % 50 === 0 ? { $set: { plan: `p${i % 7}` } } : {}),
      },
    };
    if (i >= 1000 && user % 10 === 0) e.person_id = `person-${user % 30}`;
    out.push(JSON.stringify(e));
  }
  return out.join('\n') + '\n';
}

async function state(path: string): Promise<State> {
  const store = await Store.open(path, { readOnly: true });
  try {
    const one = async (sql: string) => Number((await store.conn.runAndReadAll(sql)).getRows()[0]![0]);
    const rows = (
      await store.conn.runAndReadAll(
        `SELECT p.id, CAST(p.properties AS VARCHAR), p.created_at::VARCHAR, list(d.distinct_id ORDER BY d.distinct_id)::VARCHAR
         FROM persons p LEFT JOIN person_distinct_ids d ON d.person_id = p.id GROUP BY ALL ORDER BY p.id`,
      )
    ).getRows();
    return {
      events: await one('SELECT count(*) FROM events'),
      persons: await one('SELECT count(*) FROM persons'),
      distinctIds: await one('SELECT count(*) FROM person_distinct_ids'),
      digest: rows.map((r) => r.join('|')).join('\n'),
      orphans: await one(
        `SELECT (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = e.person_id))
          + (SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM person_distinct_ids d WHERE d.distinct_id = e.distinct_id))`,
      ),
    };
  } finally {
    await store.close();
  }
}

async function load(path: string, files: string[]): Promise<void> {
  const store = await Store.open(path);
  try {
    await loadFiles(store, files);
  } finally {
    await store.close();
  }
}

/** Run `discover-metrics load` until it reports the phase, then SIGKILL it (after `delayMs`). */
function killAt(store: string, file: string, phase: string, delayMs = 0): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--store', store, 'load', file], {
      env: { ...process.env, DISCOVER_METRICS_TEST_PAUSE_AT: phase, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let asked = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (!asked && stderr.includes(`dm-test-phase ${phase}\n`)) {
        asked = true;
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      resolve({ killed: asked && signal === 'SIGKILL', stderr });
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dm-kill-load-'));
  fileA = join(dir, 'a.jsonl');
  fileB = join(dir, 'b.jsonl');
  writeFileSync(fileA, events(0, 1000));
  writeFileSync(fileB, events(1000, 4000));
  base = join(dir, 'base.duckdb');
  await load(base, [fileA]);
  baseState = await state(base);
  const ref = join(dir, 'ref.duckdb');
  await load(ref, [fileA]);
  await load(ref, [fileB]);
  reference = await state(ref);
  expect(reference.events).toBe(5000);
  expect(reference.orphans).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fresh(name: string, from?: string): string {
  const p = join(dir, name);
  for (const x of ['', '.wal', '.loading']) rmSync(p + x, { force: true });
  if (from) copyFileSync(from, p);
  return p;
}

describe('a load killed at any phase is all or nothing', () => {
  // marked: the marker is written; inserted: events inserted, in the transaction; persons:
  // persons done, before COMMIT; commit: COMMIT under way (killed at once and 150 ms in);
  // committed: COMMIT returned, before the checkpoint; checkpoint: under way; done: all finished.
  const phases: [string, number][] = [
    ['marked', 0],
    ['inserted', 0],
    ['persons', 0],
    ['commit', 0],
    ['commit', 150],
    ['committed', 0],
    ['checkpoint', 0],
    ['done', 0],
  ];

  // the phases are independent (a copy of the base store each) and mostly wait on a child: run them side by side
  it.concurrent.for(phases)('killed at %s (+%i ms): opens, holds the load in full or not at all, and loading again completes it', async ([phase, delay], { expect }) => {
    const db = fresh(`k-${phase}-${delay}.duckdb`, base);
    const k = await killAt(db, fileB, phase, delay);
    expect(k.killed, k.stderr).toBe(true);
    const after = await state(db);
    expect(after.orphans).toBe(0);
    expect([baseState.events, reference.events]).toContain(after.events);
    expect(after).toEqual(after.events === reference.events ? reference : baseState);
    expect(existsSync(`${db}.loading`)).toBe(false);
    await load(db, [fileB]);
    expect(await state(db)).toEqual(reference);
  });

  it('the first load of a fresh store, killed after its commit, opens again (DuckDB replays its log)', async () => {
    const db = fresh('k-fresh.duckdb');
    const k = await killAt(db, fileA, 'committed');
    expect(k.killed, k.stderr).toBe(true);
    expect(existsSync(`${db}.wal`)).toBe(true);
    const r = spawnSync(process.execPath, [BIN, '--store', db, '--format', 'json', 'store', 'info'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/a load was killed before it finished: the store holds it in full or not at all/);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: baseState.events, persons: baseState.persons });
  });
});

describe('a store found half-written is repaired on open', () => {
  it('events without their persons (a load cut between them): persons are rebuilt from the events', async () => {
    const db = fresh('half.duckdb');
    await load(db, [fileA]);
    await load(db, [fileB]);
    const store = await Store.open(db);
    await store.conn.run(`DELETE FROM persons WHERE id IN (SELECT person_id FROM events WHERE rowid % 2 = 0)`);
    await store.conn.run(`DELETE FROM person_distinct_ids WHERE distinct_id LIKE 'user-1%'`);
    await store.close();
    expect((await state(db)).orphans).toBeGreaterThan(0);
    writeFileSync(`${db}.loading`, '{}\n');
    const reopened = await Store.open(db, { readOnly: true });
    expect(reopened.recovery).toMatch(/persons were rebuilt from the events/);
    await reopened.close();
    expect(await state(db)).toEqual(reference);
  });

  it('a write-ahead log DuckDB cannot replay: the killed load is rolled back', async () => {
    const db = fresh('unreplayable.duckdb', base);
    // A transaction whose log DuckDB 1.5 cannot replay (an added column whose default calls a
    // function), committed and then killed before any checkpoint.
    const script = `
      const { DuckDBInstance } = require('@duckdb/node-api');
      (async () => {
        const i = await DuckDBInstance.create(${JSON.stringify(db)});
        const c = await i.connect();
        await c.run("BEGIN; ALTER TABLE events ADD COLUMN killed_col UBIGINT DEFAULT hash(NULL::VARCHAR); DELETE FROM events WHERE rowid < 10; COMMIT");
        process.kill(process.pid, 'SIGKILL');
      })();`;
    writeFileSync(`${db}.loading`, '{}\n');
    spawnSync(process.execPath, ['-e', script], { cwd: join(BIN, '..', '..'), encoding: 'utf8' });
    expect(existsSync(`${db}.wal`)).toBe(true);
    const store = await Store.open(db, { readOnly: true });
    expect(store.recovery).toMatch(/rolled back/);
    await store.close();
    expect(await state(db)).toEqual(baseState);
  });

  it("the hash companion's literal default is DuckDB's hash(NULL)", async () => {
    const store = await Store.open(':memory:');
    try {
      const v = (await store.conn.runAndReadAll(`SELECT hash(NULL::VARCHAR)::VARCHAR`)).getRows()[0]![0];
      expect(String(v)).toBe('13787848793156543929');
    } finally {
      await store.close();
    }
  });
});
