// Forward sensitivity equations: the model's states y and their derivatives S_j = ∂y/∂θ_j integrated
// together, S_j' = J(t, y) S_j + (∂f/∂p_j)(dp_j/dθ_j), S_j(t0) = ∂y0/∂θ_j, through the same orchestrator
// (doses split the integration; a bolus amount does not depend on the parameters, so the jump leaves S
// unchanged). J and ∂f/∂p come from the compiled analytic derivatives, or forward differences of the
// right-hand side when the model has none. Events that set a state reset its sensitivities to zero.
import type { RhsFn } from '../../model/compile.ts';
import type { PreparedScenario } from '../../simulate.ts';
import { initialState, solvePrepared, solverInputs } from '../../simulate.ts';
import { solveIvp, type StateEvent } from '../../solve/solve_ivp.ts';

export interface SensitivityColumn {
  /** Model parameter index. */
  param: number;
  /** dp/dθ: p for a log-scale parameter, 1 for a linear one. */
  factor: number;
}

export interface SensitivitySolution {
  /** States, row-major nTimes × n. */
  y: Float64Array;
  /** Sensitivities: S[(k*m + j)*n + i] = ∂y_i/∂θ_j at times[k]. */
  S: Float64Array;
  rhsEvaluations: number;
}

/** y0 as a function of the parameters: the model's initial expressions with the scenario's overrides. */
export function initialOf(prep: PreparedScenario, p: Float64Array): Float64Array {
  return initialState(prep.model, p, prep.scenario.initial, prep.scenario.preset);
}

/** Solve the states only, with parameters p, at `times`: the one path to the solver, solvePrepared (its cached tolerances and dose timeline). */
export function solveStates(prep: PreparedScenario, p: Float64Array, times: Float64Array) {
  return solvePrepared(prep, p, initialOf(prep, p), times);
}

function eventsFor(prep: PreparedScenario, p: Float64Array, n: number, m: number): StateEvent[] {
  return prep.model.events.map((ev) => {
    const vals = new Float64Array(ev.targets.length);
    const yb = new Float64Array(n);
    return {
      name: ev.name,
      g: (t, y) => {
        for (let i = 0; i < n; i++) yb[i] = y[i];
        return ev.g(t, yb, p);
      },
      apply: (t, y) => {
        for (let i = 0; i < n; i++) yb[i] = y[i];
        ev.values(t, yb, p, vals);
        ev.targets.forEach((i, j) => {
          y[i] = vals[j];
          for (let c = 0; c < m; c++) y[n + c * n + i] = 0;
        });
      },
    };
  });
}

/** Solve states and sensitivities for the given columns at `times` (increasing). */
export function solveSensitivities(
  prep: PreparedScenario,
  p: Float64Array,
  cols: SensitivityColumn[],
  times: Float64Array,
): SensitivitySolution {
  const { model, scenario, t0 } = prep;
  const n = model.stateNames.length;
  const np = model.paramNames.length;
  const m = cols.length;
  const N = n * (1 + m);
  const f = model.rhs;
  const jacA = model.jacobian;
  const pjacA = model.paramJacobian;
  const yb = new Float64Array(n);
  const fb = new Float64Array(n);
  const fb2 = new Float64Array(n);
  const Jb = new Float64Array(n * n);
  const Pb = new Float64Array(n * np);
  const pp = Float64Array.from(p);
  // ∂f/∂y: analytic, or forward differences.
  const jacFn = jacA
    ? (t: number, y: Float64Array) => jacA(t, y, p, Jb)
    : (t: number, y: Float64Array) => {
        for (let k = 0; k < n; k++) forwardDifference(f, t, y, p, y, k, fb, fb2, Jb, n);
      };
  // ∂f/∂p for the needed columns (into Pb at the model's column index).
  const pjacFn = pjacA
    ? (t: number, y: Float64Array) => pjacA(t, y, p, Pb)
    : (t: number, y: Float64Array) => {
        for (let c = 0; c < m; c++) forwardDifference(f, t, y, pp, pp, cols[c].param, fb, fb2, Pb, np);
      };
  const jPat = jacA ? sparsityPattern(model.source.jacobian, n * n) : Int32Array.from({ length: n * n }, (_, k) => k);
  const jRow = Int32Array.from(jPat, (k) => Math.floor(k / n));
  const jCol = Int32Array.from(jPat, (k) => k % n);
  const nnzJ = jPat.length;
  const colParam = Int32Array.from(cols.map((c) => c.param));
  const colFactor = Float64Array.from(cols.map((c) => c.factor));
  const rhs = (t: number, ya: Float64Array, d: Float64Array) => {
    for (let i = 0; i < n; i++) yb[i] = ya[i];
    f(t, yb, p, fb);
    for (let i = 0; i < n; i++) d[i] = fb[i];
    jacFn(t, yb);
    pjacFn(t, yb);
    for (let c = 0; c < m; c++) {
      const base = n + c * n;
      const pc = colParam[c];
      const fac = colFactor[c];
      for (let i = 0; i < n; i++) d[base + i] = Pb[i * np + pc] * fac;
      for (let q = 0; q < nnzJ; q++) d[base + jRow[q]] += Jb[jPat[q]] * ya[base + jCol[q]];
    }
  };
  // The stiff method's Jacobian of the augmented system, block diagonal (the coupling ∂(JS)/∂y, which
  // needs second derivatives, is left out, as in CVODES' simultaneous corrector).
  const jacAug = jacA
    ? (t: number, ya: Float64Array, JA: Float64Array) => {
        for (let i = 0; i < n; i++) yb[i] = ya[i];
        jacA(t, yb, p, Jb);
        JA.fill(0);
        for (let b = 0; b <= m; b++) {
          const o = b * n;
          for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) JA[(o + i) * N + o + k] = Jb[i * n + k];
        }
      }
    : undefined;

  const ya0 = initialSensitivities(prep, p, cols);
  const tol = solverInputs(prep);
  const { rtol, atol } = augmentedTolerances(prep, tol.atol, p, cols);
  const nonNegative = new Uint8Array(N);
  nonNegative.set(model.nonNegative);
  const sol = solveIvp({
    rhs,
    jac: jacAug,
    t0,
    tEnd: times[times.length - 1],
    y0: ya0,
    outputTimes: times,
    discontinuities: tol.timeline,
    events: eventsFor(prep, p, n, m),
    method: scenario.solver.method,
    rtol,
    atol,
    nonNegative,
    autonomous: model.autonomous,
    maxStep: scenario.solver.maxStep,
    maxSteps: scenario.solver.maxSteps,
    deadline: Date.now() + scenario.solver.timeBudgetMs,
  });
  return { ...unpack(sol.y, times.length, n, m), rhsEvaluations: sol.counters.rhsEvaluations };
}

const SQRT_EPS = Math.sqrt(Number.EPSILON);

/**
 * Column `j` of ∂f/∂v by a forward difference (v is y or the parameter vector p, perturbed in place and
 * restored): M[i·stride + j] = (f(t, y, p)|v_j + h − fb)_i / h, with fb = f at the unperturbed point.
 */
function forwardDifference(
  f: RhsFn,
  t: number,
  y: Float64Array,
  p: Float64Array,
  v: Float64Array,
  j: number,
  fb: Float64Array,
  scratch: Float64Array,
  M: Float64Array,
  stride: number,
): void {
  const vj = v[j];
  const h = SQRT_EPS * Math.max(Math.abs(vj), 1e-8);
  v[j] = vj + h;
  f(t, y, p, scratch);
  v[j] = vj;
  for (let i = 0; i < fb.length; i++) M[i * stride + j] = (scratch[i] - fb[i]) / h;
}

/**
 * Structural non-zeros of a generated Jacobian (it assigns only those entries): the products J·S and the
 * ∂f/∂p columns then cost what the model's coupling costs, not n² (19 states: 57 of 361).
 */
function sparsityPattern(src: string | null, size: number): Int32Array {
  if (!src) return Int32Array.from({ length: size }, (_, k) => k);
  const idx = new Set<number>();
  for (const mt of src.matchAll(/M\[(\d+)\] =/g)) idx.add(Number(mt[1]));
  return Int32Array.from([...idx].sort((a, b) => a - b));
}

/** Initial values and their sensitivities (central differences of the initial-value expressions). */
function initialSensitivities(prep: PreparedScenario, p: Float64Array, cols: SensitivityColumn[]): Float64Array {
  const n = prep.model.stateNames.length;
  const m = cols.length;
  const pp = Float64Array.from(p);
  const y0 = initialOf(prep, p);
  const ya0 = new Float64Array(n * (1 + m));
  ya0.set(y0);
  for (let c = 0; c < m; c++) {
    const j = cols[c].param;
    const pj = p[j];
    const h = 1e-6 * Math.max(Math.abs(pj), 1e-12);
    pp[j] = pj + h;
    const up = initialOf(prep, pp);
    pp[j] = pj - h;
    const dn = initialOf(prep, pp);
    pp[j] = pj;
    for (let i = 0; i < n; i++) {
      if (up[i] !== dn[i]) ya0[n + c * n + i] = ((up[i] - dn[i]) / (2 * h)) * cols[c].factor;
    }
  }
  return ya0;
}

/** Tolerances of the augmented system: the states' own, and for each column the states' atol in its units. */
function augmentedTolerances(
  prep: PreparedScenario,
  stateAtol: Float64Array,
  p: Float64Array,
  cols: SensitivityColumn[],
) {
  const n = prep.model.stateNames.length;
  const m = cols.length;
  const N = n * (1 + m);
  const rtol = new Float64Array(N).fill(prep.scenario.solver.rtol);
  const atol = new Float64Array(N);
  atol.set(stateAtol);
  for (let c = 0; c < m; c++) {
    // ∂y/∂θ has the units of y for a log-scale θ (factor p), of y/p for a linear one (factor 1).
    const pv = Math.abs(p[cols[c].param]);
    const s = pv > 0 ? Math.abs(cols[c].factor) / pv : 1;
    for (let i = 0; i < n; i++) atol[n + c * n + i] = stateAtol[i] * s;
  }
  return { rtol, atol };
}

/** The augmented solution (per time: n states, then m columns of n) as states y (nt×n) and sensitivities S (nt×m×n). */
function unpack(ya: Float64Array, nt: number, n: number, m: number): { y: Float64Array; S: Float64Array } {
  const N = n * (1 + m);
  const y = new Float64Array(nt * n);
  const S = new Float64Array(nt * m * n);
  for (let k = 0; k < nt; k++) {
    for (let i = 0; i < n; i++) y[k * n + i] = ya[k * N + i];
    for (let c = 0; c < m; c++) for (let i = 0; i < n; i++) S[(k * m + c) * n + i] = ya[k * N + n + c * n + i];
  }
  return { y, S };
}
