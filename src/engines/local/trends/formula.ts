/**
 * Trends formulas (posthog/hogql_queries/utils/formula_ast.py): arithmetic between series
 * named A, B, C... in query order, evaluated per interval like Python would — `+ - * / % **`,
 * unary signs, numbers and parentheses; a division (or modulo) by zero gives 0.
 */
import { QueryValidationError } from '../../../errors.js';

type Node =
  | { t: 'num'; v: number }
  | { t: 'name'; v: string }
  | { t: 'neg' | 'pos'; a: Node }
  | { t: 'bin'; op: string; a: Node; b: Node };

class Parser {
  private i = 0;
  private readonly tokens: string[];
  constructor(
    readonly text: string,
    readonly where: string,
  ) {
    this.tokens = tokenize(text, where);
  }

  parse(): Node {
    if (this.tokens.length === 0) this.fail('the formula is empty');
    const n = this.additive();
    if (this.i < this.tokens.length) this.fail(`unexpected '${this.tokens[this.i]}'`);
    return n;
  }

  private fail(msg: string): never {
    throw new QueryValidationError(`${this.where}: ${msg} in formula '${this.text}'`, 'Formulas are arithmetic between series, like (A + B) / 2 or A * 100 / B.');
  }

  private peek(): string | undefined {
    return this.tokens[this.i];
  }

  private additive(): Node {
    let a = this.multiplicative();
    for (let op = this.peek(); op === '+' || op === '-'; op = this.peek()) {
      this.i++;
      a = { t: 'bin', op, a, b: this.multiplicative() };
    }
    return a;
  }

  private multiplicative(): Node {
    let a = this.unary();
    for (let op = this.peek(); op === '*' || op === '/' || op === '%' || op === '//'; op = this.peek()) {
      this.i++;
      a = { t: 'bin', op, a, b: this.unary() };
    }
    return a;
  }

  private unary(): Node {
    const op = this.peek();
    if (op === '-' || op === '+') {
      this.i++;
      return { t: op === '-' ? 'neg' : 'pos', a: this.unary() };
    }
    return this.power();
  }

  /** `**` binds tighter than a unary sign on its left and is right-associative. */
  private power(): Node {
    const a = this.atom();
    if (this.peek() === '**') {
      this.i++;
      return { t: 'bin', op: '**', a, b: this.unary() };
    }
    return a;
  }

  private atom(): Node {
    const tok = this.tokens[this.i++];
    if (tok === undefined) this.fail('unexpected end');
    if (tok === '(') {
      const n = this.additive();
      if (this.tokens[this.i++] !== ')') this.fail("missing ')'");
      return n;
    }
    if (/^[0-9.]/.test(tok)) {
      const v = Number(tok);
      if (!Number.isFinite(v)) this.fail(`bad number '${tok}'`);
      return { t: 'num', v };
    }
    if (/^[A-Za-z_]\w*$/.test(tok)) {
      if (this.peek() === '(') this.fail(`function calls like ${tok.toUpperCase()}() are not supported`);
      return { t: 'name', v: tok.toLowerCase() };
    }
    this.fail(`unexpected '${tok}'`);
  }
}

function tokenize(text: string, where: string): string[] {
  const out: string[] = [];
  const re = /\s*(\*\*|\/\/|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[A-Za-z_]\w*|[-+*/%()])/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new QueryValidationError(`${where}: unexpected '${text.slice(pos).trim()[0]}' in formula '${text}'`, 'Formulas are arithmetic between series, like (A + B) / 2.');
    out.push(m[1]!);
    pos = re.lastIndex;
  }
  return out;
}

function pyMod(a: number, b: number): number {
  return a - b * Math.floor(a / b);
}

function evaluate(n: Node, vars: Map<string, number>, where: string, text: string): number {
  switch (n.t) {
    case 'num':
      return n.v;
    case 'name': {
      const v = vars.get(n.v);
      if (v === undefined) {
        const available = [...vars.keys()].map((k) => k.toUpperCase());
        throw new QueryValidationError(
          `${where}: formula '${text}' references series ${n.v.toUpperCase()}, but only ${available.length} ${available.length === 1 ? 'series is' : 'series are'} defined (${available.join(', ') || 'none'})`,
        );
      }
      return v;
    }
    case 'neg':
      return -evaluate(n.a, vars, where, text);
    case 'pos':
      return evaluate(n.a, vars, where, text);
    case 'bin': {
      const a = evaluate(n.a, vars, where, text);
      const b = evaluate(n.b, vars, where, text);
      switch (n.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return b === 0 ? 0 : a / b;
        case '//':
          return b === 0 ? 0 : Math.floor(a / b);
        case '%':
          return b === 0 ? 0 : pyMod(a, b);
        default:
          return a ** b;
      }
    }
  }
}

/** A compiled formula: call with one array per series (A, B, ...) of equal length. */
export function compileFormula(text: string, where: string): (series: number[][]) => number[] {
  const ast = new Parser(text, where).parse();
  return (series) => {
    // FormulaAST zips the series: the result is as long as the shortest one
    const n = series.length ? Math.min(...series.map((s) => s.length)) : 0;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const vars = new Map<string, number>();
      series.forEach((s, k) => vars.set(String.fromCharCode(97 + k), s[i] ?? 0));
      out.push(evaluate(ast, vars, where, text));
    }
    return out;
  };
}

/** Natural, case-insensitive order (natsort's ns.IGNORECASE) of breakdown values. */
export function naturalCompare(a: string, b: string): number {
  const split = (s: string) => s.toLowerCase().match(/(\d+|\D+)/g) ?? [];
  const xa = split(a);
  const xb = split(b);
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const p = xa[i]!;
    const q = xb[i]!;
    const pn = /^\d/.test(p);
    const qn = /^\d/.test(q);
    if (pn && qn) {
      const d = Number(p) - Number(q);
      if (d !== 0) return d;
    } else if (pn !== qn) {
      return pn ? -1 : 1;
    } else if (p !== q) {
      return p < q ? -1 : 1;
    }
  }
  return xa.length - xb.length;
}
