// The expression language of model files: mathjs parses, a whitelist walks the syntax tree, and only
// whitelisted nodes are turned into JavaScript source. This file is a security boundary: user text
// never reaches `new Function` except as numbers and fixed tokens chosen here.
import type { MathNode } from 'mathjs';
import { math } from './mathjs-slice.ts';

/** Functions a model may call, and the JavaScript each becomes. */
const FUNCTIONS: Record<string, { js: string; minArgs: number; maxArgs: number }> = {
  exp: { js: 'Math.exp', minArgs: 1, maxArgs: 1 },
  log: { js: '$log', minArgs: 1, maxArgs: 2 },
  ln: { js: 'Math.log', minArgs: 1, maxArgs: 1 },
  log10: { js: 'Math.log10', minArgs: 1, maxArgs: 1 },
  log2: { js: 'Math.log2', minArgs: 1, maxArgs: 1 },
  log1p: { js: 'Math.log1p', minArgs: 1, maxArgs: 1 },
  expm1: { js: 'Math.expm1', minArgs: 1, maxArgs: 1 },
  sqrt: { js: 'Math.sqrt', minArgs: 1, maxArgs: 1 },
  cbrt: { js: 'Math.cbrt', minArgs: 1, maxArgs: 1 },
  abs: { js: 'Math.abs', minArgs: 1, maxArgs: 1 },
  sign: { js: 'Math.sign', minArgs: 1, maxArgs: 1 },
  min: { js: 'Math.min', minArgs: 1, maxArgs: 32 },
  max: { js: 'Math.max', minArgs: 1, maxArgs: 32 },
  pow: { js: 'Math.pow', minArgs: 2, maxArgs: 2 },
  sin: { js: 'Math.sin', minArgs: 1, maxArgs: 1 },
  cos: { js: 'Math.cos', minArgs: 1, maxArgs: 1 },
  tan: { js: 'Math.tan', minArgs: 1, maxArgs: 1 },
  asin: { js: 'Math.asin', minArgs: 1, maxArgs: 1 },
  acos: { js: 'Math.acos', minArgs: 1, maxArgs: 1 },
  atan: { js: 'Math.atan', minArgs: 1, maxArgs: 1 },
  atan2: { js: 'Math.atan2', minArgs: 2, maxArgs: 2 },
  sinh: { js: 'Math.sinh', minArgs: 1, maxArgs: 1 },
  cosh: { js: 'Math.cosh', minArgs: 1, maxArgs: 1 },
  tanh: { js: 'Math.tanh', minArgs: 1, maxArgs: 1 },
  floor: { js: 'Math.floor', minArgs: 1, maxArgs: 1 },
  ceil: { js: 'Math.ceil', minArgs: 1, maxArgs: 1 },
  // Produced by symbolic differentiation (d tanh = sech^2, ...); usable in models too.
  sech: { js: '$sech', minArgs: 1, maxArgs: 1 },
  csch: { js: '$csch', minArgs: 1, maxArgs: 1 },
  coth: { js: '$coth', minArgs: 1, maxArgs: 1 },
  sec: { js: '$sec', minArgs: 1, maxArgs: 1 },
  csc: { js: '$csc', minArgs: 1, maxArgs: 1 },
  cot: { js: '$cot', minArgs: 1, maxArgs: 1 },
  /** Unit step: 1 for x > 0, else 0 (0 at 0, so that max(x,0)/x style guards are not needed). */
  step: { js: '$step', minArgs: 1, maxArgs: 1 },
};

/**
 * Dose clocks: tfd(X) is the time since the first dose into state X and tld(X) the time since the last one
 * (0 before X's first dose; a dose at t counts from t on). They read the scenario's dose records, not the
 * state, so they are not derivatives' business: the parser turns each call into a clock symbol `tfd$X`
 * (a name no model can declare: `$` is not allowed in names) that the compiler resolves to a hidden slot of
 * the parameter vector, kept up to date by the simulation (src/simulate.ts).
 */
export const DOSE_CLOCKS = ['tfd', 'tld'] as const;
export type DoseClockKind = (typeof DOSE_CLOCKS)[number];
export const clockSymbol = (kind: DoseClockKind, state: string) => `${kind}$${state}`;
/** [kind, state] of a clock symbol, or undefined. */
export function parseClockSymbol(name: string): [DoseClockKind, string] | undefined {
  const m = /^(tfd|tld)\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(name);
  return m ? [m[1] as DoseClockKind, m[2]] : undefined;
}

/** Helpers the generated code may reference (passed in as arguments of the generated function). */
export const RUNTIME_HELPERS = {
  $log: (x: number, b?: number) => (b === undefined ? Math.log(x) : Math.log(x) / Math.log(b)),
  $step: (x: number) => (x > 0 ? 1 : 0),
  $sech: (x: number) => 1 / Math.cosh(x),
  $csch: (x: number) => 1 / Math.sinh(x),
  $coth: (x: number) => 1 / Math.tanh(x),
  $sec: (x: number) => 1 / Math.cos(x),
  $csc: (x: number) => 1 / Math.sin(x),
  $cot: (x: number) => 1 / Math.tan(x),
};
export const RUNTIME_HELPER_NAMES = Object.keys(RUNTIME_HELPERS);
export const RUNTIME_HELPER_VALUES = Object.values(RUNTIME_HELPERS);

const BINARY: Record<string, string> = {
  add: '+',
  subtract: '-',
  multiply: '*',
  divide: '/',
  smaller: '<',
  larger: '>',
  smallerEq: '<=',
  largerEq: '>=',
  equal: '===',
  unequal: '!==',
  and: '&&',
  or: '||',
};
const COMPARISONS = new Set(['smaller', 'larger', 'smallerEq', 'largerEq']);

/** Names reserved by the language: a model cannot use them for its own quantities. */
export const RESERVED_NAMES = new Set([
  ...Object.keys(FUNCTIONS),
  ...DOSE_CLOCKS,
  't',
  'pi',
  'true',
  'false',
  'and',
  'or',
  'not',
  'xor',
  'mod',
  'to',
  'in',
  'Infinity',
  'NaN',
  'undefined',
  'null',
  'constructor',
  'prototype',
  '__proto__',
  'import',
  'evaluate',
]);

/** Deepest syntax tree accepted: keeps the recursive compiler and differentiator far from the stack limit. */
export const MAX_DEPTH = 300;

export class ExpressionError extends Error {
  readonly position: number | undefined;
  constructor(message: string, position?: number) {
    super(position === undefined ? message : `${message} (at character ${position + 1})`);
    this.position = position;
  }
}

/** How a symbol resolves to JavaScript: a state y[i], a parameter p[j], a local variable, `t`, a constant. */
export type Resolver = (name: string) => string | undefined;

export interface ParsedExpression {
  source: string;
  node: MathNode;
  /** Every symbol the expression reads (not function names). */
  symbols: Set<string>;
}

/** Where the text of a node sits in its source, best effort (mathjs nodes carry no positions). */
function locate(source: string, node: MathNode): number | undefined {
  const candidates = [node.toString(), (node as { name?: string }).name ?? ''];
  for (const c of candidates) {
    if (!c) continue;
    const at = source.indexOf(c);
    if (at >= 0) return at;
  }
  return undefined;
}

function describe(node: MathNode): string {
  const s = node.toString();
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** Parse and check against the whitelist; throws ExpressionError naming the offending text. */
export function parseExpression(source: string): ParsedExpression {
  let node: MathNode;
  try {
    node = math.parse(source);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    const m = /char (\d+)/.exec(msg);
    throw new ExpressionError(`syntax error: ${msg.replace(/\s*\(char \d+\)/, '')}`, m ? Number(m[1]) - 1 : undefined);
  }
  const symbols = new Set<string>();
  let depth = 0;
  const check = (n: MathNode): void => {
    const reject = (why: string): never => {
      throw new ExpressionError(`${why}: '${describe(n)}'`, locate(source, n));
    };
    if (++depth > MAX_DEPTH)
      throw new ExpressionError(`expression is nested too deeply (more than ${MAX_DEPTH} levels)`);
    try {
      checkNode(n, reject);
    } finally {
      depth--;
    }
  };
  const checkNode = (n: MathNode, reject: (why: string) => never): void => {
    switch (n.type) {
      case 'ConstantNode': {
        const v = (n as unknown as { value: unknown }).value;
        if (typeof v !== 'number')
          reject(typeof v === 'string' ? 'strings are not allowed' : 'only numbers are allowed as constants');
        if (!Number.isFinite(v as number)) reject('non-finite constant');
        return;
      }
      case 'SymbolNode': {
        const name = (n as unknown as { name: string }).name;
        if (name.includes('$')) reject("'$' is not allowed in names");
        symbols.add(name);
        return;
      }
      case 'ParenthesisNode':
        return check((n as unknown as { content: MathNode }).content);
      case 'OperatorNode': {
        const op = n as unknown as { fn: string; args: MathNode[] };
        if (op.args.length === 1) {
          if (op.fn !== 'unaryMinus' && op.fn !== 'unaryPlus' && op.fn !== 'not')
            reject(`operator '${op.fn}' is not allowed`);
        } else if (op.args.length === 2) {
          if (!(op.fn in BINARY) && op.fn !== 'pow') reject(`operator '${op.fn}' is not allowed`);
        } else reject('operator with unexpected arity');
        op.args.forEach(check);
        return;
      }
      case 'ConditionalNode': {
        const c = n as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
        check(c.condition);
        check(c.trueExpr);
        check(c.falseExpr);
        return;
      }
      case 'FunctionNode': {
        const f = n as unknown as { fn: MathNode; args: MathNode[] };
        if (f.fn.type !== 'SymbolNode') reject('only calls of named functions are allowed');
        const name = (f.fn as unknown as { name: string }).name;
        if ((DOSE_CLOCKS as readonly string[]).includes(name)) {
          if (f.args.length !== 1 || f.args[0].type !== 'SymbolNode')
            reject(`${name}() takes one state name, e.g. ${name}(central)`);
          const arg = (f.args[0] as unknown as { name: string }).name;
          if (arg.includes('$')) reject("'$' is not allowed in names");
          symbols.add(clockSymbol(name as DoseClockKind, arg));
          return;
        }
        const spec = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
        if (!spec) reject(`unknown function '${name}'`);
        if (f.args.length < spec!.minArgs || f.args.length > spec!.maxArgs) {
          reject(
            `function '${name}' takes ${spec!.minArgs === spec!.maxArgs ? spec!.minArgs : `${spec!.minArgs} to ${spec!.maxArgs}`} argument(s)`,
          );
        }
        f.args.forEach(check);
        return;
      }
      case 'AssignmentNode':
      case 'FunctionAssignmentNode':
        return reject('assignments and function definitions are not allowed');
      case 'AccessorNode':
      case 'IndexNode':
        return reject('property and index access are not allowed');
      case 'ArrayNode':
      case 'ObjectNode':
      case 'RangeNode':
        return reject('arrays, matrices, objects and ranges are not allowed');
      case 'BlockNode':
        return reject('multiple statements are not allowed');
      case 'RelationalNode':
        return reject('chained comparisons are not allowed (write a < b and b < c)');
      default:
        return reject(`'${n.type}' is not allowed`);
    }
  };
  check(node);
  // Dose clock calls become clock symbols (see DOSE_CLOCKS): plain symbols for emission and differentiation.
  if ([...symbols].some((s) => s.includes('$'))) {
    node = node.transform((n) => {
      if (n.type !== 'FunctionNode') return n;
      const f = n as unknown as { fn: { name: string }; args: { name: string }[] };
      return (DOSE_CLOCKS as readonly string[]).includes(f.fn.name)
        ? new math.SymbolNode(clockSymbol(f.fn.name as DoseClockKind, f.args[0].name))
        : n;
    });
  }
  return { source, node, symbols };
}

function formatNumber(v: number): string {
  // Shortest round-trip form; parenthesised so that -1 ^ 2 and friends keep their meaning.
  return v < 0 || Object.is(v, -0) ? `(${String(v)})` : String(v);
}

/** Emit JavaScript for a whitelisted node; every symbol must resolve, else ExpressionError. */
export function emit(
  node: MathNode,
  resolve: Resolver,
  source = '',
  hook?: (n: MathNode) => string | undefined,
): string {
  const go = (n: MathNode): string => {
    if (hook) {
      const js = hook(n);
      if (js !== undefined) return js;
    }
    switch (n.type) {
      case 'ConstantNode':
        return formatNumber((n as unknown as { value: number }).value);
      case 'SymbolNode': {
        const name = (n as unknown as { name: string }).name;
        const js = resolve(name);
        if (js === undefined)
          throw new ExpressionError(`unknown name '${name}'`, source ? locate(source, n) : undefined);
        return js;
      }
      case 'ParenthesisNode':
        return go((n as unknown as { content: MathNode }).content);
      case 'OperatorNode': {
        const op = n as unknown as { fn: string; args: MathNode[] };
        if (op.args.length === 1) {
          const a = go(op.args[0]);
          return op.fn === 'unaryMinus' ? `(-${a})` : op.fn === 'not' ? `(!${a} ? 1 : 0)` : `(+${a})`;
        }
        const a = go(op.args[0]);
        const b = go(op.args[1]);
        if (op.fn === 'pow') return `Math.pow(${a}, ${b})`;
        const js = BINARY[op.fn];
        if (js === undefined) throw new ExpressionError(`operator '${op.fn}' is not allowed`);
        // Comparisons and logic yield 1/0 so that they can be used in arithmetic.
        if (COMPARISONS.has(op.fn) || op.fn === 'equal' || op.fn === 'unequal') return `(${a} ${js} ${b} ? 1 : 0)`;
        if (op.fn === 'and' || op.fn === 'or') return `((${a} !== 0) ${js} (${b} !== 0) ? 1 : 0)`;
        return `(${a} ${js} ${b})`;
      }
      case 'ConditionalNode': {
        const c = n as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
        return `((${go(c.condition)}) !== 0 ? ${go(c.trueExpr)} : ${go(c.falseExpr)})`;
      }
      case 'FunctionNode': {
        const f = n as unknown as { fn: { name: string }; args: MathNode[] };
        const spec = FUNCTIONS[f.fn.name];
        if (!spec) throw new ExpressionError(`unknown function '${f.fn.name}'`);
        return `${spec.js}(${f.args.map(go).join(', ')})`;
      }
      default:
        throw new ExpressionError(`'${n.type}' is not allowed`);
    }
  };
  return go(node);
}

/**
 * Symbolic partial derivative d(node)/d(name), other symbols held constant. Returns null when mathjs
 * cannot differentiate the expression (min, max, comparisons, ...): callers fall back to finite differences.
 */
export function partialDerivative(node: MathNode, name: string): MathNode | null {
  try {
    const d = math.derivative(node, name, { simplify: false }) as MathNode;
    return d;
  } catch {
    return null;
  }
}

/** True when a node is the constant zero (after mathjs's own simplification of a derivative). */
export function isZero(node: MathNode): boolean {
  return node.type === 'ConstantNode' && (node as unknown as { value: unknown }).value === 0;
}

/** Simplify a small derivative expression; large ones are left alone (simplify is slow on them). */
export function simplifyIfSmall(node: MathNode): MathNode {
  if (node.toString().length > 400) return node;
  try {
    return math.simplify(node) as MathNode;
  } catch {
    return node;
  }
}

/**
 * The names a node reads (function names excluded), or null as soon as one is not in `allowed`:
 * used to find subexpressions that depend on parameters only.
 */
export function readsOnly(node: MathNode, allowed: (name: string) => boolean): boolean {
  const go = (n: MathNode): boolean => {
    switch (n.type) {
      case 'ConstantNode':
        return true;
      case 'SymbolNode':
        return allowed((n as unknown as { name: string }).name);
      case 'ParenthesisNode':
        return go((n as unknown as { content: MathNode }).content);
      case 'OperatorNode':
        return (n as unknown as { args: MathNode[] }).args.every(go);
      case 'FunctionNode':
        return (n as unknown as { args: MathNode[] }).args.every(go);
      case 'ConditionalNode': {
        const c = n as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
        return go(c.condition) && go(c.trueExpr) && go(c.falseExpr);
      }
      default:
        return false;
    }
  };
  return go(node);
}
