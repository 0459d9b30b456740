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

/**
 * Offset of the first JSON syntax error (Node's messages do not always carry a position).
 * A minimal scanner: returns -1 when the text is valid.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    } else if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    } else if (ch === '"') str();
    else {
      const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
      if (!m) fail();
      i += m![0].length;
    }
  };
  const str = () => {
    i++;
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') i += 2;
      else if (ch < ' ') fail();
      else i++;
    }
    fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (e) {
    if (typeof e === 'number') return e;
    throw e;
  }
}

/** JSON.parse with "<name>:<line>:<col>: invalid JSON: ..." errors. */
export function parseJsonText(text: string, name: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (text.trim() === '') throw new UsageError(`${name}: is empty, expected a PostHog query JSON object`);
    const off = jsonErrorOffset(text);
    const { line, col } = lineCol(text, off < 0 ? text.length : Math.min(off, text.length));
    const near = off >= 0 && off < text.length ? `unexpected ${JSON.stringify(text[off])}` : 'unexpected end of input';
    throw new UsageError(`${name}:${line}:${col}: invalid JSON: ${near}`, msg.length < 200 ? `(${msg})` : undefined);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Read and validate the queries in a file path or "-" (stdin): one query (`{"kind": …}` or a
 * request body `{"query": …}`), or a list of them (what --print-query prints for a report that
 * sends several).
 */
export async function readQueryFile(path: string, stdin: () => Promise<string> = readStdin): Promise<PostHogQuery[]> {
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
  const json = parseJsonText(text, name);
  if (Array.isArray(json)) {
    if (json.length === 0) throw new UsageError(`${name}: the list holds no query`);
    return json.map((q, i) => parseQuery(q, `${name}[${i}]`));
  }
  return [parseQuery(json, name)];
}
