/**
 * Error types and the exit-code contract shared by every command:
 *   0 ok, 1 a finding or a failed check, 2 bad input or usage.
 * Anything else is an internal error (exit 70) and prints a stack trace with DISCOVER_METRICS_DEBUG=stack.
 */
export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/** Base class: every error the CLI expects carries an exit code and a one-line message. */
export class DmError extends Error {
  readonly exitCode: number;
  /** Optional extra lines (hints, lists of valid values) printed after the message. */
  readonly hint?: string;
  constructor(message: string, exitCode: number, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

/** Bad input: a wrong option value, a file that does not parse, an invalid query. Exit 2. */
export class UsageError extends DmError {
  constructor(message: string, hint?: string) {
    super(message, EXIT_USAGE, hint);
  }
}

/** Input data problem with a location (file:line, JSON path). Exit 2. */
export class InputError extends UsageError {
  readonly where: string;
  constructor(where: string, message: string, hint?: string) {
    super(`${where}: ${message}`, hint);
    this.where = where;
  }
}

/** A check that ran and failed (smoke mismatch, strict mode findings). Exit 1. */
export class FindingError extends DmError {
  constructor(message: string, hint?: string) {
    super(message, EXIT_FINDING, hint);
  }
}

/** PostHog-style query validation error (same messages as PostHog's validation rules). Exit 2. */
export class QueryValidationError extends UsageError {}

/** The file an option names cannot be written: `--out: cannot write PATH: EACCES` (exit 2). */
export function cannotWrite(option: string, path: string, e: unknown): UsageError {
  return new UsageError(`${option}: cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
}

/** HTTP failure talking to PostHog (or the sandbox). Never includes credentials. */
export class HttpError extends DmError {
  readonly status: number;
  readonly detail?: string;
  constructor(status: number, message: string, detail?: string) {
    super(message, status >= 400 && status < 500 ? EXIT_USAGE : EXIT_FINDING);
    this.status = status;
    this.detail = detail;
  }
}

/** Levenshtein-based suggestion for "did you mean" messages. */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const a = input.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(a, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  return bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * Every candidate the input is the start of (whole, or of a part after '-', '_', '.' or ':'):
 * `rds` → rds-postgres, rds-mysql; otherwise the closest by edit distance (suggest).
 */
export function suggestions(input: string, candidates: readonly string[], max = 6): string[] {
  const a = input.trim().toLowerCase();
  if (a.length >= 2) {
    const prefixed = candidates.filter((c) => {
      const l = c.toLowerCase();
      return l.startsWith(a) || l.split(/[-_.:]/).some((part) => part.startsWith(a));
    });
    if (prefixed.length > 0) return prefixed.slice(0, max);
  }
  const s = suggest(input, candidates);
  return s === undefined ? [] : [s];
}

/** "'rds-postgres' or 'rds-mysql'" for a did-you-mean message; undefined when nothing is close. */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const s = suggestions(input, candidates).map((x) => `'${x}'`);
  if (s.length === 0) return undefined;
  return s.length === 1 ? s[0] : `${s.slice(0, -1).join(', ')} or ${s[s.length - 1]}`;
}

export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/**
 * DuckDB's messages for a damaged database file (a block whose checksum does not match, a file
 * cut short, a header that does not parse).
 */
export const CORRUPT_STORE_RE = /Corrupt database file|checksum .* does not match|Could not read enough bytes|file is too small|database file .* (is )?corrupt|failed to read database header/i;

export const CORRUPT_STORE_HINT =
  'It cannot be read. Move it aside (or delete it) and load your event files again (loading is idempotent), or restore a copy made while no discover-metrics was running.';

/**
 * Redact anything that looks like a PostHog key (phc_, phx_, phs_), also inside a longer word
 * (a mis-paste such as `xphx_…`) and URL-encoded (`phx%5F…`, as a server may reflect it), and
 * every `extra` secret as given or URL-encoded.
 */
export function redactSecrets(text: string, extra: readonly (string | undefined)[] = []): string {
  let out = text
    // a key on its own, or glued to other text; PostHog's keys are long, so inside a word only long ones count
    .replace(/\bph([cxs])(?:_|%5[fF])[A-Za-z0-9_%-]{4,}|ph([cxs])(?:_|%5[fF])[A-Za-z0-9_%-]{16,}/g, (_m, a: string, b: string) => `ph${a ?? b}_…redacted`);
  for (const s of extra) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('…redacted');
  }
  return out;
}
