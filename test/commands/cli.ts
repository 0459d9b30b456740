// Helpers to run the compiled CLI (built by test/global-setup.ts) in tests.
//
// `run` calls the CLI's own `main(argv)` from dist/ inside the test process, with stdout, stderr,
// the environment, the working directory and the exit code set for the run and put back after
// it: the same code path as the binary, without a Node start and a module graph load per call
// (0.3–0.9 CPU-s each, most of the suite's time when every call spawned). `runProcess` spawns
// the real binary: use it where the process itself is the subject (stdin, signals, exit paths,
// servers and long-running commands).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const BIN = join(ROOT, 'bin', 'discover-metrics');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** in-process runs only: stdout and stderr are terminals this many columns wide */
  terminalColumns?: number;
}

/** Run the binary in a child process (asynchronously: a server the test runs keeps answering). */
export function runProcess(args: string[], opts: RunOptions & { onSpawn?: (pid: number) => void } = {}): Promise<RunResult & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? -1, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(opts.input ?? '');
    if (opts.onSpawn && child.pid) opts.onSpawn(child.pid);
  });
}

type Main = (argv: string[]) => Promise<number>;
let mainFn: Main | undefined;
// Node's own loader (require of an ES module, Node ≥ 20.19), not the test runner's: dist/ runs as
// the binary runs it (its worker threads and lazy imports resolve against dist/), untransformed.
function loadMain(): Main {
  mainFn ??= (createRequire(import.meta.url)(join(ROOT, 'dist', 'cli', 'program.js')) as { main: Main }).main;
  return mainFn;
}

// Commands whose subject is the process (servers, signals, resumable long runs) always spawn.
const PROCESS_COMMANDS = new Set(['sandbox', 'replay', 'smoke']);
let queue: Promise<unknown> = Promise.resolve();

/**
 * Run the CLI in this process: `main(argv)` of dist/cli/program.js with stdout/stderr captured,
 * `NO_COLOR=1` plus `opts.env` in the environment and `opts.cwd` (default: the repository) as the
 * working directory, all restored afterwards. Runs one at a time. Standard input and the commands
 * in PROCESS_COMMANDS go to a child process instead.
 */
export function run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.input !== undefined || args.some((a) => PROCESS_COMMANDS.has(a))) {
    if (opts.terminalColumns !== undefined) throw new Error('run: terminalColumns is for in-process runs only');
    return runProcess(args, opts);
  }
  const next = queue.then(() => runHere(args, opts));
  queue = next.catch(() => undefined);
  return next;
}

async function runHere(args: string[], opts: RunOptions): Promise<RunResult> {
  const main = loadMain();
  const env = { ...process.env };
  const cwd = process.cwd();
  const exitCode = process.exitCode;
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  const out: string[] = [];
  const err: string[] = [];
  const capture = (sink: string[]) =>
    function write(chunk: string | Uint8Array, enc?: BufferEncoding | ((e?: Error | null) => void), cb?: (e?: Error | null) => void): boolean {
      sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof enc === 'string' ? enc : 'utf8'));
      const done = typeof enc === 'function' ? enc : cb;
      if (done) queueMicrotask(() => done(null));
      return true;
    } as typeof process.stdout.write;
  Object.assign(process.env, { NO_COLOR: '1', ...opts.env });
  process.chdir(opts.cwd ?? ROOT);
  process.exitCode = undefined;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  const restoreTerminal = opts.terminalColumns === undefined ? () => {} : asTerminal(opts.terminalColumns);
  try {
    const code = await main([process.execPath, BIN, ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    restoreTerminal();
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    process.exitCode = exitCode;
    process.chdir(cwd);
    for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
    Object.assign(process.env, env);
  }
}

/** Makes stdout and stderr look like terminals of `columns` columns (isTTY, columns); returns the undo. */
function asTerminal(columns: number): () => void {
  const undo: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    for (const [key, value] of [
      ['isTTY', true],
      ['columns', columns],
    ] as const) {
      const own = Object.getOwnPropertyDescriptor(stream, key);
      Object.defineProperty(stream, key, { value, configurable: true, writable: true });
      undo.push(() => (own ? Object.defineProperty(stream, key, own) : delete (stream as unknown as Record<string, unknown>)[key]));
    }
  }
  return () => undo.reverse().forEach((f) => f());
}

export function tmpDir(prefix = 'dm-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function json<T = any>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`);
  }
}
