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

export const SALT_META_KEY = 'downloads.client_salt';
export const SALT_ENV = 'DISCOVER_METRICS_IP_SALT';

/**
 * The salt for client hashes: --salt, else $DISCOVER_METRICS_IP_SALT, else the store's own
 * secret (generated once, kept in its meta table), else (no store) a random one for this run.
 * Never printed.
 */
export async function resolveSalt(store: Store | undefined, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await saltFor(store, explicit, env)).salt;
}

async function saltFor(
  store: Store | undefined,
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ salt: string; generated: boolean }> {
  if (explicit !== undefined) {
    if (explicit.length < 8) throw new UsageError('--salt: use a secret of at least 8 characters');
    return { salt: explicit, generated: false };
  }
  const fromEnv = env[SALT_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 8) throw new UsageError(`${SALT_ENV}: use a secret of at least 8 characters`);
    return { salt: fromEnv, generated: false };
  }
  if (store) {
    const r = await store.conn.runAndReadAll(`SELECT value FROM meta WHERE key = $1`, [SALT_META_KEY]);
    const row = r.getRows()[0];
    if (row && typeof row[0] === 'string' && row[0].length > 0) return { salt: row[0], generated: false };
  }
  return { salt: randomBytes(32).toString('hex'), generated: true };
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
  const { salt, generated } = await saltFor(store, opts.salt, env);
  const analysis = await analyzeDownloadLogs(paths, { ...opts, salt });
  // Only now (the logs read cleanly enough) is anything written.
  if (generated) await store.conn.run(`INSERT INTO meta VALUES ($1, $2)`, [SALT_META_KEY, salt]);
  const { loadEvents } = await import('../store/ingest.js');
  const load = await loadEvents(store, downloadEvents(analysis.downloads), { where: 'downloads', onProgress: opts.onProgress });
  return { analysis, load };
}
