/**
 * Reading DuckDB result chunks as raw bytes: the funnel scan and the session index copy millions
 * of numeric rows out of DuckDB, and the node-api vector wrappers cost several native calls and
 * objects per column and chunk (~0.3 CPU-s per 10M rows). DuckDB's native bindings and type ids
 * are loaded on first use (a funnel worker thread, which never reads DuckDB, does not load them).
 */
import type { DuckDBDataChunk, DuckDBMaterializedResult } from '@duckdb/node-api';

let duckdb: typeof import('@duckdb/node-bindings') | undefined;
let typeIds: typeof import('@duckdb/node-api').DuckDBTypeId | undefined;

/** DuckDB's type ids, with the native bindings loaded for columnBytes(). */
export async function duckdbTypes(): Promise<typeof import('@duckdb/node-api').DuckDBTypeId> {
  duckdb ??= (await import('@duckdb/node-bindings')).default;
  typeIds ??= (await import('@duckdb/node-api')).DuckDBTypeId;
  return typeIds;
}

/**
 * The raw bytes of column c of a chunk, straight from DuckDB's flat vector (a materialized
 * result's chunks are flat). Only for columns that are never NULL: the validity mask is not read.
 * Call duckdbTypes() once before.
 */
export function columnBytes(chunk: DuckDBDataChunk, c: number, count: number, width: number): Uint8Array {
  return duckdb!.vector_get_data(duckdb!.data_chunk_get_vector(chunk.chunk, c), count * width);
}

/** A UBIGINT column as (lo, hi) uint32 pairs, without BigInt conversion. */
export function hashHalves(chunk: DuckDBDataChunk, c: number, count: number): Uint32Array {
  const d = columnBytes(chunk, c, count, 8);
  return new Uint32Array(d.buffer, d.byteOffset, count * 2);
}

/** A DOUBLE column. */
export function doubles(chunk: DuckDBDataChunk, c: number, count: number): Float64Array {
  const d = columnBytes(chunk, c, count, 8);
  return new Float64Array(d.buffer, d.byteOffset, count);
}

/** An INTEGER column. */
export function int32s(chunk: DuckDBDataChunk, c: number, count: number): Int32Array {
  const d = columnBytes(chunk, c, count, 4);
  return new Int32Array(d.buffer, d.byteOffset, count);
}

/** Checks a result's column types against what its SQL casts them to (the raw reads rely on them). */
export function checkTypes(result: DuckDBMaterializedResult, expected: readonly number[], what: string): void {
  expected.forEach((t, c) => {
    const got = result.columnTypeId(c);
    if (got !== t) throw new Error(`${what}: column ${result.columnName(c)} is ${typeIds![got]}, expected ${typeIds![t]}`);
  });
}
