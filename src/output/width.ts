/** The width terminal output is fitted to, and the text helpers that keep lines within it. */
import stringWidth from 'string-width';

/** Narrowest width fitted to: below it, tables keep their narrowest layout and let the terminal wrap. */
export const MIN_WIDTH = 40;

/**
 * The columns of the terminal stdout writes to (COLUMNS overrides what the terminal reports);
 * undefined when stdout is not a terminal (a pipe or a file gets the full layout).
 */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!stream.isTTY) return undefined;
  const fromEnv = Number(env.COLUMNS);
  const w = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : stream.columns || 80;
  return Math.max(MIN_WIDTH, w);
}

/** Columns a string takes on a terminal (colour codes take none). */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

/** `s` cut to `width` columns with an ellipsis (plain text). */
export function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = '';
  for (const ch of s) {
    if (displayWidth(out + ch) > width - 1) break;
    out += ch;
  }
  return out + '…';
}

/**
 * Plain text broken at spaces into lines of at most `width` columns (a word longer than a line is
 * cut); continuation lines get `indent`. Hand-written: the few lines it takes beat a dependency.
 */
export function wrapText(text: string, width: number | undefined, indent = ''): string[] {
  if (!width || displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (displayWidth(candidate) <= width || line.trim() === '') {
      line = candidate;
      continue;
    }
    lines.push(line);
    line = indent + word;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => truncate(l, width));
}
