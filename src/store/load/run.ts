/**
 * Running a long statement without DuckDB's busy wait. `conn.run()` executes a statement through
 * DuckDB's own loop, which, whenever the calling thread has no task of the query left (the other
 * threads hold them), asks again at once: a core spins until they finish. On a host with more
 * work than cores that spin takes the core the other threads need (perf of a 210k-event load on
 * a busy 2-core host: 20-45% of the insert's CPU samples in that loop). Here this thread takes
 * the query's tasks itself and sleeps 1 ms when there is none; same statement, same result.
 */
import type { DuckDBConnection, DuckDBResult } from '@duckdb/node-api';
import { setImmediate as yieldToEvents, setTimeout as sleep } from 'node:timers/promises';

// DuckDBPendingResultState's values (the enum lives in @duckdb/node-api, which is loaded only
// when a store opens: see store.ts)
const RESULT_READY = 0;
const NO_TASKS_AVAILABLE = 3;

/** The node-api's wrapper adds this before DuckDB's own message, which callers parse. */
const TASK_FAILURE_PREFIX = /^Failure running pending result task: /;

export async function runWithoutSpinning(conn: DuckDBConnection, sql: string): Promise<DuckDBResult> {
  const pending = await conn.start(sql);
  for (;;) {
    let state: number; // (a DuckDBPendingResultState)
    try {
      state = pending.runTask();
    } catch (e) {
      if (e instanceof Error && TASK_FAILURE_PREFIX.test(e.message)) throw new Error(e.message.replace(TASK_FAILURE_PREFIX, ''));
      throw e;
    }
    if (state === RESULT_READY) break;
    // (between tasks the event loop runs too: the progress line's timer, gzip verification)
    await (state === NO_TASKS_AVAILABLE ? sleep(1) : yieldToEvents());
  }
  return pending.getResult();
}
