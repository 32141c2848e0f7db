// Compile stage 6: analytic Jacobians df/dy and df/dp, differentiated symbolically through the assignments
// (chain rule) and generated on first use: symbolic differentiation of a large model costs tens of ms, and
// only stiff methods, sensitivities and fits need them.
import { emit, partialDerivative, type ParsedExpression } from '../expression.ts';
import type { SymbolTable } from './declarations.ts';
import type { ParsedModel } from './parse.ts';
import { makeFunction, type Resolve } from './resolve.ts';
import type { MatrixFn } from './types.ts';

/** Limits on symbolic partial derivatives (generated characters, chain-rule entries). */
const PARTIALS_BUDGET_CHARS = 2_000_000;
const PARTIALS_BUDGET_ENTRIES = 50_000;

export interface LazyMatrix {
  /** The generated source and function, made on the first call (null: finite differences instead). */
  (): { src: string | null; fn: MatrixFn | null };
}

/** df/dy (wrt = states) or df/dp (wrt = parameters), generated on first use. */
export function lazyPartials(
  table: SymbolTable,
  parsed: ParsedModel,
  resolve: Resolve,
  wrt: string[],
  index: Map<string, number>,
): LazyMatrix {
  const make = (): string | null => {
    if (!wrt.length) return null;
    try {
      return generatePartials(table, parsed, resolve, wrt, (name) => index.get(name));
    } catch {
      return null; // e.g. a derivative too large to generate: finite differences then
    }
  };
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
}

/**
 * Source of a function filling M (row-major, nStates × wrt.length) with d f_i / d w_j, by the chain rule
 * through the assignments: da_k/dw = ∂a_k/∂w + Σ_m ∂a_k/∂a_m · da_m/dw, all differentiated symbolically
 * once here. Only structurally non-zero entries are emitted. Null if any needed derivative is unavailable.
 */
function generatePartials(
  table: SymbolTable,
  parsed: ParsedModel,
  resolve: Resolve,
  wrt: string[],
  wrtIndex: (name: string) => number | undefined,
): string | null {
  const { stateNames, assignNames, assignIndex: assignIdx } = table;
  const { assignments: assignParsed, odes: odeParsed } = parsed;
  const nW = wrt.length;
  const lines: string[] = [];
  const emitD = derivativeEmitter(resolve);
  const directW = (pe: ParsedExpression) => [...pe.symbols].map(wrtIndex).filter((j): j is number => j !== undefined);
  const depsOfAssign = assignmentDependencies(assignParsed, assignIdx, directW);
  if (!depsOfAssign) return null;
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
    const entries = chainRule(
      pe,
      [...cols].sort((x, y) => x - y),
    );
    if (!entries) return null;
    for (const [j, js] of entries) lines.push(`M[${i * nW + j}] = ${js};`);
  }
  return lines.join('\n');
}

/**
 * ∂pe/∂name as JavaScript, or null when unavailable. A budget on generated text: a huge model (or a hostile
 * one) gets finite differences instead of exhausting memory on symbolic derivatives.
 */
function derivativeEmitter(resolve: Resolve): (pe: ParsedExpression, name: string) => string | null {
  let budget = PARTIALS_BUDGET_CHARS;
  return (pe, name) => {
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
}

/** Which w each assignment depends on (transitively): keeps the emitted code sparse. Null over the entry budget. */
function assignmentDependencies(
  assignParsed: ParsedExpression[],
  assignIdx: Map<string, number>,
  directW: (pe: ParsedExpression) => number[],
): Set<number>[] | null {
  const depsOfAssign: Set<number>[] = [];
  let entries = 0;
  for (const pe of assignParsed) {
    const s = new Set(directW(pe));
    for (const sym of pe.symbols) {
      const m = assignIdx.get(sym);
      if (m !== undefined) depsOfAssign[m].forEach((j) => s.add(j));
    }
    depsOfAssign.push(s);
    entries += s.size;
    if (entries > PARTIALS_BUDGET_ENTRIES) return null;
  }
  return depsOfAssign;
}
