/**
 * Teleport Connect downloads from CloudFront access logs: read → count → report, and loading
 * counted downloads into the event store as `downloads.event` events (queries/taxonomy.json).
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';
import { taxonomy } from '../events/taxonomy.js';
import type { Store } from '../store/store.js';
import type { LoadOptions, LoadSummary } from '../store/ingest.js';
import { countDownloads, type Download } from './count.js';
import { readCloudFrontLogs, type ReadOptions, type ReadStats } from './logs.js';

export { countDownloads, type Download } from './count.js';
export { readCloudFrontLogs, expandLogPaths, hashClient, CLOUDFRONT_FIELDS, type ReadStats, type Malformed } from './logs.js';
export { buildReport, parseDimensions, skippedMessage, type DownloadsReport, type DownloadRow, type Dimension } from './report.js';

export interface AnalyzeOptions {
  /** Secret for hashing client addresses; default a random one (hashes then only mean something within this run). */
  salt?: string;
  strict?: boolean;
  /** Reading progress (see ReadOptions.onFile). */
  onFile?: ReadOptions['onFile'];
}

export interface Analysis {
  downloads: Download[];
  stats: ReadStats;
  files: string[];
}

/** Read and count: every Connect download in the logs, de-duplicated, with read statistics. */
export async function analyzeDownloadLogs(paths: readonly string[], opts: AnalyzeOptions = {}): Promise<Analysis> {
  const salt = opts.salt ?? randomBytes(32).toString('hex');
  const read = await readCloudFrontLogs(paths, { salt, strict: opts.strict, onFile: opts.onFile });
  return { downloads: countDownloads(read), stats: read.stats, files: read.files };
}

/** Where stores made before this release kept their salt; removed when such a store is opened for writing. */
export const SALT_META_KEY = 'downloads.client_salt';
export const SALT_ENV = 'DISCOVER_METRICS_IP_SALT';

/**
 * The secret client addresses are hashed with: --salt, else $DISCOVER_METRICS_IP_SALT, else a
 * random one for this run only. It never enters the store (nor any output): a copied store
 * holds HMACs whose key it does not have, so no address can be searched for in it (an address
 * space is small enough to try every address when the key is known). With a salt of your own,
 * the same client gets the same hash across runs; without one, only within a run.
 */
export function resolveSalt(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) {
    if (explicit.length < 8) throw new UsageError('--salt: use a secret of at least 8 characters');
    return explicit;
  }
  const fromEnv = env[SALT_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 8) throw new UsageError(`${SALT_ENV}: use a secret of at least 8 characters`);
    return fromEnv;
  }
  return randomBytes(32).toString('hex');
}

/** A counted download as a PostHog-shaped event (one per download; uuid is deterministic). */
export interface DownloadEvent {
  uuid: string;
  event: string;
  distinct_id: string;
  timestamp: string;
  properties: Record<string, string | number | boolean>;
}

/** Prefix of the distinct ids of downloaders (one "person" per hashed client). */
export const DOWNLOADER_ID_PREFIX = 'download.';

export function downloadEvents(downloads: Iterable<Download>): DownloadEvent[] {
  const t = taxonomy().downloads;
  const p = t.properties;
  const out: DownloadEvent[] = [];
  for (const d of downloads) {
    out.push({
      uuid: d.uuid,
      event: t.event,
      distinct_id: `${DOWNLOADER_ID_PREFIX}${d.client}`,
      timestamp: new Date(d.ts).toISOString(),
      properties: {
        [p.platform!]: d.platform,
        [p.arch!]: d.arch,
        [p.version!]: d.version,
        [p.artifact!]: d.artifact,
        [p.kind!]: d.kind,
        [p.client!]: d.client,
      },
    });
  }
  return out;
}

export type LoadDownloadsOptions = AnalyzeOptions & Pick<LoadOptions, 'onProgress'>;

export interface LoadDownloadsResult {
  analysis: Analysis;
  /** What the store's loader reported (inserted, duplicates = already loaded, …). */
  load: LoadSummary;
}

/**
 * Read CloudFront logs and load every counted download into the store as an event. Re-loading
 * the same logs is idempotent (deterministic uuids). With `strict`, a malformed line fails
 * before anything is written.
 */
export async function loadDownloadLogs(
  store: Store,
  paths: readonly string[],
  opts: LoadDownloadsOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadDownloadsResult> {
  const salt = resolveSalt(opts.salt, env);
  const analysis = await analyzeDownloadLogs(paths, { ...opts, salt });
  const { loadEvents } = await import('../store/ingest.js');
  const load = await loadEvents(store, downloadEvents(analysis.downloads), { where: 'downloads', onProgress: opts.onProgress });
  return { analysis, load };
}
