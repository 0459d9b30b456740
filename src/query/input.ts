/**
 * Reading PostHog query JSON from a file or stdin, with file:line:column for syntax errors.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { PostHogQuery } from '../engines/types.js';
import { parseQuery } from './parse.js';

function lineCol(text: string, pos: number): { line: number; col: number } {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return { line, col };
}

/** JSON.parse with "<name>:<line>:<col>: invalid JSON: ..." errors. */
export function parseJsonText(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const pos = /position (\d+)/.exec(msg);
    const lc = /line (\d+) column (\d+)/.exec(msg);
    let where = name;
    if (lc) where = `${name}:${lc[1]}:${lc[2]}`;
    else if (pos) {
      const { line, col } = lineCol(text, Number(pos[1]));
      where = `${name}:${line}:${col}`;
    } else if (text.trim() === '') {
      throw new UsageError(`${name}: is empty, expected a PostHog query JSON object`);
    } else if (/end of JSON input/i.test(msg)) {
      const { line, col } = lineCol(text, text.trimEnd().length);
      where = `${name}:${line}:${col}`;
    }
    throw new UsageError(`${where}: invalid JSON: ${msg.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Read and validate one query from a file path or "-" (stdin). */
export async function readQueryFile(path: string, stdin: () => Promise<string> = readStdin): Promise<PostHogQuery> {
  const name = path === '-' ? 'stdin' : path;
  let text: string;
  if (path === '-') text = await stdin();
  else {
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a JSON file' : (e as Error).message}`);
    }
  }
  return parseQuery(parseJsonText(text, name), name);
}
