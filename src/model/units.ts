// Units of model files: a parser for unit strings over a whitelisted grammar and a dimensional check of every
// expression (ODE right-hand sides against state unit per time unit, outputs against their declared unit,
// initial values and event assignments against the state's unit, both sides of sums, comparisons and min/max).
//
// Grammar: a product of factors joined by `*`, `/` or a space-free juxtaposition is not allowed; a factor is a
// symbol or a parenthesised unit, optionally raised to an integer power (`^2`, `^-1`); `1` is dimensionless.
// Symbols (case-sensitive): counts cell(s), IU, kIU, MIU, copies, molecules; mass kg, g, mg, ug, µg, ng, pg;
// amount mol, mmol, umol, µmol, nmol, pmol; volume L, dL, mL, uL, µL, mm3, cm3 (also mm^3, cm^3 through
// lengths); length m, cm, mm, um, µm; time s, min, h, day(s), week(s), month(s), year(s); dimensionless 1,
// fraction, dimensionless, % (0.01). An arbitrary unit of its own kind is written `<name> unit(s)`
// (`IL-2 units`, `drug units`, `exposure unit`): a base dimension of its own, named by <name>.
//
// A unit is a dimension vector (exponents of base dimensions) and a scale (log10 of the factor to the base
// units: mg is 1e-3 g, day is 86400 s). Exponents may be symbolic (a Hill function T^g / (T50^g + T^g)):
// each exponent, and the scale, is a linear form c + Σ k_i·s_i over exponent symbols s_i.
// Numbers in expressions are dimensionless, except that a bare number added to or compared with a term takes
// that term's unit (1 - b*T, T < 1) and 0 is a unit of anything. Conversion factors must be parameters with
// units (cellsPerMm3 1e6 cells/mm3), never bare numbers: that is the point of the check.
import type { MathNode } from 'mathjs';
import type { Issue } from '../errors.ts';
import { DAYS_PER_TIME_UNIT, type ModelSpec } from './schema.ts';
import { parseExpression, parseClockSymbol } from './expression.ts';

/** A linear form c + Σ k·s over exponent symbols. */
type Lin = Map<string, number>; // '' is the constant
/** Base dimension → exponent; '$scale' holds log10 of the factor. */
export type Unit = Map<string, Lin>;

const SCALE = '$scale';
const lin = (c: number): Lin => new Map([['', c]]);
const linAdd = (a: Lin, b: Lin, k = 1): Lin => {
  const out = new Map(a);
  for (const [s, v] of b) out.set(s, (out.get(s) ?? 0) + k * v);
  for (const [s, v] of out) if (Math.abs(v) < 1e-12) out.delete(s);
  return out;
};
const linScale = (a: Lin, k: number): Lin => linAdd(new Map(), a, k);
const linConst = (a: Lin): number | undefined => ([...a.keys()].every((s) => s === '') ? (a.get('') ?? 0) : undefined);

export const DIMENSIONLESS: Unit = new Map();

function base(dim: string, log10Scale = 0, power = 1): Unit {
  const u: Unit = new Map([[dim, lin(power)]]);
  if (log10Scale) u.set(SCALE, lin(log10Scale * power));
  return u;
}
function mul(a: Unit, b: Unit, k = 1): Unit {
  const out: Unit = new Map(a);
  for (const [d, e] of b) {
    const v = linAdd(out.get(d) ?? new Map(), e, k);
    if (v.size) out.set(d, v);
    else out.delete(d);
  }
  return out;
}
/** u^p for a linear-form exponent p; undefined when both are symbolic (not representable). */
function pow(u: Unit, p: Lin): Unit | undefined {
  const pc = linConst(p);
  const out: Unit = new Map();
  for (const [d, e] of u) {
    const ec = linConst(e);
    let v: Lin;
    if (pc !== undefined) v = linScale(e, pc);
    else if (ec !== undefined) v = linScale(p, ec);
    else return undefined;
    if (v.size) out.set(d, v);
  }
  return out;
}

const l10 = Math.log10;
const SECONDS_PER_DAY = 86400;
const SYMBOLS: Record<string, Unit> = {
  '1': DIMENSIONLESS,
  fraction: DIMENSIONLESS,
  dimensionless: DIMENSIONLESS,
  '%': base('$none', 0, 0).set(SCALE, lin(-2)),
  cell: base('cell'),
  cells: base('cell'),
  copies: base('copies'),
  molecules: base('molecule'),
  IU: base('IU'),
  kIU: base('IU', 3),
  MIU: base('IU', 6),
  kg: base('g', 3),
  g: base('g'),
  mg: base('g', -3),
  ug: base('g', -6),
  µg: base('g', -6),
  ng: base('g', -9),
  pg: base('g', -12),
  mol: base('mol'),
  mmol: base('mol', -3),
  umol: base('mol', -6),
  µmol: base('mol', -6),
  nmol: base('mol', -9),
  pmol: base('mol', -12),
  m: base('m'),
  cm: base('m', -2),
  mm: base('m', -3),
  um: base('m', -6),
  µm: base('m', -6),
  L: base('m', -1, 3),
  dL: mul(base('m', -1, 3), new Map([[SCALE, lin(-1)]])),
  mL: base('m', -2, 3),
  uL: base('m', -3, 3),
  µL: base('m', -3, 3),
  mm3: base('m', -3, 3),
  cm3: base('m', -2, 3),
  s: base('s'),
  min: base('s', l10(60)),
  h: base('s', l10(3600)),
  day: base('s', l10(SECONDS_PER_DAY)),
  days: base('s', l10(SECONDS_PER_DAY)),
  week: base('s', l10(7 * SECONDS_PER_DAY)),
  weeks: base('s', l10(7 * SECONDS_PER_DAY)),
  month: base('s', l10(DAYS_PER_TIME_UNIT.month * SECONDS_PER_DAY)),
  months: base('s', l10(DAYS_PER_TIME_UNIT.month * SECONDS_PER_DAY)),
  year: base('s', l10(DAYS_PER_TIME_UNIT.year * SECONDS_PER_DAY)),
  years: base('s', l10(DAYS_PER_TIME_UNIT.year * SECONDS_PER_DAY)),
};
SYMBOLS['%'].delete('$none');

export class UnitError extends Error {}

/** Parse a unit string (see the grammar above); throws UnitError naming the offending part. */
export function parseUnit(text: string): Unit {
  // Arbitrary units: "<name> unit(s)" becomes one token.
  const src = text.trim().replace(/([A-Za-z][A-Za-z0-9-]*) units?\b/g, (_m, name: string) => `@${name}`);
  let i = 0;
  const peek = () => src[i];
  const skip = () => {
    while (src[i] === ' ') i++;
  };
  const fail = (why: string): never => {
    throw new UnitError(`unit '${text}': ${why}`);
  };
  const factor = (): Unit => {
    skip();
    let u: Unit;
    if (peek() === '(') {
      i++;
      u = product();
      skip();
      if (peek() !== ')') fail("missing ')'");
      i++;
    } else {
      const m = /^(@[A-Za-z][A-Za-z0-9-]*|[A-Za-zµ%]+[0-9]?|1)/.exec(src.slice(i));
      if (!m) fail(`unexpected '${src.slice(i) || 'end'}'`);
      i += m![0].length;
      const sym = m![0];
      if (sym.startsWith('@')) u = base(`unit:${sym.slice(1)}`);
      else if (Object.hasOwn(SYMBOLS, sym)) u = SYMBOLS[sym];
      else u = fail(`unknown unit '${sym}' (known: ${Object.keys(SYMBOLS).join(', ')}, or '<name> units')`);
    }
    skip();
    if (peek() === '^') {
      i++;
      skip();
      const m = /^(\(-?\d+\)|-?\d+)/.exec(src.slice(i));
      if (!m) fail('an exponent must be an integer');
      i += m![0].length;
      u = pow(u, lin(Number(m![0].replace(/[()]/g, ''))))!;
    }
    return u;
  };
  const product = (): Unit => {
    let u = factor();
    for (;;) {
      skip();
      const c = peek();
      if (c !== '*' && c !== '/') return u;
      i++;
      u = mul(u, factor(), c === '*' ? 1 : -1);
    }
  };
  if (!src) fail('empty');
  const u = product();
  skip();
  if (i < src.length) fail(`unexpected '${src.slice(i)}'`);
  return u;
}

/** A readable form of a unit in base units (g, m, s, cell, ...), with its factor. */
export function formatUnit(u: Unit): string {
  const fmtLin = (l: Lin) => {
    const parts: string[] = [];
    for (const [s, v] of l)
      parts.push(s === '' ? String(+v.toPrecision(12)) : `${v === 1 ? '' : `${+v.toPrecision(12)}*`}${s}`);
    return parts.length === 1 && !parts[0].includes('*') && !/[a-z]/i.test(parts[0])
      ? parts[0]
      : `(${parts.join('+')})`;
  };
  const num: string[] = [];
  for (const [d, e] of u) {
    if (d === SCALE) continue;
    const name = d.startsWith('unit:') ? `${d.slice(5)} unit` : d;
    const c = linConst(e);
    num.push(c === 1 ? name : `${name}^${fmtLin(e)}`);
  }
  const sc = u.get(SCALE);
  const scale = sc
    ? linConst(sc) !== undefined
      ? `${+Math.pow(10, linConst(sc)!).toPrecision(6)} `
      : `10^${fmtLin(sc)} `
    : '';
  return num.length ? `${scale}${num.join('*')}`.trim() : scale ? `${scale.trim()} (dimensionless)` : 'dimensionless';
}

export function sameUnit(a: Unit, b: Unit): boolean {
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    const d = linAdd(a.get(k) ?? new Map(), b.get(k) ?? new Map(), -1);
    if (k === SCALE) {
      for (const v of d.values()) if (Math.abs(v) > 1e-9) return false;
    } else if (d.size) return false;
  }
  return true;
}

/** The inferred unit of a node: a unit, a bare number (adopts its partner's unit in sums), or unknown. */
type Inferred = { kind: 'unit'; u: Unit } | { kind: 'number'; value: number };
const U = (u: Unit): Inferred => ({ kind: 'unit', u });
const asUnit = (x: Inferred): Unit => (x.kind === 'unit' ? x.u : DIMENSIONLESS);

export interface UnitContext {
  /** Unit of a name (state, parameter, assignment, t, clock), or undefined when the name is unknown. */
  unitOf: (name: string) => Unit | undefined;
  /** Report a problem; `term` is the offending subexpression. */
  problem: (message: string) => void;
}

const TRANSCENDENTAL = new Set([
  'exp',
  'log',
  'ln',
  'log10',
  'log2',
  'log1p',
  'expm1',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'sinh',
  'cosh',
  'tanh',
  'sech',
  'csch',
  'coth',
  'sec',
  'csc',
  'cot',
]);

/** Infer the unit of an expression's syntax tree, reporting inconsistencies through ctx.problem. */
export function inferUnit(node: MathNode, ctx: UnitContext, show: (u: Unit) => string = formatUnit): Inferred {
  const text = (n: MathNode) => n.toString();
  const go = (n: MathNode): Inferred => {
    switch (n.type) {
      case 'ConstantNode':
        return { kind: 'number', value: (n as unknown as { value: number }).value };
      case 'SymbolNode': {
        const name = (n as unknown as { name: string }).name;
        const u = ctx.unitOf(name);
        if (!u) return U(DIMENSIONLESS);
        return U(u);
      }
      case 'ParenthesisNode':
        return go((n as unknown as { content: MathNode }).content);
      case 'ConditionalNode': {
        const c = n as unknown as { condition: MathNode; trueExpr: MathNode; falseExpr: MathNode };
        go(c.condition);
        return unify(c.trueExpr, c.falseExpr, go(c.trueExpr), go(c.falseExpr), 'the branches of ?:');
      }
      case 'OperatorNode': {
        const op = n as unknown as { fn: string; args: MathNode[] };
        if (op.args.length === 1) {
          const a = go(op.args[0]);
          if (op.fn === 'not') return U(DIMENSIONLESS);
          return a.kind === 'number' ? { kind: 'number', value: op.fn === 'unaryMinus' ? -a.value : a.value } : a;
        }
        const [an, bn] = op.args;
        if (op.fn === 'pow') return power(an, go(an), bn);
        const a = go(an);
        const b = go(bn);
        switch (op.fn) {
          case 'add':
          case 'subtract':
            return unify(an, bn, a, b, op.fn === 'add' ? 'a sum' : 'a difference');
          case 'multiply':
            return a.kind === 'number' && b.kind === 'number'
              ? { kind: 'number', value: a.value * b.value }
              : U(mul(asUnit(a), asUnit(b)));
          case 'divide':
            return a.kind === 'number' && b.kind === 'number'
              ? { kind: 'number', value: a.value / b.value }
              : U(mul(asUnit(a), asUnit(b), -1));
          case 'and':
          case 'or':
            return U(DIMENSIONLESS);
          default: // comparisons
            unify(an, bn, a, b, 'a comparison');
            return U(DIMENSIONLESS);
        }
      }
      case 'FunctionNode': {
        const f = n as unknown as { fn: { name: string }; args: MathNode[] };
        const name = f.fn.name;
        const args = f.args.map(go);
        if (TRANSCENDENTAL.has(name)) {
          args.forEach((a, k) => {
            if (a.kind === 'unit' && !sameUnit(a.u, DIMENSIONLESS))
              ctx.problem(`the argument of ${name}() must be dimensionless: '${text(f.args[k])}' is ${show(a.u)}`);
          });
          return U(DIMENSIONLESS);
        }
        switch (name) {
          case 'pow':
            return power(f.args[0], args[0], f.args[1]);
          case 'sqrt':
            return args[0].kind === 'number' ? args[0] : U(pow(args[0].u, lin(0.5))!);
          case 'cbrt':
            return args[0].kind === 'number' ? args[0] : U(pow(args[0].u, lin(1 / 3))!);
          case 'abs':
          case 'floor':
          case 'ceil':
            return args[0];
          case 'min':
          case 'max': {
            let acc = args[0];
            for (let k = 1; k < args.length; k++) acc = unify(f.args[0], f.args[k], acc, args[k], `${name}()`);
            return acc;
          }
          case 'atan2':
            unify(f.args[0], f.args[1], args[0], args[1], 'atan2()');
            return U(DIMENSIONLESS);
          default: // step, sign: a dimensionless indicator
            return U(DIMENSIONLESS);
        }
      }
      default:
        return U(DIMENSIONLESS);
    }
  };
  const unify = (an: MathNode, bn: MathNode, a: Inferred, b: Inferred, where: string): Inferred => {
    if (a.kind === 'number') return b;
    if (b.kind === 'number') return a;
    if (!sameUnit(a.u, b.u))
      ctx.problem(`in ${where}, '${text(bn)}' is ${show(b.u)} but '${text(an)}' is ${show(a.u)}`);
    return a;
  };
  const power = (bn: MathNode, b: Inferred, en: MathNode): Inferred => {
    const e = go(en);
    if (e.kind === 'unit' && !sameUnit(e.u, DIMENSIONLESS))
      ctx.problem(`an exponent must be dimensionless: '${text(en)}' is ${show(e.u)}`);
    if (b.kind === 'number')
      return e.kind === 'number' ? { kind: 'number', value: Math.pow(b.value, e.value) } : U(DIMENSIONLESS);
    if (sameUnit(b.u, DIMENSIONLESS)) return U(DIMENSIONLESS);
    // A constant exponent, or a symbolic one: a parameter name (Hill coefficients), possibly times a number.
    const exponent = linearExponent(en);
    if (!exponent) {
      ctx.problem(`'${text(bn)}' (${show(b.u)}) is raised to '${text(en)}', which is neither a number nor a parameter`);
      return U(DIMENSIONLESS);
    }
    const r = pow(b.u, exponent);
    if (!r) {
      ctx.problem(`'${text(bn)}' (${show(b.u)}) already has a symbolic exponent and is raised to '${text(en)}'`);
      return U(DIMENSIONLESS);
    }
    return U(r);
  };
  return go(node);
}

/** An exponent as a linear form: a number, a symbol, or products/quotients of a symbol with numbers. */
function linearExponent(n: MathNode): Lin | undefined {
  switch (n.type) {
    case 'ConstantNode':
      return lin((n as unknown as { value: number }).value);
    case 'SymbolNode':
      return new Map([[(n as unknown as { name: string }).name, 1]]);
    case 'ParenthesisNode':
      return linearExponent((n as unknown as { content: MathNode }).content);
    case 'OperatorNode': {
      const op = n as unknown as { fn: string; args: MathNode[] };
      if (op.args.length === 1 && op.fn === 'unaryMinus') {
        const a = linearExponent(op.args[0]);
        return a && linScale(a, -1);
      }
      if (op.args.length !== 2) return undefined;
      const a = linearExponent(op.args[0]);
      const b = linearExponent(op.args[1]);
      if (!a || !b) return undefined;
      const ac = linConst(a);
      const bc = linConst(b);
      if (op.fn === 'add') return linAdd(a, b);
      if (op.fn === 'subtract') return linAdd(a, b, -1);
      if (op.fn === 'multiply')
        return ac !== undefined ? linScale(b, ac) : bc !== undefined ? linScale(a, bc) : undefined;
      if (op.fn === 'divide') return bc !== undefined && bc !== 0 ? linScale(a, 1 / bc) : undefined;
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * True when every parameter and state of a raw model file declares its unit (a model that leaves units to
 * their default is not checked dimensionally: it has not said what its numbers are; its declared unit
 * strings must still parse). Every bundled model declares all of them.
 */
export function unitsFullyDeclared(input: unknown): boolean {
  if (!input || typeof input !== 'object') return false;
  const m = input as Record<string, unknown>;
  const all = (o: unknown) =>
    !!o &&
    typeof o === 'object' &&
    Object.values(o as Record<string, unknown>).every(
      (v) => !!v && typeof v === 'object' && typeof (v as { unit?: unknown }).unit === 'string',
    );
  return all(m.parameters ?? {}) && all(m.states);
}

/** Issues for unit strings that do not parse (every unit of every model, declared or default). */
export function unitSyntaxIssues(spec: ModelSpec): Issue[] {
  const issues: Issue[] = [];
  const at = (path: (string | number)[], text: string) => {
    try {
      parseUnit(text);
    } catch (e) {
      if (!(e instanceof UnitError)) throw e;
      issues.push({ path, message: e.message });
    }
  };
  for (const [name, p] of Object.entries(spec.parameters)) at(['parameters', name, 'unit'], p.unit);
  for (const [name, s] of Object.entries(spec.states)) at(['states', name, 'unit'], s.unit);
  for (const [name, o] of Object.entries(spec.outputs))
    if (typeof o === 'object' && o.unit !== undefined) at(['outputs', name, 'unit'], o.unit);
  return issues;
}

/**
 * Check a model dimensionally; returns issues with JSON paths (empty when consistent). Unit strings that do
 * not parse are issues at their own paths.
 */
export function checkModelUnits(spec: ModelSpec): Issue[] {
  if (!spec.timeUnit) return [];
  const issues: Issue[] = [];
  const parsed = new Map<string, Unit>();
  const parseAt = (path: (string | number)[], text: string): Unit | undefined => {
    try {
      return parseUnit(text);
    } catch (e) {
      if (!(e instanceof UnitError)) throw e;
      issues.push({ path, message: e.message });
      return undefined;
    }
  };
  for (const [name, p] of Object.entries(spec.parameters)) {
    const u = parseAt(['parameters', name, 'unit'], p.unit);
    if (u) parsed.set(name, u);
  }
  for (const [name, s] of Object.entries(spec.states)) {
    const u = parseAt(['states', name, 'unit'], s.unit);
    if (u) parsed.set(name, u);
  }
  const outputUnits = new Map<string, Unit>();
  for (const [name, o] of Object.entries(spec.outputs)) {
    if (typeof o === 'object' && o.unit !== undefined) {
      const u = parseAt(['outputs', name, 'unit'], o.unit);
      if (u) outputUnits.set(name, u);
    }
  }
  if (issues.length) return issues;
  const time = SYMBOLS[spec.timeUnit];
  // Messages show a unit as the model writes it when it declares one equal to it, else in base units.
  const declared: [string, Unit][] = [];
  const declare = (text: string) => {
    if (!declared.some(([t]) => t === text)) {
      try {
        declared.push([text, parseUnit(text)]);
      } catch {
        /* reported above */
      }
    }
  };
  [
    ...Object.values(spec.parameters).map((p) => p.unit),
    ...Object.values(spec.states).map((s) => s.unit),
    ...Object.values(spec.outputs).flatMap((o) => (typeof o === 'object' && o.unit ? [o.unit] : [])),
  ].forEach(declare);
  for (const s of Object.values(spec.states)) declare(`${s.unit}/${spec.timeUnit}`);
  const show = (u: Unit) => declared.find(([, d]) => sameUnit(d, u))?.[0] ?? formatUnit(u);
  const unitOf = (name: string): Unit | undefined => {
    if (name === 't' || parseClockSymbol(name)) return time;
    if (name === 'pi' || name === 'e') return DIMENSIONLESS;
    return parsed.get(name);
  };
  const infer = (path: (string | number)[], source: string): Inferred | undefined => {
    let node: MathNode;
    try {
      node = parseExpression(source).node;
    } catch {
      return undefined; // the compiler reports syntax
    }
    return inferUnit(node, { unitOf, problem: (message) => issues.push({ path, message }) }, show);
  };
  const expect = (path: (string | number)[], source: string, want: Unit, what: string) => {
    const got = infer(path, source);
    if (got && got.kind === 'unit' && !sameUnit(got.u, want)) {
      issues.push({
        path,
        message: `'${source.length > 80 ? source.slice(0, 77) + '...' : source}' is ${show(got.u)}, expected ${what}`,
      });
    }
  };
  // Assignments have no declared unit: theirs is inferred, in order.
  for (const [name, source] of Object.entries(spec.assignments)) {
    const got = infer(['assignments', name], source);
    parsed.set(name, got ? asUnit(got) : DIMENSIONLESS);
  }
  for (const [name, source] of Object.entries(spec.odes)) {
    const s = spec.states[name];
    const su = parsed.get(name);
    if (!s || !su) continue;
    expect(['odes', name], source, mul(su, time, -1), `${s.unit} per ${spec.timeUnit}`);
    checkTerms(['odes', name], source, mul(su, time, -1), `${s.unit}/${spec.timeUnit}`, unitOf, issues, show);
  }
  for (const [name, s] of Object.entries(spec.states)) {
    if (typeof s.initial === 'string') expect(['states', name, 'initial'], s.initial, parsed.get(name)!, s.unit);
  }
  for (const [name, o] of Object.entries(spec.outputs)) {
    const want = outputUnits.get(name);
    if (want) expect(['outputs', name], typeof o === 'string' ? o : o.expr, want, (o as { unit: string }).unit);
  }
  spec.events.forEach((ev, k) => {
    infer(['events', k, 'when'], ev.when);
    for (const [target, v] of Object.entries(ev.set)) {
      const su = parsed.get(target);
      if (typeof v === 'string' && su) expect(['events', k, 'set', target], v, su, spec.states[target]?.unit ?? '');
    }
  });
  // One message per path and text.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = JSON.stringify(i);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Name the offending top-level term of an ODE: `term 'V' is L, expected mg/h`. */
function checkTerms(
  path: (string | number)[],
  source: string,
  want: Unit,
  wantText: string,
  unitOf: UnitContext['unitOf'],
  issues: Issue[],
  show: (u: Unit) => string,
) {
  let node: MathNode;
  try {
    node = parseExpression(source).node;
  } catch {
    return;
  }
  const terms: MathNode[] = [];
  const split = (n: MathNode) => {
    const op = n as unknown as { type: string; fn: string; args: MathNode[]; content?: MathNode };
    if (n.type === 'OperatorNode' && (op.fn === 'add' || op.fn === 'subtract') && op.args.length === 2) {
      split(op.args[0]);
      split(op.args[1]);
    } else if (n.type === 'OperatorNode' && op.fn === 'unaryMinus') split(op.args[0]);
    else terms.push(n);
  };
  split(node);
  if (terms.length < 2) return;
  for (const t of terms) {
    const got = inferUnit(t, { unitOf, problem: () => {} });
    if (got.kind === 'unit' && !sameUnit(got.u, want))
      issues.push({ path, message: `term '${t.toString()}' is ${show(got.u)}, expected ${wantText}` });
  }
}
