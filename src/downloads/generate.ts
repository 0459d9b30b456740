/**
 * Synthetic CloudFront access logs that match a generated event set: one installer download a
 * little before each Connect installation is first seen, downloads that never turn into an
 * installation, macOS updater fetches (latest-mac.yml then the -mac.zip) on upgrades, range
 * requests in pieces, HEAD checks, checksum fetches and unrelated traffic (tsh/teleport
 * tarballs, web pages), in hourly gzipped files named like CloudFront's
 * (`<distribution>.YYYY-MM-DD-HH.<hash>.gz`).
 *
 * Deterministic: the same seed and inputs give byte-identical files (seeded PRNG, no clock).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLOUDFRONT_FIELDS } from './logs.js';
import { platformOfOs, type Platform } from './artifacts.js';

export interface CdnInstallation {
  firstSeen: Date;
  /** Electron platform (darwin, win32, linux) or a download platform (macos, windows, linux). */
  os: string;
  arch: string;
  version: string;
}

export interface CdnLogOptions {
  seed: number;
  start: Date;
  days: number;
  installations: CdnInstallation[];
  /** CloudFront distribution id used in file names (default E2DMCONNECT0001). */
  distribution?: string;
  /** Unrelated requests per hour on average (default 12). */
  backgroundPerHour?: number;
  /** Downloads that never become an installation, per installation (default 0.35). */
  abandonedRatio?: number;
}

/** A small seeded PRNG (sfc32 seeded through splitmix32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

interface Line {
  ts: number;
  fields: Record<string, string>;
}

const HOST = 'cdn.teleport.dev';
const EDGES = ['FRA56-P3', 'IAD89-C1', 'SFO53-P5', 'LHR61-C2', 'NRT57-P2', 'GRU3-C1', 'SIN2-P1', 'WAW51-P1'];
const CT: Record<string, string> = {
  exe: 'application/x-msdownload',
  dmg: 'application/x-apple-diskimage',
  zip: 'application/zip',
  deb: 'application/vnd.debian.binary-package',
  rpm: 'application/x-rpm',
  'tar.gz': 'application/gzip',
  yml: 'text/yaml',
  sha256: 'text/plain',
  html: 'text/html',
};

const BROWSER_UA: Record<Platform, string[]> = {
  macos: [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:127.0) Gecko/20100101 Firefox/127.0',
  ],
  windows: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  ],
  linux: [
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
    'curl/8.5.0',
    'Wget/1.21.4',
  ],
};

const SIZES: Record<string, number> = { exe: 121_634_816, dmg: 243_269_632, zip: 238_026_752, deb: 98_566_144, rpm: 99_614_720, 'tar.gz': 104_857_600 };

/**
 * Write hourly gzipped CloudFront logs covering [start, start + days) to outDir; returns the
 * file paths written, in name order.
 */
export async function writeCdnLogs(outDir: string, opts: CdnLogOptions): Promise<string[]> {
  const files = generateCdnLogs(opts);
  await mkdir(outDir, { recursive: true });
  const out: string[] = [];
  for (const f of files) {
    const p = join(outDir, f.name);
    await writeFile(p, gzipSync(Buffer.from(f.text, 'utf8'), { level: 6 }));
    out.push(p);
  }
  return out;
}

/** The same logs as text, without writing (file name → uncompressed content), in name order. */
export function generateCdnLogs(opts: CdnLogOptions): { name: string; text: string }[] {
  if (!(opts.days > 0) || !Number.isFinite(opts.days)) throw new RangeError('writeCdnLogs: days must be a positive number');
  const rnd = prng(opts.seed ^ 0x5eed_c0de);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const start = opts.start.getTime();
  const end = start + opts.days * 86_400_000;
  const lines: Line[] = [];
  const inRange = (ts: number) => ts >= start && ts < end;

  const newClient = (platform: Platform) => ({ ip: randomIp(rnd), ua: pick(BROWSER_UA[platform]), edge: pick(EDGES) });
  type Client = ReturnType<typeof newClient>;

  const emit = (ts: number, c: Client, method: string, stem: string, status: number, bytes: number, extra: Partial<Record<string, string>> = {}) => {
    if (!inRange(ts)) return;
    const ext = stem.endsWith('.tar.gz') ? 'tar.gz' : (stem.split('.').pop() ?? 'html');
    lines.push({
      ts,
      fields: {
        'x-edge-location': c.edge,
        'sc-bytes': String(bytes),
        'c-ip': c.ip,
        'cs-method': method,
        'cs(Host)': 'd3connect4dm.cloudfront.net',
        'cs-uri-stem': encodeStem(stem, rnd),
        'sc-status': String(status),
        'cs(Referer)': stem.startsWith('/download') ? '-' : 'https://goteleport.com/download/',
        'cs(User-Agent)': encodeURIComponent(c.ua).replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%3B/g, ';'),
        'x-edge-request-id': requestId(rnd),
        'x-host-header': HOST,
        'sc-content-type': CT[ext] ?? 'application/octet-stream',
        'sc-content-len': String(bytes),
        ...extra,
      },
    });
  };

  const download = (ts: number, c: Client, stem: string, format: string) => {
    const size = SIZES[format] ?? 50_000_000;
    const style = rnd();
    if (style < 0.1) emit(ts - 2000, c, 'HEAD', stem, 200, 0);
    if (style < 0.72) {
      emit(ts, c, 'GET', stem, 200, size);
    } else {
      // A download manager or a resumed download: range requests in pieces.
      const pieces = 2 + Math.floor(rnd() * 4);
      const step = Math.ceil(size / pieces);
      for (let i = 0; i < pieces; i++) {
        const lo = i * step;
        const hi = Math.min(size, lo + step) - 1;
        emit(ts + i * 1500, c, 'GET', stem, 206, hi - lo + 1, { 'sc-range-start': String(lo), 'sc-range-end': String(hi) });
      }
    }
    if (rnd() < 0.3) emit(ts + 60_000, c, 'GET', `${stem}.sha256`, 200, 98);
  };

  // One installer download shortly before each installation shows up.
  for (const inst of opts.installations) {
    const platform = platformOfOs(inst.os);
    if (!platform) continue;
    const c = newClient(platform);
    const first = inst.firstSeen.getTime();
    const ts = first - (5 + Math.floor(rnd() * 115)) * 60_000 - Math.floor(rnd() * 60_000);
    const { stem, format } = installerStem(platform, inst.arch, inst.version, rnd);
    download(ts, c, stem, format);
    // macOS upgrades through the in-app updater: manifest, then the zip.
    if (platform === 'macos' && rnd() < 0.5) {
      const at = first + (1 + Math.floor(rnd() * Math.max(1, opts.days - 1))) * 86_400_000 + Math.floor(rnd() * 86_400_000);
      const upd = { ...c, ua: electronUa(bumpPatch(inst.version)) };
      emit(at, upd, 'GET', '/connect/latest-mac.yml', 200, 512);
      const arch = inst.arch === 'arm64' ? '-arm64' : '';
      emit(at + 4000, upd, 'GET', `/download/Teleport Connect-${bumpPatch(inst.version)}${arch}-mac.zip`, 200, SIZES.zip!);
      emit(at + 4100, upd, 'GET', `/download/Teleport Connect-${bumpPatch(inst.version)}${arch}-mac.zip.blockmap`, 200, 250_000);
    }
  }

  // Downloads that never become an installation (ratio < 1).
  const versions = [...new Set(opts.installations.map((i) => i.version))];
  if (versions.length === 0) versions.push('16.4.0');
  const abandoned = Math.round(opts.installations.length * (opts.abandonedRatio ?? 0.35)) + Math.floor(opts.days / 2);
  for (let i = 0; i < abandoned; i++) {
    const platform = pick<Platform>(['macos', 'macos', 'windows', 'windows', 'linux']);
    const arch = rnd() < 0.3 ? 'arm64' : 'x64';
    const c = newClient(platform);
    const { stem, format } = installerStem(platform, arch, pick(versions), rnd);
    download(start + Math.floor(rnd() * (end - start)), c, stem, format);
  }

  // Unrelated traffic: tsh/teleport packages, web pages, failed and conditional requests.
  const perHour = opts.backgroundPerHour ?? 12;
  const v = versions[0]!;
  const background = [
    `/teleport-v${v}-linux-amd64-bin.tar.gz`,
    `/teleport-v${v}-darwin-universal-bin.tar.gz`,
    `/tsh-${v}.pkg`,
    `/teleport-ent-v${v}-linux-arm64-bin.tar.gz`,
    `/teleport-v${v}-windows-amd64-bin.zip`,
    '/download/',
    '/index.html',
    '/favicon.ico',
    '/docs/connect-your-client/teleport-connect/',
  ];
  for (let h = start; h < end; h += 3_600_000) {
    const n = Math.floor(rnd() * perHour * 2);
    for (let i = 0; i < n; i++) {
      const c = newClient(pick<Platform>(['macos', 'windows', 'linux']));
      const stem = pick(background);
      const r = rnd();
      const status = r < 0.06 ? 404 : r < 0.12 ? 304 : r < 0.14 ? 403 : 200;
      emit(h + Math.floor(rnd() * 3_600_000), c, r > 0.97 ? 'HEAD' : 'GET', stem, status, status === 200 ? 1000 + Math.floor(rnd() * 9_000_000) : 350);
    }
    // A broken download of a Connect installer (client gave up before headers).
    if (rnd() < 0.05) {
      const c = newClient('windows');
      emit(h + Math.floor(rnd() * 3_600_000), c, 'GET', `/download/Teleport Connect Setup-${v}.exe`, 403, 350);
    }
  }

  // Hourly files (one or two per hour, as several edge servers write their own).
  lines.sort((a, b) => a.ts - b.ts || (a.fields['x-edge-request-id']! < b.fields['x-edge-request-id']! ? -1 : 1));
  const dist = opts.distribution ?? 'E2DMCONNECT0001';
  const byFile = new Map<string, Line[]>();
  const hourSplit = new Map<string, { parts: number; hashes: string[] }>();
  for (const l of lines) {
    const iso = new Date(l.ts).toISOString();
    const hour = `${iso.slice(0, 10)}-${iso.slice(11, 13)}`;
    let hs = hourSplit.get(hour);
    if (!hs) {
      const parts = rnd() < 0.4 ? 2 : 1;
      hs = { parts, hashes: Array.from({ length: parts }, () => hex(rnd, 8)) };
      hourSplit.set(hour, hs);
    }
    const part = hs.parts === 1 ? 0 : Math.floor(rnd() * hs.parts);
    const name = `${dist}.${hour}.${hs.hashes[part]}.gz`;
    const list = byFile.get(name);
    if (list) list.push(l);
    else byFile.set(name, [l]);
  }
  const names = [...byFile.keys()].sort();
  return names.map((name) => ({ name, text: renderLog(byFile.get(name)!, rnd) }));
}

function renderLog(lines: Line[], rnd: () => number): string {
  const head = `#Version: 1.0\n#Fields: ${CLOUDFRONT_FIELDS.join(' ')}\n`;
  const body = lines.map((l) => {
    const iso = new Date(l.ts).toISOString();
    const status = Number(l.fields['sc-status']);
    const hit = rnd() < 0.8 ? 'Hit' : 'Miss';
    const result = status >= 400 ? 'Error' : hit;
    const base: Record<string, string> = {
      date: iso.slice(0, 10),
      time: iso.slice(11, 19),
      'cs-uri-query': '-',
      'cs(Cookie)': '-',
      'x-edge-result-type': result,
      'cs-protocol': 'https',
      'cs-bytes': String(150 + Math.floor(rnd() * 300)),
      'time-taken': (rnd() * 20).toFixed(3),
      'x-forwarded-for': '-',
      'ssl-protocol': 'TLSv1.3',
      'ssl-cipher': 'TLS_AES_128_GCM_SHA256',
      'x-edge-response-result-type': result,
      'cs-protocol-version': rnd() < 0.7 ? 'HTTP/2.0' : 'HTTP/1.1',
      'fle-status': '-',
      'fle-encrypted-fields': '-',
      'c-port': String(1024 + Math.floor(rnd() * 64000)),
      'time-to-first-byte': (rnd() * 0.2).toFixed(3),
      'x-edge-detailed-result-type': result,
      'sc-range-start': '-',
      'sc-range-end': '-',
    };
    const all = { ...base, ...l.fields };
    return CLOUDFRONT_FIELDS.map((f) => all[f] ?? '-').join('\t');
  });
  return head + body.join('\n') + '\n';
}

function installerStem(platform: Platform, arch: string, version: string, rnd: () => number): { stem: string; format: string } {
  const arm = arch === 'arm64' || arch === 'aarch64';
  if (platform === 'windows') return { stem: `/download/Teleport Connect Setup-${version}.exe`, format: 'exe' };
  if (platform === 'macos') return { stem: `/download/Teleport Connect-${version}${arm ? '-arm64' : ''}.dmg`, format: 'dmg' };
  const r = rnd();
  if (r < 0.5) return { stem: `/download/teleport-connect_${version}_${arm ? 'arm64' : 'amd64'}.deb`, format: 'deb' };
  if (r < 0.75) return { stem: `/download/teleport-connect-${version}.${arm ? 'aarch64' : 'x86_64'}.rpm`, format: 'rpm' };
  return { stem: `/download/teleport-connect-${version}-${arm ? 'arm64' : 'x64'}.tar.gz`, format: 'tar.gz' };
}

/** CloudFront logs the stem URL-encoded; requests that were already encoded show %2520. */
function encodeStem(stem: string, rnd: () => number): string {
  const once = stem.replace(/ /g, '%20');
  return rnd() < 0.5 ? once : once.replace(/%20/g, '%2520');
}

function electronUa(version: string): string {
  return `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Teleport Connect/${version} Chrome/124.0.6367.243 Electron/30.4.0 Safari/537.36`;
}

function bumpPatch(v: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(v);
  return m ? `${m[1]}.${m[2]}.${Number(m[3]) + 1}` : v;
}

function randomIp(rnd: () => number): string {
  if (rnd() < 0.1) {
    const groups = Array.from({ length: 4 }, () => Math.floor(rnd() * 65536).toString(16));
    return `2001:db8:${groups.join(':')}::${Math.floor(rnd() * 65536).toString(16)}`;
  }
  // Public-looking IPv4 (first octet 11..223, skipping 127).
  let a = 11 + Math.floor(rnd() * 213);
  if (a === 127) a = 128;
  return `${a}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
}

function requestId(rnd: () => number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  let s = '';
  for (let i = 0; i < 54; i++) s += abc[Math.floor(rnd() * abc.length)];
  return `${s}==`;
}

function hex(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rnd() * 16).toString(16);
  return s;
}
