/** The load's public shapes: input events, options, the summary a load returns. */
import type { Readable } from 'node:stream';
import type { OnLoadProgress } from './progress.js';

export interface RawEvent {
  uuid?: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties?: Record<string, unknown>;
  person_id?: string;
  person_properties?: Record<string, unknown>;
}

export interface LoadSummary {
  /** Rows read from the inputs. */
  read: number;
  /** Rows stored (new uuids). */
  inserted: number;
  /** Rows whose uuid was already stored or repeated within this load (skipped). */
  duplicates: number;
  /** Persons created by this load. */
  persons: number;
  /** Inputs as named in messages. */
  files: string[];
  /** Stored rows that came without a uuid and got a derived one. */
  derivedUuids: number;
  /** Distinct ids re-pointed to another person (person_id in the input differed from the store's). */
  remappedDistinctIds: number;
}

export interface LoadOptions {
  /** Also run the strict vocabulary check (prehog envelope required) on every Teleport event. */
  strictVocabulary?: boolean;
  /**
   * Refuse events that break the Teleport vocabulary (default true). false stores any event, as
   * PostHog's capture does (the sandbox).
   */
  vocabulary?: boolean;
  /** Called while the load runs: bytes and events read, and the phase it is in. */
  onProgress?: OnLoadProgress;
  /** stdin to use for `-` (tests). */
  stdin?: Readable;
  /**
   * Rebuild the session index after the load (default true; see session-index.ts). The sandbox,
   * which stores every capture request, leaves it: its funnels read the events directly.
   */
  sessionIndex?: boolean;
}
