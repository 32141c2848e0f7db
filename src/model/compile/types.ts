// The compiled model's shape: what compileModel (../compile.ts) returns and the stages under compile/ build.
import type { ModelSpec } from '../schema.ts';
import type { DoseClockKind } from '../expression.ts';
import type { Rhs } from '../../solve/types.ts';

export type RhsFn = (t: number, y: Float64Array, p: Float64Array, dydt: Float64Array) => void;
export type OutputFn = (t: number, y: Float64Array, p: Float64Array, out: Float64Array) => void;
export type MatrixFn = (t: number, y: Float64Array, p: Float64Array, M: Float64Array) => void;
/** f with p bound; carries the methods' fused stages (Rhs in src/solve/types.ts) unless the model is too large for them. */
export type BoundRhsFn = Rhs;

export interface CompiledEvent {
  name: string;
  /** Root function: the event fires when g goes from <= 0 to > 0. */
  g: (t: number, y: Float64Array, p: Float64Array) => number;
  /** State indices it sets and how: values computed from the state just before the event. */
  targets: number[];
  values: (t: number, y: Float64Array, p: Float64Array, out: Float64Array) => void;
  when: string;
}

/** tfd(X)/tld(X): p[slot] is the time of the first/last dose into state index `state` so far (Infinity: none yet). */
export interface DoseClock {
  kind: DoseClockKind;
  state: number;
  slot: number;
}

/** A dosed state's modifiers, compiled: each a function of the parameter-and-covariate vector. */
export interface DoseModifiers {
  bioavailability?: (p: Float64Array) => number;
  lag?: (p: Float64Array) => number;
  rate?: (p: Float64Array) => number;
  duration?: (p: Float64Array) => number;
}

export interface CompiledModel {
  spec: ModelSpec;
  id: string;
  stateNames: string[];
  paramNames: string[];
  outputNames: string[];
  stateIndex: Map<string, number>;
  paramIndex: Map<string, number>;
  /** Default parameter values, followed by one slot per dose clock (see doseClocks). */
  defaultParams: Float64Array;
  /** Dose clocks used by the model's expressions: their slots in the parameter vector hold the first/last dose time into the state. */
  doseClocks: DoseClock[];
  /** Initial state for parameter vector p (initial values may be expressions of parameters). */
  initial: (p: Float64Array) => Float64Array;
  rhs: RhsFn;
  /** The right-hand side with a parameter vector bound: parameter-only subexpressions are computed once, at binding (bind again after changing p). */
  bindRhs: (p: Float64Array) => BoundRhsFn;
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
