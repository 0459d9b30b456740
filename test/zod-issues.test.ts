// One formatter for every schema failure: a config file, a definition file, a checkpoint and a
// query body all report "<path>: expected X, got Y".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { firstIssue, zodIssuesMessage } from '../src/zod-issues.js';
import { readConfigFile } from '../src/config/posthog.js';
import { readCheckpoint } from '../src/replay/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'dm-zod-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('zod issues', () => {
  const schema = z.object({ host: z.string().optional(), steps: z.array(z.string()) }).strict();
  const first = (v: unknown) => {
    const r = schema.safeParse(v, { reportInput: true });
    if (r.success) throw new Error('expected a failure');
    return firstIssue(r.error);
  };

  it('names the JSON path, what was expected and what was there', () => {
    expect(first({ steps: [1] })).toBe('steps[0]: expected string, got number');
    expect(first({})).toBe('steps: expected array, but it is missing');
    expect(first(5)).toBe('(root): expected object, got number');
    expect(first({ steps: [], bogus: 1 })).toBe("(root): unknown key 'bogus'");
    const r = schema.safeParse({ steps: [1] }, { reportInput: true });
    expect(zodIssuesMessage(r.error!.issues, 'query')).toEqual(['query.steps[0]: expected string, got number']);
  });

  it('is what a bad config file and a bad checkpoint report', () => {
    expect(() => readConfigFile(file('c.json', '{"host": 3}'))).toThrow(/c\.json: host: expected string, got number/);
    expect(() => readConfigFile(file('k.json', '{"hots": "x"}'))).toThrow(/k\.json: unknown key\(s\) 'hots'/);
    expect(() => readCheckpoint(file('cp.json', '{"version": "x"}'))).toThrow(/cp\.json: not a replay checkpoint: \S+: expected/);
  });
});
