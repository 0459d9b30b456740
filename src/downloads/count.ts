/**
 * From raw hits (successful GETs of Connect artifacts) to counted downloads.
 *
 * Rules
 * - 200: each response is a download.
 * - 206 (range requests): all pieces of one object fetched by one client on one (UTC) day are
 *   one download. When the same client also got a full 200 of that object that day, the
 *   pieces are taken as the resume of that download and not counted again.
 * - kind `update`: the in-app updater's fetches — the macOS `-mac.zip` payload, any artifact
 *   fetched by an Electron user agent (electron-updater), or an artifact fetched by a client
 *   that read an update manifest (latest*.yml) in the hour before. Everything else is `install`.
 * - uuid: derived from CloudFront's x-edge-request-id of the (first) counted request, so
 *   re-reading the same logs gives the same ids whatever the salt; without request ids, from
 *   time, object, status and the download's rank among those alike (never from the client, whose
 *   hash changes with the salt): the same logs give the same set of ids.
 */
import { createHash } from 'node:crypto';
import type { DownloadKind, Platform } from './artifacts.js';
import type { Hit, ReadResult } from './logs.js';

export interface Download {
  uuid: string;
  /** Epoch ms (UTC). */
  ts: number;
  /** HMAC of the client address + user agent. */
  client: string;
  platform: Platform;
  arch: string;
  version: string;
  artifact: string;
  format: string;
  kind: DownloadKind;
  /** 200, or 206 for a download assembled from range requests. */
  status: 200 | 206;
  /** Requests behind this download (range pieces). */
  requests: number;
}

/** How long before an artifact fetch a manifest read marks it as an update. */
export const MANIFEST_WINDOW_MS = 60 * 60 * 1000;

export function countDownloads(read: Pick<ReadResult, 'hits' | 'manifestFetches'>): Download[] {
  const hits = [...read.hits].sort(compareHits);
  const full = new Set<string>();
  for (const h of hits) if (h.status === 200) full.add(groupKey(h));
  const ranges = new Map<string, Hit[]>();
  const counted: [Hit, number][] = [];
  for (const h of hits) {
    if (h.status === 200) {
      counted.push([h, 1]);
      continue;
    }
    const k = groupKey(h);
    if (full.has(k)) continue;
    const g = ranges.get(k);
    if (g) g.push(h);
    else ranges.set(k, [h]);
  }
  for (const g of ranges.values()) counted.push([g[0]!, g.length]);
  const names = rankedNames(counted.map(([h]) => h).sort(compareHits));
  const out = counted.map(([h, n]) => toDownload(h, n, read.manifestFetches, names.get(h)));
  return out.sort((a, b) => a.ts - b.ts || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/** Name of a hit without a request id: its time, object and status, and its rank among such hits. */
function rankedNames(hits: readonly Hit[]): Map<Hit, string> {
  const seen = new Map<string, number>();
  const out = new Map<Hit, string>();
  for (const h of hits) {
    if (h.requestId) continue;
    const key = `${h.ts}:${h.stem}:${h.status}`;
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    out.set(h, `hit:${key}:${k}`);
  }
  return out;
}

function groupKey(h: Hit): string {
  return `${h.client}\t${h.stem}\t${h.day}`;
}

function compareHits(a: Hit, b: Hit): number {
  return a.ts - b.ts || cmp(a.requestId, b.requestId) || cmp(a.client, b.client) || cmp(a.stem, b.stem) || a.status - b.status;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toDownload(h: Hit, requests: number, manifests: Map<string, number[]>, name: string | undefined): Download {
  const a = h.artifact;
  let kind: DownloadKind = a.kind;
  if (kind === 'install' && (h.electronAgent || readManifestBefore(manifests.get(h.client), h.ts))) kind = 'update';
  return {
    uuid: downloadUuid(h.requestId ? `cloudfront:${h.requestId}` : name!),
    ts: h.ts,
    client: h.client,
    platform: a.platform,
    arch: a.arch,
    version: a.version,
    artifact: a.artifact,
    format: a.format,
    kind,
    status: h.status,
    requests,
  };
}

function readManifestBefore(times: number[] | undefined, ts: number): boolean {
  if (!times) return false;
  for (const t of times) if (t <= ts && ts - t <= MANIFEST_WINDOW_MS) return true;
  return false;
}

/** A stable UUID (RFC 9562 version 8, name-based on SHA-256) for a counted download's name. */
export function downloadUuid(name: string): string {
  const b = createHash('sha256').update('discover-metrics/download\n').update(name).digest();
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const x = b.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
