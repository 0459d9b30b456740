import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/store.js';
import { runWithoutSpinning } from '../../src/store/load/run.js';
import { duckMessage } from '../../src/store/load/sql.js';

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:');
  await store.conn.run(`SET threads = 2; CREATE TABLE t (n BIGINT)`);
});
afterAll(() => store.close());

describe('a statement run without DuckDB’s busy wait', () => {
  it('changes what conn.run changes, on every thread, and reads the same afterwards', async () => {
    const r = await runWithoutSpinning(store.conn, `INSERT INTO t SELECT range FROM range(3000000)`);
    expect(r.rowsChanged).toBe(3_000_000);
    const sum = (await store.conn.runAndReadAll(`SELECT sum(n)::VARCHAR FROM t`)).getRows()[0]![0];
    expect(sum).toBe(String((3_000_000 * 2_999_999) / 2));
  });

  it('fails with DuckDB’s own message, as conn.run does (callers parse it)', async () => {
    const bad = `INSERT INTO t SELECT CASE WHEN range = 2500000 THEN error('dm:invalid-row') ELSE range END FROM range(3000000)`;
    const viaRun = await store.conn.run(bad).then(() => undefined, (e: unknown) => e as Error);
    const viaTasks = await runWithoutSpinning(store.conn, bad).then(() => undefined, (e: unknown) => e as Error);
    expect(viaRun?.message).toMatch(/dm:invalid-row/);
    expect(viaTasks?.message).toBe(viaRun?.message);
    expect(duckMessage(viaTasks)).toBe('dm:invalid-row');
  });
});
