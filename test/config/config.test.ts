import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLoopbackHost, maskSecret, requireQueryConnection, resolveConnection } from '../../src/config/posthog.js';
import { InputError, UsageError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'dm-config-'));
const noDefault = { XDG_CONFIG_HOME: join(dir, 'nothing-here') };

describe('PostHog connection config', () => {
  it('takes flags over env over --config file', () => {
    const f = join(dir, 'c.json');
    writeFileSync(f, JSON.stringify({ host: 'https://file', project_id: 7, personalApiKey: 'phx_fromfile1234' }));
    const env = { ...noDefault, POSTHOG_HOST: 'https://env', POSTHOG_PERSONAL_API_KEY: 'phx_fromenv12345' };
    expect(resolveConnection({ config: f }, env)).toEqual({ host: 'https://env', projectId: '7', personalApiKey: 'phx_fromenv12345', projectApiKey: undefined });
    expect(resolveConnection({ config: f, host: 'https://flag' }, env).host).toBe('https://flag');
  });

  it('reads the default config file from the user config dir', () => {
    const base = mkdtempSync(join(tmpdir(), 'dm-xdg-'));
    mkdirSync(join(base, 'discover-metrics'));
    writeFileSync(join(base, 'discover-metrics', 'config.json'), JSON.stringify({ projectId: '99' }));
    expect(resolveConnection({}, { XDG_CONFIG_HOME: base }).projectId).toBe('99');
  });

  it('names the file and key in config errors, without echoing values', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ host: 'x', personalApiKey: 'phx_secretvalue99', prjectId: 1 }));
    const e = (() => {
      try {
        resolveConnection({ config: f }, noDefault);
      } catch (err) {
        return err as InputError;
      }
    })()!;
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain(f);
    expect(e.message).toContain("'prjectId'");
    expect(e.message).not.toContain('phx_secretvalue99');
    const g = join(dir, 'notjson.json');
    writeFileSync(g, '{nope');
    expect(() => resolveConnection({ config: g }, noDefault)).toThrow(/not valid JSON/);
    expect(() => resolveConnection({ config: join(dir, 'missing.json') }, noDefault)).toThrow(/config file not found/);
  });

  it('lists every missing setting for --engine posthog', () => {
    expect(() => requireQueryConnection({ host: 'https://us.posthog.com' })).toThrow(UsageError);
    expect(() => requireQueryConnection({ host: 'https://us.posthog.com' })).toThrow(/--project-id.*--personal-api-key/);
    expect(() => requireQueryConnection({ host: 'nope', projectId: '1', personalApiKey: 'k' })).toThrow(/--host: 'nope' is not a URL/);
    expect(requireQueryConnection({ host: 'https://eu.posthog.com/', projectId: '1', personalApiKey: 'k' }).host).toBe('https://eu.posthog.com');
  });

  it('masks secrets and recognises loopback hosts', () => {
    expect(maskSecret('phc_abcdefghijklmnop')).toBe('phc_…mnop');
    expect(maskSecret('phx_short')).toBe('phx_…');
    expect(maskSecret(undefined)).toBe('(none)');
    expect(isLoopbackHost('http://127.0.0.1:8010')).toBe(true);
    expect(isLoopbackHost('http://localhost')).toBe(true);
    expect(isLoopbackHost('http://[::1]:80')).toBe(true);
    expect(isLoopbackHost('https://us.i.posthog.com')).toBe(false);
    expect(isLoopbackHost('http://127.0.0.1.evil.com')).toBe(false);
  });
});
