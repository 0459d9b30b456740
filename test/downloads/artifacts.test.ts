import { describe, expect, it } from 'vitest';
import { classifyArtifact, decodeField, isConnectSideFile, isUpdateManifest, platformOfOs } from '../../src/downloads/artifacts.js';

describe('classifyArtifact', () => {
  const cases: [string, Record<string, string> | undefined][] = [
    ['Teleport Connect Setup-16.4.0.exe', { platform: 'windows', arch: 'x64', version: '16.4.0', kind: 'install', format: 'exe' }],
    ['Teleport Connect-16.4.0.dmg', { platform: 'macos', arch: 'x64', version: '16.4.0', kind: 'install', format: 'dmg' }],
    ['Teleport Connect-16.4.0-arm64.dmg', { platform: 'macos', arch: 'arm64', version: '16.4.0', kind: 'install' }],
    ['Teleport Connect-17.0.0-beta.1-universal.dmg', { platform: 'macos', arch: 'universal', version: '17.0.0-beta.1' }],
    ['Teleport Connect-16.4.0-mac.zip', { platform: 'macos', arch: 'x64', version: '16.4.0', kind: 'update', format: 'zip' }],
    ['Teleport Connect-16.4.0-arm64-mac.zip', { platform: 'macos', arch: 'arm64', kind: 'update' }],
    ['teleport-connect_16.4.0_amd64.deb', { platform: 'linux', arch: 'x64', format: 'deb', kind: 'install' }],
    ['teleport-connect_16.4.0_arm64.deb', { platform: 'linux', arch: 'arm64' }],
    ['teleport-connect-16.4.0.x86_64.rpm', { platform: 'linux', arch: 'x64', format: 'rpm' }],
    ['teleport-connect-16.4.0.aarch64.rpm', { platform: 'linux', arch: 'arm64' }],
    ['teleport-connect-16.4.0-x64.tar.gz', { platform: 'linux', arch: 'x64', format: 'tar.gz', version: '16.4.0' }],
    ['teleport-connect-16.4.0-arm64.tar.gz', { platform: 'linux', arch: 'arm64' }],
    ['Teleport Connect-16.4.0.dmg.sha256', undefined],
    ['Teleport Connect-16.4.0-mac.zip.blockmap', undefined],
    ['latest-mac.yml', undefined],
    ['teleport-v16.4.0-linux-amd64-bin.tar.gz', undefined],
    ['tsh-16.4.0.pkg', undefined],
  ];
  for (const [name, want] of cases) {
    it(name, () => {
      const got = classifyArtifact(`/download/${name}`);
      if (want === undefined) expect(got).toBeUndefined();
      else expect(got).toMatchObject({ ...want, artifact: name });
    });
  }
  it('recognises side files and manifests', () => {
    expect(isConnectSideFile('/x/Teleport Connect-16.4.0.dmg.sha256')).toBe(true);
    expect(isConnectSideFile('/x/teleport-v16.tar.gz.sha256')).toBe(false);
    expect(isUpdateManifest('/connect/latest-mac.yml')).toBe(true);
    expect(isUpdateManifest('/connect/latest.yml')).toBe(true);
  });
});

describe('decodeField', () => {
  it('decodes single and double encoded spaces', () => {
    expect(decodeField('/Teleport%20Connect-1.0.0.dmg')).toBe('/Teleport Connect-1.0.0.dmg');
    expect(decodeField('/Teleport%2520Connect-1.0.0.dmg')).toBe('/Teleport Connect-1.0.0.dmg');
    expect(decodeField('/Teleport%252520Connect-1.0.0.dmg')).toBe('/Teleport Connect-1.0.0.dmg');
  });
  it('leaves invalid escapes alone', () => {
    expect(decodeField('a%ZZb%20c')).toBe('a%ZZb c');
  });
});

describe('platformOfOs', () => {
  it('maps Electron platforms', () => {
    expect(platformOfOs('darwin')).toBe('macos');
    expect(platformOfOs('win32')).toBe('windows');
    expect(platformOfOs('linux')).toBe('linux');
    expect(platformOfOs('plan9')).toBeUndefined();
  });
});
