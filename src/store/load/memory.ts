/**
 * The memory a load lets DuckDB use. Without a cap (DuckDB's default: 80% of RAM) the ordered
 * parallel insert keeps every row group it builds in memory until the statement ends, so a
 * load's peak memory grew with its input (210k realistic events: ~500 MB, 410k: ~750 MB). Under
 * a cap DuckDB writes them out as it goes (as it would anyway, at the end) and the peak stays
 * flat; the work is the same.
 */
import type { StoreHandle as Store } from '../handle.js';
import { sqlString } from '../sql.js';

/**
 * The cap: a base plus a share per thread, since each insert thread holds its own read buffer
 * (read_json's: 128 MiB, twice its maximum_object_size) and row group. 256 MiB in all fails
 * (the buffers do not fit); 384 MiB was slower than 512 MiB on 2 threads. At 512 MiB the
 * ordered insert runs on one thread: DuckDB holds back every thread but the one writing the
 * lowest batch when the row groups in flight do not fit (realistic fixtures' rows are wide), so
 * the second core sat idle (sampled per thread: one at 100%, the caller's at ~5%). 640 MiB
 * leaves room for both: 810k events loaded in 4.0-6.3 s instead of 7.1-9.5, 1.6M in 7.4-10.4 s
 * instead of 12.2, peak RSS 660-860 MB instead of 580-640 (docs/BENCHMARKS.md).
 */
export const LOAD_MEMORY_BASE_MB = 128;
export const LOAD_MEMORY_PER_THREAD_MB = 256;

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };

/** Bytes of a DuckDB size setting as it prints it ('18.8 GiB', '512.0 MiB'); undefined if unreadable. */
export function settingBytes(text: string): number | undefined {
  const m = /^\s*([\d.]+)\s*([KMGT]?i?B)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toUpperCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/**
 * Lowers DuckDB's memory limit for the load (file stores only: an in-memory store keeps its
 * tables in that memory) and returns what puts the previous limit back.
 */
export async function capLoadMemory(store: Store): Promise<() => Promise<void>> {
  if (store.path === ':memory:') return async () => {};
  const r = await store.conn.runAndReadAll(`SELECT current_setting('memory_limit'), current_setting('threads')`);
  const [limit, threads] = r.getRows()[0] ?? [];
  const previous = String(limit ?? '');
  const capMb = LOAD_MEMORY_BASE_MB + LOAD_MEMORY_PER_THREAD_MB * Math.max(1, Number(threads) || 1);
  const current = settingBytes(previous);
  if (current === undefined || current <= capMb * 2 ** 20) return async () => {};
  await store.conn.run(`SET memory_limit = '${capMb}MiB'`);
  return async () => {
    await store.conn.run(`SET memory_limit = ${sqlString(previous)}`);
  };
}
