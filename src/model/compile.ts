// Model file → CompiledModel: validates names and cross-references (every problem with its JSON path),
// then generates plain JavaScript functions once per model (right-hand side, outputs, Jacobian, parameter
// sensitivities, events) over Float64Array, so that the solver's hot loop never interprets.
import type { MathNode } from 'mathjs';
import { ModelSpec, type ModelSpecInput, MODEL_LIMITS, NAME_RE, MAX_NAME_LENGTH, NON_NEGATIVE_UNITS } from './schema.ts';
import { InputError, fromZodIssues, type Issue } from '../errors.ts';
import {
  parseExpression, emit, partialDerivative, readsOnly, ExpressionError, RESERVED_NAMES,
  RUNTIME_HELPER_NAMES, RUNTIME_HELPER_VALUES, type ParsedExpression,
} from './expression.ts';

export type RhsFn = (t: number, y: Float64Array, p: Float64Array, dydt: Float64Array) => void;
export type OutputFn = (t: number, y: Float64Array, p: Float64Array, out: Float64Array) => void;
export type MatrixFn = (t: number, y: Float64Array, p: Float64Array, M: Float64Array) => void;

export interface CompiledEvent {
  name: string;
  /** Root function: the event fires when g goes from <= 0 to > 0. */
  g: (t: number, y: Float64Array, p: Float64Array) => number;
  /** State indices it sets and how: values computed from the state just before the event. */
  targets: number[];
  values: (t: number, y: Float64Array, p: Float64Array, out: Float64Array) => void;
  when: string;
}

export interface CompiledModel {
  spec: ModelSpec;
  id: string;
  stateNames: string[];
  paramNames: string[];
  outputNames: string[];
  stateIndex: Map<string, number>;
  paramIndex: Map<string, number>;
  defaultParams: Float64Array;
  /** Initial state for parameter vector p (initial values may be expressions of parameters). */
  initial: (p: Float64Array) => Float64Array;
  rhs: RhsFn;
  /** The right-hand side with a parameter vector bound: parameter-only subexpressions are computed once, at binding (bind again after changing p). */
  bindRhs: (p: Float64Array) => (t: number, y: Float64Array, dydt: Float64Array) => void;
  outputs: OutputFn;
  /** Analytic Jacobian df/dy (row-major n×n), or null when an expression cannot be differentiated. */
  jacobian: MatrixFn | null;
  /** Analytic df/dp (row-major n×np), or null. */
  paramJacobian: MatrixFn | null;
  events: CompiledEvent[];
  /** Covariates, in declaration order; their values follow the parameters in p (p[covariateIndex.get(name)]). */
  covariateNames: string[];
  covariateIndex: Map<string, number>;
  /** Dose modifiers per dosed state index: functions of p (parameters and covariates). */
  doseModifiers: Map<number, DoseModifiers>;
  nonNegative: Uint8Array;
  /** Per-state absolute tolerance from the model file (NaN where none is given). */
  stateAtol: Float64Array;
  /** The right-hand side does not read t. */
  autonomous: boolean;
  /** The generated source, for inspection and tests. */
  source: { rhs: string; boundRhs: string; outputs: string; jacobian: string | null; paramJacobian: string | null };
}

/** A dosed state's modifiers, compiled: each a function of the parameter-and-covariate vector. */
export interface DoseModifiers {
  bioavailability?: (p: Float64Array) => number;
  lag?: (p: Float64Array) => number;
  rate?: (p: Float64Array) => number;
  duration?: (p: Float64Array) => number;
}

const CONSTANTS: Record<string, string> = { pi: 'Math.PI', e: 'Math.E' };

function makeFunction<T>(args: string[], body: string): T {
  // The body is generated from whitelisted syntax trees only (see expression.ts).
  const factory = new Function(...RUNTIME_HELPER_NAMES, `"use strict"; return function (${args.join(', ')}) {\n${body}\n};`);
  return factory(...RUNTIME_HELPER_VALUES) as T;
}

/** Validate a model file (zod shape + names + references) and compile it. Throws InputError with paths. */
export function compileModel(input: unknown): CompiledModel {
  const parsed = ModelSpec.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const spec = parsed.data;
  const issues: Issue[] = [];

  const stateNames = Object.keys(spec.states);
  const paramNames = Object.keys(spec.parameters);
  const assignNames = Object.keys(spec.assignments);
  const outputNames = Object.keys(spec.outputs);
  const covariateNames = Object.keys(spec.covariates);

  // Sizes.
  const sizeChecks: [string, number, number][] = [
    ['parameters', paramNames.length, MODEL_LIMITS.parameters],
    ['states', stateNames.length, MODEL_LIMITS.states],
    ['assignments', assignNames.length, MODEL_LIMITS.assignments],
    ['outputs', outputNames.length, MODEL_LIMITS.outputs],
  ];
  for (const [field, count, max] of sizeChecks) {
    if (count > max) issues.push({ path: [field], message: `too many entries (${count}; at most ${max})` });
  }
  if (stateNames.length === 0) issues.push({ path: ['states'], message: 'a model needs at least one state' });
  if (issues.length) throw new InputError(issues);

  // Names: well-formed, not reserved, unique across kinds.
  const kindOf = new Map<string, string>();
  const declare = (field: string, name: string) => {
    if (!NAME_RE.test(name) || name.length > MAX_NAME_LENGTH) {
      issues.push({ path: [field, name], message: `'${name}' is not a valid name (letters, digits, _; not starting with a digit; at most ${MAX_NAME_LENGTH})` });
    } else if (RESERVED_NAMES.has(name)) {
      issues.push({ path: [field, name], message: `'${name}' is reserved by the expression language` });
    } else if (kindOf.has(name)) {
      issues.push({ path: [field, name], message: `duplicate name '${name}' (already declared in ${kindOf.get(name)})` });
    } else kindOf.set(name, field);
  };
  stateNames.forEach((n) => declare('states', n));
  paramNames.forEach((n) => declare('parameters', n));
  assignNames.forEach((n) => declare('assignments', n));
  outputNames.forEach((n) => declare('outputs', n));
  covariateNames.forEach((n) => declare('covariates', n));

  for (const s of stateNames) if (!(s in spec.odes)) issues.push({ path: ['odes'], message: `state '${s}' has no ODE` });
  for (const s of Object.keys(spec.odes)) {
    if (!(s in spec.states)) issues.push({ path: ['odes', s], message: `ODE for unknown state '${s}'` });
  }
  for (const s of Object.keys(spec.dosing)) {
    if (!Object.hasOwn(spec.states, s)) issues.push({ path: ['dosing', s], message: `dose modifiers for unknown state '${s}' (states: ${stateNames.join(', ')})` });
  }
  for (const [name, p] of Object.entries(spec.parameters)) {
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) issues.push({ path: ['parameters', name, 'min'], message: 'min is greater than max' });
    if (p.scale === 'log' && p.value <= 0) issues.push({ path: ['parameters', name, 'scale'], message: 'log scale needs a positive value' });
  }
  if (issues.length) throw new InputError(issues);

  const stateIndex = new Map(stateNames.map((n, i) => [n, i]));
  const paramIndex = new Map(paramNames.map((n, i) => [n, i]));
  const assignIndex = new Map(assignNames.map((n, i) => [n, i]));
  // Covariates are read like parameters: their values follow the parameters in p.
  const covariateIndex = new Map(covariateNames.map((n, j) => [n, paramNames.length + j]));
  const pIndex = new Map([...paramIndex, ...covariateIndex]);

  // Parse every expression against the whitelist.
  const parseAt = (path: (string | number)[], source: string): ParsedExpression | null => {
    try {
      return parseExpression(source);
    } catch (e) {
      issues.push({ path, message: (e as Error).message });
      return null;
    }
  };
  const assignParsed = assignNames.map((n) => parseAt(['assignments', n], spec.assignments[n]));
  const odeParsed = stateNames.map((n) => parseAt(['odes', n], spec.odes[n] ?? '0'));
  const outputSource = (n: string) => {
    const o = spec.outputs[n];
    return typeof o === 'string' ? o : o.expr;
  };
  const outputParsed = outputNames.map((n) => parseAt(['outputs', n], outputSource(n)));
  const initialParsed = stateNames.map((n) => {
    const v = spec.states[n].initial;
    return typeof v === 'string' ? parseAt(['states', n, 'initial'], v) : null;
  });
  const eventParsed = spec.events.map((ev, k) => ({
    when: parseAt(['events', k, 'when'], ev.when),
    set: Object.entries(ev.set).map(([target, v]) => ({
      target,
      parsed: typeof v === 'string' ? parseAt(['events', k, 'set', target], v) : null,
      value: typeof v === 'number' ? v : NaN,
    })),
  }));
  if (issues.length) throw new InputError(issues);

  // Assignment order: only earlier assignments may be used; name cycles as such.
  const assignDeps = assignParsed.map((pe) => [...pe!.symbols].filter((s) => assignIndex.has(s)));
  const reaches = (from: number, to: number, seen = new Set<number>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return assignDeps[from].some((d) => reaches(assignIndex.get(d)!, to, seen));
  };
  assignNames.forEach((name, k) => {
    for (const d of assignDeps[k]) {
      const m = assignIndex.get(d)!;
      if (m === k) issues.push({ path: ['assignments', name], message: `'${name}' refers to itself (cyclic assignment)` });
      else if (m > k) {
        issues.push({
          path: ['assignments', name],
          message: reaches(m, k)
            ? `cyclic assignments: '${name}' and '${d}' depend on each other`
            : `'${name}' uses '${d}', which is assigned later (assignments are evaluated in order; move '${d}' up)`,
        });
      }
    }
  });
  if (issues.length) throw new InputError(issues);

  // Symbol resolution for generated code.
  const resolveWith = (allowStates: boolean, allowAssign: boolean, allowT: boolean) => (name: string): string | undefined => {
    if (allowStates && stateIndex.has(name)) return `y[${stateIndex.get(name)}]`;
    if (pIndex.has(name)) return `p[${pIndex.get(name)}]`;
    if (allowAssign && assignIndex.has(name)) return `a${assignIndex.get(name)}`;
    if (allowT && name === 't') return 't';
    if (Object.prototype.hasOwnProperty.call(CONSTANTS, name)) return CONSTANTS[name];
    return undefined;
  };
  const full = resolveWith(true, true, true);
  const emitAt = (path: (string | number)[], pe: ParsedExpression, resolve = full): string => {
    try {
      return emit(pe.node, resolve, pe.source);
    } catch (e) {
      const what = e instanceof ExpressionError ? e.message : String(e);
      const hint = resolve === full ? '' : ' (initial values may use parameters only)';
      issues.push({ path, message: what + hint });
      return '0';
    }
  };
  const assignJs = assignNames.map((n, k) => emitAt(['assignments', n], assignParsed[k]!));
  const odeJs = stateNames.map((n, i) => emitAt(['odes', n], odeParsed[i]!));
  const outputJs = outputNames.map((n, k) => emitAt(['outputs', n], outputParsed[k]!));
  const initialJs = stateNames.map((n, i) => {
    const pe = initialParsed[i];
    return pe ? emitAt(['states', n, 'initial'], pe, resolveWith(false, false, false)) : String(spec.states[n].initial);
  });
  const eventJs = spec.events.map((ev, k) => {
    const w = eventParsed[k].when!;
    const node = w.node.type === 'ParenthesisNode' ? (w.node as unknown as { content: MathNode }).content : w.node;
    const op = node as unknown as { type: string; fn?: string; args?: MathNode[] };
    let g = '0';
    if (op.type !== 'OperatorNode' || !op.fn || !['smaller', 'larger', 'smallerEq', 'largerEq'].includes(op.fn)) {
      issues.push({ path: ['events', k, 'when'], message: `'when' must be one comparison such as "T < 1" (got '${ev.when}')` });
    } else {
      const lhs = emitAt(['events', k, 'when'], { ...w, node: op.args![0] });
      const rhs = emitAt(['events', k, 'when'], { ...w, node: op.args![1] });
      g = op.fn.startsWith('smaller') ? `(${rhs}) - (${lhs})` : `(${lhs}) - (${rhs})`;
    }
    const sets = eventParsed[k].set.map((s) => {
      if (!stateIndex.has(s.target)) {
        issues.push({ path: ['events', k, 'set', s.target], message: `'${s.target}' is not a state` });
        return { index: -1, js: '0' };
      }
      return { index: stateIndex.get(s.target)!, js: s.parsed ? emitAt(['events', k, 'set', s.target], s.parsed) : String(s.value) };
    });
    return { g, sets };
  });
  const doseModifiers = compileDoseModifiers(spec, stateIndex, (pe, path) => {
    try {
      return emit(pe.node, resolveWith(false, false, false), pe.source);
    } catch (e) {
      issues.push({ path, message: `${e instanceof ExpressionError ? e.message : String(e)} (dose modifiers may use parameters and covariates only)` });
      return '0';
    }
  }, parseAt);
  if (issues.length) throw new InputError(issues);

  // Which assignments each piece of code needs (transitively), so that outputs and events compute only those.
  const needed = (symbols: Iterable<string>): number[] => {
    const mark = new Set<number>();
    const visit = (s: string) => {
      const k = assignIndex.get(s);
      if (k === undefined || mark.has(k)) return;
      mark.add(k);
      assignDeps[k].forEach(visit);
    };
    for (const s of symbols) visit(s);
    return [...mark].sort((a, b) => a - b);
  };
  const prelude = (ks: number[]) => ks.map((k) => `const a${k} = ${assignJs[k]};`).join('\n');
  const allOdeSymbols = odeParsed.flatMap((pe) => [...pe!.symbols]);

  const rhsSrc = `${prelude(needed(allOdeSymbols))}\n${odeJs.map((js, i) => `dydt[${i}] = ${js};`).join('\n')}`;
  const outSrc = `${prelude(needed(outputParsed.flatMap((pe) => [...pe!.symbols])))}\n${outputJs.map((js, k) => `out[${k}] = ${js};`).join('\n')}`;
  const rhs = makeFunction<RhsFn>(['t', 'y', 'p', 'dydt'], rhsSrc);
  // The same body closed over a parameter vector, with every subexpression that reads parameters only
  // (CL/V1, an assignment of constants, ...) computed once at binding rather than at every call, as
  // ModelingToolkit does: one call level less and fewer divisions in the solver's hot loop. All closures
  // made by one factory share their optimized code.
  const hoisted = new Map<string, string>();
  const paramOnly = (name: string) => pIndex.has(name) || (Object.prototype.hasOwnProperty.call(CONSTANTS, name) && !stateIndex.has(name) && !assignIndex.has(name));
  const hook = (node: MathNode): string | undefined => {
    if (node.type === 'ConstantNode' || node.type === 'SymbolNode') return undefined;
    if (!readsOnly(node, paramOnly)) return undefined;
    const js = emit(node, full);
    let name = hoisted.get(js);
    if (!name) {
      name = `q${hoisted.size}`;
      hoisted.set(js, name);
    }
    return name;
  };
  const assignJsBound = assignNames.map((n, k) => emit(assignParsed[k]!.node, full, '', hook));
  const odeJsBound = stateNames.map((n, i) => emit(odeParsed[i]!.node, full, '', hook));
  const boundPrelude = needed(allOdeSymbols).map((k) => `const a${k} = ${assignJsBound[k]};`).join('\n');
  const bindSrc = `${[...hoisted].map(([js, name]) => `const ${name} = ${js};`).join('\n')}\nreturn function (t, y, dydt) {\n${boundPrelude}\n${odeJsBound.map((js, i) => `dydt[${i}] = ${js};`).join('\n')}\n};`;
  const bindFactory = makeFunction<(p: Float64Array) => (t: number, y: Float64Array, dydt: Float64Array) => void>(['p'], bindSrc);
  const outputs = makeFunction<OutputFn>(['t', 'y', 'p', 'out'], outSrc);
  const initialFn = makeFunction<(p: Float64Array, y: Float64Array) => void>(['p', 'y'], initialJs.map((js, i) => `y[${i}] = ${js};`).join('\n'));

  const events: CompiledEvent[] = spec.events.map((ev, k) => {
    const ep = eventParsed[k];
    const syms = [...ep.when!.symbols, ...ep.set.flatMap((s) => (s.parsed ? [...s.parsed.symbols] : []))];
    const pre = prelude(needed(syms));
    const { g, sets } = eventJs[k];
    return {
      name: ev.name ?? `event${k + 1}`,
      when: ev.when,
      g: makeFunction(['t', 'y', 'p'], `${pre}\nreturn ${g};`),
      targets: sets.map((s) => s.index),
      values: makeFunction(['t', 'y', 'p', 'out'], `${pre}\n${sets.map((s, j) => `out[${j}] = ${s.js};`).join('\n')}`),
    };
  });

  // Jacobians are generated on first use: symbolic differentiation of a large model costs tens of ms,
  // and only stiff methods, sensitivities and fits need them.
  const partialsOf = (wrt: string[], index: Map<string, number>) => () => {
    if (!wrt.length) return null;
    try {
      return generatePartials(stateNames, assignNames, assignParsed as ParsedExpression[], odeParsed as ParsedExpression[], full, wrt, (name) => index.get(name));
    } catch {
      return null; // e.g. a derivative too large to generate: finite differences then
    }
  };
  const lazyMatrix = (make: () => string | null) => {
    let done = false;
    let src: string | null = null;
    let fn: MatrixFn | null = null;
    return () => {
      if (!done) {
        src = make();
        fn = src ? makeFunction<MatrixFn>(['t', 'y', 'p', 'M'], src) : null;
        done = true;
      }
      return { src, fn };
    };
  };
  const jac = lazyMatrix(partialsOf(stateNames, stateIndex));
  const pjac = lazyMatrix(partialsOf(paramNames, paramIndex));

  const defaultParams = Float64Array.from([...paramNames.map((n) => spec.parameters[n].value), ...covariateNames.map((n) => spec.covariates[n].value)]);
  const nonNegative = Uint8Array.from(stateNames.map((n) => {
    const s = spec.states[n];
    return (s.nonNegative ?? NON_NEGATIVE_UNITS.test(s.unit.trim())) ? 1 : 0;
  }));
  const stateAtol = Float64Array.from(stateNames.map((n) => spec.states[n].atol ?? NaN));

  return {
    spec,
    id: spec.id,
    stateNames,
    paramNames,
    outputNames,
    stateIndex,
    paramIndex,
    covariateNames,
    covariateIndex,
    doseModifiers,
    defaultParams,
    initial: (p) => {
      const y = new Float64Array(stateNames.length);
      initialFn(p, y);
      return y;
    },
    rhs,
    bindRhs: bindFactory,
    outputs,
    get jacobian() {
      return jac().fn;
    },
    get paramJacobian() {
      return pjac().fn;
    },
    events,
    nonNegative,
    stateAtol,
    autonomous: !needed(allOdeSymbols).some((k) => assignParsed[k]!.symbols.has('t')) && !allOdeSymbols.includes('t'),
    source: {
      rhs: rhsSrc,
      boundRhs: bindSrc,
      outputs: outSrc,
      get jacobian() {
        return jac().src;
      },
      get paramJacobian() {
        return pjac().src;
      },
    },
  };
}

/**
 * Source of a function filling M (row-major, nStates × wrt.length) with d f_i / d w_j, by the chain rule
 * through the assignments: da_k/dw = ∂a_k/∂w + Σ_m ∂a_k/∂a_m · da_m/dw, all differentiated symbolically
 * once here. Only structurally non-zero entries are emitted. Null if any needed derivative is unavailable.
 */
/** Limits on symbolic partial derivatives (generated characters, chain-rule entries). */
const PARTIALS_BUDGET_CHARS = 2_000_000;
const PARTIALS_BUDGET_ENTRIES = 50_000;

function generatePartials(
  stateNames: string[], assignNames: string[], assignParsed: ParsedExpression[], odeParsed: ParsedExpression[],
  resolve: (name: string) => string | undefined, wrt: string[], wrtIndex: (name: string) => number | undefined,
): string | null {
  const nW = wrt.length;
  const assignIdx = new Map(assignNames.map((n, i) => [n, i]));
  const lines: string[] = [];
  // A budget on generated text: a huge model (or a hostile one) gets finite differences instead of
  // exhausting memory on symbolic derivatives.
  let budget = PARTIALS_BUDGET_CHARS;
  const emitD = (pe: ParsedExpression, name: string): string | null => {
    if (budget <= 0) return null;
    const d = partialDerivative(pe.node, name);
    if (!d) return null;
    try {
      const js = emit(d, resolve);
      budget -= js.length;
      return budget > 0 ? js : null;
    } catch {
      return null;
    }
  };
  // Which w each assignment depends on (transitively): keeps the emitted code sparse.
  const depsOfAssign: Set<number>[] = [];
  let entries = 0;
  const directW = (pe: ParsedExpression) => [...pe.symbols].map(wrtIndex).filter((j): j is number => j !== undefined);
  for (let k = 0; k < assignNames.length; k++) {
    const s = new Set(directW(assignParsed[k]));
    for (const sym of assignParsed[k].symbols) {
      const m = assignIdx.get(sym);
      if (m !== undefined) depsOfAssign[m].forEach((j) => s.add(j));
    }
    depsOfAssign.push(s);
    entries += s.size;
    if (entries > PARTIALS_BUDGET_ENTRIES) return null;
  }
  // Assignments themselves (the derivative expressions reference them).
  for (let k = 0; k < assignNames.length; k++) lines.push(`const a${k} = ${emit(assignParsed[k].node, resolve)};`);
  /**
   * The chain-rule expression of d(pe)/dw_j for each column j in `cols`: the direct partial plus, through
   * each assignment it uses, ∂pe/∂a_m · d{m}_{j}. Null when a derivative is unavailable.
   */
  const chainRule = (pe: ParsedExpression, cols: Iterable<number>): [number, string][] | null => {
    const assignUses = [...pe.symbols].filter((sym) => assignIdx.has(sym));
    const partialsA = new Map<string, string>();
    for (const sym of assignUses) {
      const d = emitD(pe, sym);
      if (d === null) return null;
      partialsA.set(sym, d);
    }
    const out: [number, string][] = [];
    for (const j of cols) {
      const terms: string[] = [];
      if (pe.symbols.has(wrt[j])) {
        const d = emitD(pe, wrt[j]);
        if (d === null) return null;
        terms.push(d);
      }
      for (const sym of assignUses) {
        const m = assignIdx.get(sym)!;
        if (depsOfAssign[m].has(j)) terms.push(`(${partialsA.get(sym)}) * d${m}_${j}`);
      }
      out.push([j, terms.length ? terms.join(' + ') : '0']);
    }
    return out;
  };
  // da_k/dw_j as locals d{k}_{j}.
  for (let k = 0; k < assignNames.length; k++) {
    const entries = chainRule(assignParsed[k], depsOfAssign[k]);
    if (!entries) return null;
    for (const [j, js] of entries) lines.push(`const d${k}_${j} = ${js};`);
  }
  lines.push(`M.fill(0);`);
  for (let i = 0; i < stateNames.length; i++) {
    const pe = odeParsed[i];
    const cols = new Set(directW(pe));
    for (const sym of pe.symbols) {
      const m = assignIdx.get(sym);
      if (m !== undefined) depsOfAssign[m].forEach((j) => cols.add(j));
    }
    const entries = chainRule(pe, [...cols].sort((x, y) => x - y));
    if (!entries) return null;
    for (const [j, js] of entries) lines.push(`M[${i * nW + j}] = ${js};`);
  }
  return lines.join('\n');
}

/** `dosing` of a model file → per state index, functions of p; unknown states and names go to issues. */
function compileDoseModifiers(
  spec: ModelSpec, stateIndex: Map<string, number>,
  emitP: (pe: ParsedExpression, path: (string | number)[]) => string,
  parseAt: (path: (string | number)[], source: string) => ParsedExpression | null,
): Map<number, DoseModifiers> {
  const out = new Map<number, DoseModifiers>();
  for (const [state, mods] of Object.entries(spec.dosing)) {
    const i = stateIndex.get(state);
    if (i === undefined) {
      continue; // reported with the other cross-references
    }
    const m: DoseModifiers = {};
    for (const key of ['bioavailability', 'lag', 'rate', 'duration'] as const) {
      const v = mods[key];
      if (v === undefined) continue;
      if (typeof v === 'number') {
        m[key] = () => v;
        continue;
      }
      const pe = parseAt(['dosing', state, key], v);
      if (!pe) continue;
      const js = emitP(pe, ['dosing', state, key]);
      m[key] = makeFunction<(p: Float64Array) => number>(['p'], `return ${js};`);
    }
    out.set(i, m);
  }
  return out;
}

export type { ModelSpecInput };
