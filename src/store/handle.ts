/**
 * What the load's helpers (store/load/) and crash recovery need of an open store. Store
 * implements it; they take this interface so that store.ts, which runs recovery on open, is not
 * imported back by them (no import cycle).
 */
import type { DuckDBConnection } from '@duckdb/node-api';

export interface StoreHandle {
  readonly conn: DuckDBConnection;
  keyHashColumn(key: string): string | undefined;
  materializedColumn(key: string): string | undefined;
  materializedKeys(): string[];
  materialize(keys: readonly string[]): Promise<void>;
  fillMaterialized(keys: readonly string[], where: string, opts?: { normalizedJson?: boolean }): Promise<void>;
  readonly path: string;
  transaction<T>(fn: () => Promise<T>, opts?: { keepGeneration?: boolean }): Promise<T>;
  close(): Promise<void>;
}
