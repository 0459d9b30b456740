/**
 * The layout rules of docs/ARCHITECTURE.md, checked on the source: the import graph of src/ has
 * no cycle, only src/cli and src/commands sit on top (nothing below imports them, and commands
 * never reach back into cli), and no source file grows past 600 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const MAX_LINES = 600;

/** Folders of test/ with no room of their own in src/ (docs/ARCHITECTURE.md, "Tests"). */
const TEST_ONLY_FOLDERS = new Set(['peer', 'install']);

interface Edge {
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Relative imports of one file (static, re-exports and dynamic `import()`), as src-relative paths. */
export function importsOf(file: string, text: string): Edge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push({ to: relative(SRC, target), typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteral(arg)) add(arg.text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const files = sourceFiles(SRC).map((f) => relative(SRC, f));
const graph = new Map<string, Edge[]>(files.map((f) => [f, importsOf(join(SRC, f), readFileSync(join(SRC, f), 'utf8'))]));

/** The room of a src-relative path: its first directory, or '.' for files directly in src/. */
const room = (f: string) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : '.');

/** Cycles among the given edges (each reported once, as the path around it). */
export function findCycles(g: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const walk = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of g.get(n) ?? []) {
      if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) walk(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of g.keys()) if (!state.has(n)) walk(n);
  return cycles;
}

describe('architecture', () => {
  it('test/ mirrors src/: every test folder is a room of src/ (or one of the few test-only ones)', () => {
    const folders = (dir: string, base = ''): string[] =>
      readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) => [join(base, e.name), ...folders(join(dir, e.name), join(base, e.name))]);
    const srcRooms = new Set(folders(SRC));
    const strays = folders(join(ROOT, 'test')).filter((f) => !srcRooms.has(f) && !TEST_ONLY_FOLDERS.has(f.split('/')[0]!));
    expect(strays).toEqual([]);
  });

  it('every relative import resolves to a source file', () => {
    const missing = [...graph].flatMap(([f, es]) => es.filter((e) => !graph.has(e.to)).map((e) => `${f} -> ${e.to}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle (type-only imports included)', () => {
    const g = new Map([...graph].map(([f, es]) => [f, es.map((e) => e.to)]));
    expect(findCycles(g).map((c) => c.join(' -> '))).toEqual([]);
  });

  it('lower layers never import src/cli or src/commands', () => {
    const bad = [...graph].flatMap(([f, es]) =>
      room(f) === 'cli' || room(f) === 'commands' ? [] : es.filter((e) => room(e.to) === 'cli' || room(e.to) === 'commands').map((e) => `${f} -> ${e.to}`),
    );
    expect(bad).toEqual([]);
  });

  it('commands never import src/cli (cli wires commands, not the other way round)', () => {
    const bad = [...graph].flatMap(([f, es]) => (room(f) === 'commands' ? es.filter((e) => room(e.to) === 'cli').map((e) => `${f} -> ${e.to}`) : []));
    expect(bad).toEqual([]);
  });

  it(`no source file is over ${MAX_LINES} lines`, () => {
    const long = files.filter((f) => readFileSync(join(SRC, f), 'utf8').split('\n').length - 1 > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('the checks see what they should (a cycle, a type-only import, a dynamic import)', () => {
    expect(findCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c', 'a']]);
    const edges = importsOf(join(SRC, 'x/y.ts'), `import type { A } from '../cli/a.js';\nimport { type B } from './b.js';\nexport * from '../c.js';\nconst m = await import('../commands/d.js');`);
    expect(edges).toEqual([
      { to: 'cli/a.ts', typeOnly: true },
      { to: 'x/b.ts', typeOnly: true },
      { to: 'c.ts', typeOnly: false },
      { to: 'commands/d.ts', typeOnly: false },
    ]);
  });
});
