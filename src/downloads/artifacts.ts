/**
 * Teleport Connect artifact names (as published on the CDN) → platform, architecture, version
 * and whether the object is a fresh installer or an updater payload.
 *
 * Published names (electron-builder defaults, see the downloads page):
 *   Teleport Connect Setup-<v>.exe           windows installer (x64; `-arm64` variants tolerated)
 *   Teleport Connect-<v>[-arm64|-x64|-universal].dmg       macos installer
 *   Teleport Connect-<v>[-arm64|-x64|-universal]-mac.zip   macos updater payload (in-app updater)
 *   teleport-connect_<v>_<amd64|arm64>.deb   linux
 *   teleport-connect-<v>.<x86_64|aarch64>.rpm
 *   teleport-connect-<v>-<x64|arm64>.tar.gz
 *   teleport-connect-<v>-<x86_64|arm64>.AppImage
 * An unsuffixed macOS build is electron-builder's default architecture, x64.
 *
 * Side files are never downloads: checksums (.sha256, .sha512, .sig, .asc), electron-updater
 * block maps (.blockmap) and update manifests (latest*.yml). Manifests are still recognised
 * (`isUpdateManifest`) because an installer fetched right after one is an in-app update.
 */

export type Platform = 'windows' | 'macos' | 'linux';
export type DownloadKind = 'install' | 'update';

export interface Artifact {
  platform: Platform;
  arch: string;
  version: string;
  /** File name as published (decoded), e.g. "Teleport Connect-16.4.0.dmg". */
  artifact: string;
  /** `update` when the object only serves the in-app updater (macOS .zip). */
  kind: DownloadKind;
  /** Package format: exe, dmg, zip, deb, rpm, tar.gz, AppImage. */
  format: string;
}

// A semver with an optional pre-release (16.0.0-beta.1); an architecture token is never one.
const VERSION = String.raw`(\d+\.\d+\.\d+(?:-(?!(?:arm64|x64|x86_64|amd64|aarch64|universal|ia32|armv7l|mac)(?:[.-]|$))[0-9A-Za-z.]+?)?)`;
const MAC_ARCH = String.raw`(?:-(arm64|x64|universal))?`;

interface Rule {
  re: RegExp;
  platform: Platform;
  format: string;
  kind: DownloadKind;
  /** Architecture from the captured suffix (undefined when there is none). */
  arch: (suffix: string | undefined) => string;
}

const rules: Rule[] = [
  {
    re: new RegExp(String.raw`^Teleport Connect Setup-${VERSION}(?:-(arm64|x64|ia32))?\.exe$`, 'i'),
    platform: 'windows',
    format: 'exe',
    kind: 'install',
    arch: (s) => normalizeArch(s ?? 'x64'),
  },
  {
    re: new RegExp(String.raw`^Teleport Connect-${VERSION}${MAC_ARCH}-mac\.zip$`, 'i'),
    platform: 'macos',
    format: 'zip',
    kind: 'update',
    arch: (s) => normalizeArch(s ?? 'x64'),
  },
  {
    re: new RegExp(String.raw`^Teleport Connect-${VERSION}${MAC_ARCH}\.dmg$`, 'i'),
    platform: 'macos',
    format: 'dmg',
    kind: 'install',
    arch: (s) => normalizeArch(s ?? 'x64'),
  },
  {
    re: new RegExp(String.raw`^teleport-connect_${VERSION}_(amd64|arm64|x86_64|aarch64|i386|armhf)\.deb$`, 'i'),
    platform: 'linux',
    format: 'deb',
    kind: 'install',
    arch: (s) => normalizeArch(s!),
  },
  {
    re: new RegExp(String.raw`^teleport-connect-${VERSION}\.(x86_64|aarch64|arm64|i686|armv7hl)\.rpm$`, 'i'),
    platform: 'linux',
    format: 'rpm',
    kind: 'install',
    arch: (s) => normalizeArch(s!),
  },
  {
    re: new RegExp(String.raw`^teleport-connect-${VERSION}-(x64|arm64|amd64|x86_64|aarch64|armv7l)\.tar\.gz$`, 'i'),
    platform: 'linux',
    format: 'tar.gz',
    kind: 'install',
    arch: (s) => normalizeArch(s!),
  },
  {
    re: new RegExp(String.raw`^teleport-connect-${VERSION}-(x86_64|x64|arm64|aarch64|armv7l)\.AppImage$`, 'i'),
    platform: 'linux',
    format: 'AppImage',
    kind: 'install',
    arch: (s) => normalizeArch(s!),
  },
];

/** One name per architecture: x64 (amd64, x86_64), arm64 (aarch64), universal, x86, arm. */
export function normalizeArch(a: string): string {
  switch (a.toLowerCase()) {
    case 'amd64':
    case 'x86_64':
    case 'x64':
      return 'x64';
    case 'arm64':
    case 'aarch64':
      return 'arm64';
    case 'universal':
      return 'universal';
    case 'ia32':
    case 'i386':
    case 'i686':
      return 'x86';
    case 'armhf':
    case 'armv7hl':
    case 'armv7l':
      return 'arm';
    default:
      return a.toLowerCase();
  }
}

const SIDE_FILE = /\.(sha256|sha512|sha1|md5|sig|asc|blockmap)$/i;

/** Last path segment of a decoded URI stem. */
export function baseName(stem: string): string {
  const i = stem.lastIndexOf('/');
  return i >= 0 ? stem.slice(i + 1) : stem;
}

/** Classify a decoded URI stem; undefined when it is not a Teleport Connect artifact download. */
export function classifyArtifact(stem: string): Artifact | undefined {
  const name = baseName(stem);
  if (SIDE_FILE.test(name)) return undefined;
  for (const r of rules) {
    const m = r.re.exec(name);
    if (m) {
      return { platform: r.platform, arch: r.arch(m[2]), version: m[1]!, artifact: name, kind: r.kind, format: r.format };
    }
  }
  return undefined;
}

/** An electron-updater manifest (latest.yml, latest-mac.yml, latest-linux.yml, …). */
export function isUpdateManifest(stem: string): boolean {
  return /^latest[-\w]*\.ya?ml$/i.test(baseName(stem));
}

/** A checksum or block map of a Connect artifact (excluded, but counted in the summary). */
export function isConnectSideFile(stem: string): boolean {
  const name = baseName(stem);
  const m = SIDE_FILE.exec(name);
  if (!m) return false;
  return classifyArtifact(name.slice(0, m.index)) !== undefined;
}

/**
 * Decode a CloudFront URI stem. CloudFront URL-encodes the logged stem, so a request for
 * "Teleport%20Connect" can show up as "Teleport%2520Connect"; decoding repeats (at most three
 * times) while the text still holds percent escapes. Invalid escapes are left as they are.
 */
export function decodeField(s: string): string {
  let cur = s;
  for (let i = 0; i < 3 && cur.includes('%'); i++) {
    const next = safeDecode(cur);
    if (next === cur) break;
    cur = next;
  }
  return cur;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

/** Electron platform names (connect.os person property) ↔ download platforms. */
export const ELECTRON_TO_PLATFORM: Readonly<Record<string, Platform>> = {
  darwin: 'macos',
  win32: 'windows',
  linux: 'linux',
};

export const PLATFORM_TO_ELECTRON: Readonly<Record<Platform, string>> = {
  macos: 'darwin',
  windows: 'win32',
  linux: 'linux',
};

export const PLATFORMS: readonly Platform[] = ['macos', 'windows', 'linux'];

/** Map an OS name as Connect reports it (darwin/win32/linux, or already a platform) to a platform. */
export function platformOfOs(os: string | null | undefined): Platform | undefined {
  if (!os) return undefined;
  const k = os.toLowerCase();
  if (k in ELECTRON_TO_PLATFORM) return ELECTRON_TO_PLATFORM[k];
  if (k === 'macos' || k === 'mac' || k === 'osx') return 'macos';
  if (k === 'windows' || k === 'win') return 'windows';
  return undefined;
}
