// Steady state before a dose (scenario `steadyState`, dataset SS = 1/2), solved for rather than approached
// by simulating many doses:
// - a dose repeated every II: the pre-dose state x* is the fixed point of the dose-to-dose map Φ (integrate
//   one interval from x with the dose, and any earlier infusions still running when the infusion is longer
//   than II). Newton's method on Φ(x) − x = 0 with the Jacobian ∂Φ/∂x by forward differences (one extra
//   interval per state); for a linear model Φ is affine and the first step lands on x* up to the solver's
//   error, the second confirms it. Converged when |Φ(x) − x| ≤ 10·(rtol·|Φ(x)| + atol) per state.
// - a constant infusion (amount 0 with a rate): f(x) + R·e_target = 0, by Newton with the model's
//   Jacobian (or forward differences of the right-hand side).
import { solveIvp, type IvpProblem } from '../solve/solve_ivp.ts';
import { luFactor, luSolve } from '../solve/lu.ts';
import { doseTimeline, type DoseRecord } from '../dosing/schedule.ts';
import { SolveError } from '../errors.ts';
import type { CompiledModel } from '../model/compile.ts';

const MAX_NEWTON = 30;

/** The infusions of earlier doses still running at the start of a periodic interval (infusion longer than II). */
export function overlappingInfusions(rec: DoseRecord, interval: number): DoseRecord[] {
  if (rec.duration === undefined || rec.rate !== undefined) return [];
  const rate = rec.amount / rec.duration;
  const out: DoseRecord[] = [];
  for (let j = 1; rec.duration - j * interval > 1e-12 * rec.duration; j++) {
    const left = rec.duration - j * interval;
    out.push({ ...rec, steadyState: undefined, amount: rate * left, duration: left, label: rec.label });
    if (j > 10_000)
      throw new SolveError('steady state: infusion duration is more than 10000 dosing intervals', 'other', rec.time);
  }
  return out;
}

type Base = Omit<IvpProblem, 't0' | 'tEnd' | 'y0' | 'outputTimes' | 'discontinuities'>;

function newton(
  F: (x: Float64Array, r: Float64Array) => void,
  x: Float64Array,
  jac: (x: Float64Array, r: Float64Array, J: Float64Array) => void,
  done: (x: Float64Array, r: Float64Array) => boolean,
  at: number,
): Float64Array {
  const n = x.length;
  const r = new Float64Array(n);
  const J = new Float64Array(n * n);
  const piv = new Int32Array(n);
  for (let it = 0; it < MAX_NEWTON; it++) {
    F(x, r);
    if (done(x, r)) return x;
    jac(x, r, J);
    if (!luFactor(J, n, piv))
      throw new SolveError(
        `steady state at t = ${at}: the Jacobian is singular (no isolated steady state)`,
        'other',
        at,
        true,
      );
    for (let i = 0; i < n; i++) r[i] = -r[i];
    luSolve(J, n, piv, r);
    for (let i = 0; i < n; i++) x[i] += r[i];
    if (!x.every(Number.isFinite)) break;
  }
  throw new SolveError(
    `steady state at t = ${at}: Newton's method did not converge in ${MAX_NEWTON} iterations`,
    'other',
    at,
    true,
  );
}

/** Pre-dose state at the periodic steady state of `rec` repeated every `interval`, starting Newton from y. */
export function periodicSteadyState(
  base: Base,
  rec: DoseRecord,
  interval: number,
  y: Float64Array,
  atol: Float64Array,
  rtol: number,
): Float64Array {
  const n = y.length;
  const t0 = rec.time;
  const single = { ...rec, steadyState: undefined };
  const discs = doseTimeline([single, ...overlappingInfusions(rec, interval)]);
  const out = new Float64Array([t0 + interval]);
  const phi = (x: Float64Array) =>
    solveIvp({ ...base, t0, tEnd: t0 + interval, y0: x, outputTimes: out, discontinuities: discs }).y;
  const scale = Math.abs(rec.amount);
  let fx: Float64Array<ArrayBufferLike> = new Float64Array(n);
  const F = (x: Float64Array, r: Float64Array) => {
    fx = phi(x);
    for (let i = 0; i < n; i++) r[i] = fx[i] - x[i];
  };
  const jac = (x: Float64Array, r: Float64Array, J: Float64Array) => {
    const xh = Float64Array.from(x);
    for (let j = 0; j < n; j++) {
      const h = 1e-6 * Math.max(Math.abs(x[j]), Math.abs(fx[j]), 1e-3 * scale, atol[j]);
      xh[j] = x[j] + h;
      const f1 = phi(xh);
      xh[j] = x[j];
      for (let i = 0; i < n; i++) J[i * n + j] = (f1[i] - x[i] - (i === j ? h : 0) - r[i]) / h;
    }
  };
  const done = (_x: Float64Array, r: Float64Array) =>
    r.every((v, i) => Math.abs(v) <= 10 * (rtol * Math.abs(fx[i]) + atol[i]));
  return newton(F, Float64Array.from(y), jac, done, t0);
}

/** State at which a constant infusion of `rate` into state `index` is balanced: f(x) + rate·e = 0. */
export function infusionSteadyState(
  model: CompiledModel,
  p: Float64Array,
  index: number,
  rate: number,
  y: Float64Array,
  atol: Float64Array,
  rtol: number,
  at: number,
): Float64Array {
  const n = y.length;
  const f = model.bindRhs(p);
  const jacFn = model.jacobian;
  const F = (x: Float64Array, r: Float64Array) => {
    f(at, x, r);
    r[index] += rate;
  };
  const jac = (x: Float64Array, r: Float64Array, J: Float64Array) => {
    if (jacFn) return jacFn(at, x, p, J);
    const xh = Float64Array.from(x);
    const r1 = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const h = 1e-7 * Math.max(Math.abs(x[j]), atol[j], 1e-6);
      xh[j] = x[j] + h;
      F(xh, r1);
      xh[j] = x[j];
      for (let i = 0; i < n; i++) J[i * n + j] = (r1[i] - r[i]) / h;
    }
  };
  // Converged when the Newton update is negligible: the next step changes x by less than rtol·|x| + atol.
  let last: Float64Array | null = null;
  const done = (x: Float64Array) => {
    const ok = last !== null && x.every((v, i) => Math.abs(v - last![i]) <= 1e-3 * (rtol * Math.abs(v) + atol[i]));
    last = Float64Array.from(x);
    return ok;
  };
  return newton(F, Float64Array.from(y), jac, done, at);
}
