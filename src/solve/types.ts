// The solver layer's shared vocabulary: the right-hand side, the stepper interface every method
// implements (shaped like scipy's OdeSolver), and the counters reported in a result.

/**
 * Right-hand side dy/dt = f(t, y), written into `dydt`; must not allocate. A model's own f may carry the
 * DOPRI5 and Rodas5P stages fused with it (`dopri5Stages`, `rodasStages`, generated per model:
 * src/solve/dopri5-stages.ts, rodas-stages.ts); a wrapper of f (infusion rates added, ...) has none, and the
 * methods then run their generic stage loops.
 */
export type Rhs = ((t: number, y: Float64Array, dydt: Float64Array) => void) & {
  dopri5Stages?: Dopri5Stages;
  rodasStages?: RodasStages;
};

/**
 * One DOPRI5 step attempt of size h from (tA, y) with k1 = f(tA, y), tN the step's end: writes the stages
 * k2..k7, the stage-6 argument ySti and the new state yNew, and returns the error's sum of squares
 * (sum over i of (h·(E·k)_i / sk_i)², sk_i = atol_i + rtol_i·max(|y_i|, |yNew_i|)), bit-identical to the
 * generic loops in dopri5.ts. Six evaluations of f, without its non-negative derivative rule.
 */
export type Dopri5Stages = (
  tA: number,
  h: number,
  tN: number,
  y: Float64Array,
  k1: Float64Array,
  k2: Float64Array,
  k3: Float64Array,
  k4: Float64Array,
  k5: Float64Array,
  k6: Float64Array,
  k7: Float64Array,
  ySti: Float64Array,
  yNew: Float64Array,
  atol: Float64Array,
  rtol: Float64Array,
) => number;

/** Jacobian df/dy at (t, y), written row-major into `J` (J[i*n + j] = d f_i / d y_j). */
export type JacobianFn = (t: number, y: Float64Array, J: Float64Array) => void;

/** Counters a method keeps; the orchestrator adds them up over segments. */
export interface SolverCounters {
  steps: number; // accepted steps
  rejected: number; // rejected steps
  rhsEvaluations: number;
  jacobianEvaluations: number;
  luDecompositions: number;
}

export function zeroCounters(): SolverCounters {
  return { steps: 0, rejected: 0, rhsEvaluations: 0, jacobianEvaluations: 0, luDecompositions: 0 };
}

export function addCounters(into: SolverCounters, from: SolverCounters): void {
  into.steps += from.steps;
  into.rejected += from.rejected;
  into.rhsEvaluations += from.rhsEvaluations;
  into.jacobianEvaluations += from.jacobianEvaluations;
  into.luDecompositions += from.luDecompositions;
}

/** Options common to every method. Tolerances are per component (length n). */
export interface StepperOptions {
  rtol: Float64Array;
  atol: Float64Array;
  /** Largest step allowed (default: the whole span). */
  maxStep?: number;
  /** First step to try; chosen automatically when absent. */
  firstStep?: number;
  /** Analytic Jacobian, when the model has one (stiff methods fall back to finite differences). */
  jac?: JacobianFn;
  /** Components that must stay >= 0 (cells, amounts). */
  nonNegative?: Uint8Array;
  /** f does not depend on t within the segment: stiff methods then skip the df/dt estimate (one RHS call a step). */
  autonomous?: boolean;
  /** For the auto method: the method to start the segment with (the one in charge at the end of the previous segment). */
  startWith?: 'dopri5' | 'rodas';
}

export type StepStatus = 'running' | 'finished' | 'failed';

/**
 * One integration method over one smooth segment [t0, tBound], as scipy's OdeSolver:
 * `step()` advances one accepted step (retrying internally on rejection) and never passes tBound;
 * `interpolate(t, out)` evaluates the dense output of the last accepted step, tOld <= t <= t.
 */
export interface Stepper {
  readonly name: string;
  readonly n: number;
  /** Time and state after the last accepted step. `y` is owned by the stepper: copy it to keep it. */
  readonly t: number;
  readonly y: Float64Array;
  /** Start of the last accepted step. */
  readonly tOld: number;
  status: StepStatus;
  /** Why the method failed (step size underflow, non-finite state, ...) when status is 'failed'. */
  message: string;
  /** The kind of failure when status is 'failed' (a typed field: callers never read it out of `message`). */
  failReason?: 'non-finite' | 'step-size' | 'other';
  readonly counters: SolverCounters;
  step(): StepStatus;
  /** Writes the n values at `t` into out[offset .. offset + n). */
  interpolate(t: number, out: Float64Array, offset?: number): void;
  /**
   * Start the next smooth segment with the same method and options but possibly another right-hand side
   * (an infusion switched on or off): no reallocation. Counters keep counting.
   */
  reuse?(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions): void;
}

/** A method's factory: make a stepper for f from (t0, y0) toward tBound. */
export type StepperFactory = (f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions) => Stepper;

/** The methods a scenario may ask for. */
export type MethodName = 'auto' | 'nonstiff' | 'stiff' | 'odex' | 'dopri5' | 'rodas';

/**
 * One Rodas5P step attempt of size h from (tA, y) (tN the step's end), given f0 = f(tA, y), dT = df/dt and
 * E = 1/(hγ) I − J factored by luFactor (pivots piv): writes the S stages into k (k[s·n + i]) and y1 into yNew,
 * and returns the error's sum of squares (sum over i of (k_S,i / sk_i)², sk_i = atol_i + rtol_i·max(|y_i|,
 * |y1_i|)), bit-identical to the generic loops in rodas.ts. `w` is n numbers of scratch. Seven evaluations of
 * f, without its non-negative derivative rule.
 */
export type RodasStages = (
  tA: number,
  h: number,
  tN: number,
  y: Float64Array,
  f0: Float64Array,
  dT: Float64Array,
  E: Float64Array,
  piv: Int32Array,
  k: Float64Array,
  w: Float64Array,
  yNew: Float64Array,
  atol: Float64Array,
  rtol: Float64Array,
) => number;
