/**
 * Friendly platform names for Connect's raw values: the OS as Node reports it (darwin, win32,
 * linux) and the OS version (Darwin kernel, Windows build, Linux kernel release).
 */

/** macOS releases by Darwin kernel major version (Apple's release history). */
const MACOS: Record<number, string> = { 19: '10.15 Catalina', 20: '11 Big Sur', 21: '12 Monterey', 22: '13 Ventura', 23: '14 Sonoma', 24: '15 Sequoia', 25: '26 Tahoe' };

/** Windows releases by their first build number, newest first (Microsoft's release information). */
const WINDOWS: [number, string][] = [
  [26100, '11 24H2'],
  [22631, '11 23H2'],
  [22621, '11 22H2'],
  [22000, '11 21H2'],
  [19045, '10 22H2'],
  [19044, '10 21H2'],
  [19043, '10 21H1'],
  [19042, '10 20H2'],
  [19041, '10 2004'],
  [10240, '10'],
];

const OS: Record<string, string> = { darwin: 'macOS', macos: 'macOS', win32: 'Windows', windows: 'Windows', linux: 'Linux' };

/** darwin → macOS, win32 → Windows, linux → Linux (the download platforms too); other values as they are. */
export function platformName(os: string): string {
  return OS[os.toLowerCase()] ?? os;
}

/** 23.6.0 → macOS 14 Sonoma (23.6.0); 10.0.22631 → Windows 11 23H2 (10.0.22631); 6.8.0-48-generic → Linux 6.8 (6.8.0-48-generic). */
export function osVersionName(version: string): string {
  const win = /^10\.0\.(\d+)/.exec(version);
  if (win) {
    const build = Number(win[1]);
    const release = WINDOWS.find(([first]) => build >= first);
    return release ? `Windows ${release[1]} (${version})` : version;
  }
  const darwin = /^(\d+)\.\d+(\.\d+)?$/.exec(version);
  if (darwin && MACOS[Number(darwin[1])]) return `macOS ${MACOS[Number(darwin[1])]} (${version})`;
  const linux = /^(\d+\.\d+)(\.\d+)?[-.+]/.exec(version);
  if (linux) return `Linux ${linux[1]} (${version})`;
  return version;
}

/** A value of a platform dimension (os, os_version) as people read it; other dimensions' values unchanged. */
export function platformValue(dimension: string, value: string): string {
  if (dimension === 'os') return platformName(value);
  if (dimension === 'os_version') return osVersionName(value);
  return value;
}
