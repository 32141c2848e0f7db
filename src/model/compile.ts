// Model file → CompiledModel: validates names and cross-references (every problem with its JSON path),
// then generates plain JavaScript functions once per model (right-hand side, outputs, Jacobian, parameter
// sensitivities, events) over Float64Array, so that the solver's hot loop never interprets.
// The stages live in compile/: declarations (symbol table), parse, order (assignment order, Tarjan), emit,
// dose-modifiers, generate (functions) and derivatives (Jacobians); this file runs them in order.
import { checkModelUnits, unitsFullyDeclared } from './units.ts';
import { type ModelSpec, type ModelSpecInput, NON_NEGATIVE_UNITS } from './schema.ts';
import { InputError, type Issue } from '../errors.ts';
import { declareSymbols, parseSpec, type SymbolTable } from './compile/declarations.ts';
import { parseModelExpressions, parserInto } from './compile/parse.ts';
import { orderAssignments } from './compile/order.ts';
import { emitModel } from './compile/emit.ts';
import { compileDoseModifiers } from './compile/dose-modifiers.ts';
import { emitterInto, SymbolResolver } from './compile/resolve.ts';
import { generateFunctions } from './compile/generate.ts';
import { lazyPartials } from './compile/derivatives.ts';
import type { CompiledModel, DoseClock } from './compile/types.ts';

export type {
  RhsFn,
  OutputFn,
  MatrixFn,
  CompiledEvent,
  DoseClock,
  CompiledModel,
  DoseModifiers,
} from './compile/types.ts';
export { stronglyConnected } from './compile/order.ts';

/** Validate a model file (zod shape + names + references) and compile it. Throws InputError with paths. */
export function compileModel(input: unknown): CompiledModel {
  const spec = parseSpec(input);
  const table = declareSymbols(spec);
  const parsed = parseModelExpressions(spec, table);
  const order = orderAssignments(table, parsed.assignments);

  const issues: Issue[] = [];
  const resolver = new SymbolResolver(table);
  const emitAt = emitterInto(issues, resolver);
  const js = emitModel(spec, table, parsed, emitAt, resolver, issues);
  const doseModifiers = compileDoseModifiers(spec, table.stateIndex, parserInto(issues), emitAt, resolver);
  if (issues.length) throw new InputError(issues);
  // Dimensional analysis of a model whose parameters and states all declare a unit (units.ts).
  if (unitsFullyDeclared(input)) {
    const unitIssues = checkModelUnits(spec);
    if (unitIssues.length) throw new InputError(unitIssues);
  }

  const fns = generateFunctions(spec, table, parsed, js, order, resolver);
  const jac = lazyPartials(table, parsed, resolver.full, table.stateNames, table.stateIndex);
  const pjac = lazyPartials(table, parsed, resolver.full, table.paramNames, table.paramIndex);
  const doseClocks = [...resolver.clockSlots.values()];
  return {
    spec,
    id: spec.id,
    stateNames: table.stateNames,
    paramNames: table.paramNames,
    outputNames: table.outputNames,
    stateIndex: table.stateIndex,
    paramIndex: table.paramIndex,
    covariateNames: table.covariateNames,
    covariateIndex: table.covariateIndex,
    doseModifiers,
    defaultParams: defaultParams(spec, table, doseClocks),
    doseClocks,
    initial: fns.initial,
    rhs: fns.rhs,
    bindRhs: fns.bindRhs,
    outputs: fns.outputs,
    get jacobian() {
      return jac().fn;
    },
    get paramJacobian() {
      return pjac().fn;
    },
    events: fns.events,
    ...stateOptions(spec, table),
    autonomous: fns.autonomous,
    source: {
      rhs: fns.rhsSrc,
      boundRhs: fns.bindSrc,
      outputs: fns.outSrc,
      get jacobian() {
        return jac().src;
      },
      get paramJacobian() {
        return pjac().src;
      },
    },
  };
}

/** Parameter values, then covariate values, then one slot per dose clock (Infinity: no dose yet). */
function defaultParams(spec: ModelSpec, table: SymbolTable, doseClocks: DoseClock[]): Float64Array {
  return Float64Array.from([
    ...table.paramNames.map((n) => spec.parameters[n].value),
    ...table.covariateNames.map((n) => spec.covariates[n].value),
    ...doseClocks.map(() => Infinity),
  ]);
}

/** Per-state solver options: kept non-negative (declared, or implied by an amount-like unit) and absolute tolerance. */
function stateOptions(spec: ModelSpec, table: SymbolTable): { nonNegative: Uint8Array; stateAtol: Float64Array } {
  const nonNegative = Uint8Array.from(
    table.stateNames.map((n) => {
      const s = spec.states[n];
      return (s.nonNegative ?? NON_NEGATIVE_UNITS.test(s.unit.trim())) ? 1 : 0;
    }),
  );
  const stateAtol = Float64Array.from(table.stateNames.map((n) => spec.states[n].atol ?? NaN));
  return { nonNegative, stateAtol };
}

export type { ModelSpecInput };
