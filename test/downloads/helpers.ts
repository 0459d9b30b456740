import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CLOUDFRONT_FIELDS } from '../../src/downloads/logs.js';

export type Req = Partial<Record<string, string>> & { date: string; time: string; 'c-ip': string; 'cs-uri-stem': string };

let n = 0;
/** A CloudFront log (header + lines) with the given field order; unspecified fields are '-'. */
export function logText(reqs: Req[], fields: readonly string[] = CLOUDFRONT_FIELDS): string {
  const lines = reqs.map((r) => {
    const full: Record<string, string | undefined> = {
      'cs-method': 'GET',
      'sc-status': '200',
      'sc-bytes': '1000',
      'cs(User-Agent)': 'Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)',
      'x-edge-request-id': `req${++n}==`,
      ...r,
    };
    return fields.map((f) => full[f] ?? '-').join('\t');
  });
  return `#Version: 1.0\n#Fields: ${fields.join(' ')}\n${lines.join('\n')}\n`;
}

const made: string[] = [];
// Registered when a test file imports these helpers: its temporary directories go afterwards.
afterAll(() => {
  for (const x of made.splice(0)) rmSync(x, { recursive: true, force: true });
});

/** A temporary directory, removed after the importing test file's tests. */
export function tempDir(prefix = 'dm-downloads-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

export function writeLog(dir: string, name: string, text: string, gzip = false): string {
  const p = join(dir, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, gzip ? gzipSync(Buffer.from(text)) : text);
  return p;
}

export const STEM_DMG = '/download/Teleport%20Connect-16.4.0.dmg';
