// Predictions of one subject at its observation records and their derivatives with respect to η (the
// log of each parameter with a random effect) and to every fixed effect's φ (G has one column per fixed
// effect: the η of a parameter with a random effect moves its φ), by the model's forward sensitivity equations; outputs by
// the chain rule through central differences of the (algebraic) output function.
import { solveSensitivities, solveStates } from '../fit/sensitivity.ts';
import type { PopProblem, PopSubject } from './problem.ts';

export interface SubjectPrediction {
  /** Predictions as the model gives them, one per record. */
  f: Float64Array;
  /** ∂f/∂φ_l, records × nf (row-major; φ_l = log P_l for a log-scale fixed effect, P_l otherwise), or null. */
  G: Float64Array | null;
}

function outputValue(s: PopSubject, t: number, y: Float64Array, p: Float64Array, o: number, out: Float64Array): number {
  s.prep.model.outputs(t, y, p, out);
  return out[o];
}

/** Values at the records from one solve of the states (through the epoch runner when the subject needs it). */
function valuesAt(s: PopSubject, p: Float64Array, into: Float64Array): Float64Array {
  const n = s.prep.model.stateNames.length;
  const out = new Float64Array(s.prep.model.outputNames.length);
  const sol = solveStates(s.prep, p, s.times);
  s.obs.forEach((r, q) => {
    const y = sol.y.subarray(r.k * n, (r.k + 1) * n);
    into[q] = r.state >= 0 ? y[r.state] : outputValue(s, r.time, Float64Array.from(y), p, r.output, out);
  });
  return into;
}

/**
 * G by central differences of solutions (2 solves per fixed effect), for subjects whose solve goes through
 * the epoch runner (resets, covariate changes, pre-dose outputs, steady states, rules) or has
 * parameter-dependent dose modifiers, where the forward sensitivity equations are not carried through.
 * Step 1e-4 on the working scale: truncation error ~1e-8 relative, solver noise (rtol 1e-8) ~1e-4 relative.
 */
function finiteDifferences(pb: PopProblem, s: PopSubject, p: Float64Array, f: Float64Array): SubjectPrediction {
  const nr = s.obs.length;
  const q = pb.fixed.length;
  valuesAt(s, p, f);
  const G = new Float64Array(nr * q);
  const up = new Float64Array(nr);
  const dn = new Float64Array(nr);
  const pv = Float64Array.from(p);
  pb.fixed.forEach((fe, c) => {
    const h = 1e-4 * (fe.log ? 1 : Math.max(Math.abs(p[fe.index]), 1e-8));
    const at = (d: number) => (fe.log ? p[fe.index] * Math.exp(d) : p[fe.index] + d);
    pv[fe.index] = at(h);
    valuesAt(s, pv, up);
    pv[fe.index] = at(-h);
    valuesAt(s, pv, dn);
    pv[fe.index] = p[fe.index];
    pb.counters.odeSolves += 2;
    for (let r = 0; r < nr; r++) G[r * q + c] = (up[r] - dn[r]) / (2 * h);
  });
  return { f, G };
}

export function predictSubject(
  pb: PopProblem,
  s: PopSubject,
  p: Float64Array,
  withGradient: boolean,
): SubjectPrediction {
  const model = s.prep.model;
  const n = model.stateNames.length;
  const out = new Float64Array(model.outputNames.length);
  const nr = s.obs.length;
  const f = new Float64Array(nr);
  pb.counters.odeSolves++;
  if (!withGradient) {
    const sol = solveStates(s.prep, p, s.times);
    s.obs.forEach((r, q) => {
      const y = sol.y.subarray(r.k * n, (r.k + 1) * n);
      f[q] = r.state >= 0 ? y[r.state] : outputValue(s, r.time, Float64Array.from(y), p, r.output, out);
    });
    return { f, G: null };
  }
  const q = pb.fixed.length;
  if (s.fd) return finiteDifferences(pb, s, p, f);
  const cols = pb.fixed.map((fe) => ({ param: fe.index, factor: fe.log ? p[fe.index] : 1 }));
  const sol = solveSensitivities(s.prep, p, cols, s.times);
  const G = new Float64Array(nr * q);
  const yk = new Float64Array(n);
  const pv = Float64Array.from(p);
  const dOut = new Float64Array(n);
  s.obs.forEach((r, row) => {
    for (let i = 0; i < n; i++) yk[i] = sol.y[r.k * n + i];
    if (r.state >= 0) {
      f[row] = yk[r.state];
      for (let c = 0; c < q; c++) G[row * q + c] = sol.S[(r.k * q + c) * n + r.state];
      return;
    }
    const g0 = outputValue(s, r.time, yk, p, r.output, out);
    f[row] = g0;
    for (let i = 0; i < n; i++) {
      const yi = yk[i];
      const h = 6e-6 * Math.max(Math.abs(yi), 1e-6 * Math.abs(g0) || 1e-12, 1e-30);
      yk[i] = yi + h;
      const up = outputValue(s, r.time, yk, p, r.output, out);
      yk[i] = yi - h;
      const dn = outputValue(s, r.time, yk, p, r.output, out);
      yk[i] = yi;
      dOut[i] = (up - dn) / (2 * h);
    }
    for (let c = 0; c < q; c++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += dOut[i] * sol.S[(r.k * q + c) * n + i];
      // Direct dependence of the output on the parameter (e.g. concentration = amount / V).
      const pi = cols[c].param;
      const pj = p[pi];
      const h = 6e-6 * Math.max(Math.abs(pj), 1e-12);
      pv[pi] = pj + h;
      const up = outputValue(s, r.time, yk, pv, r.output, out);
      pv[pi] = pj - h;
      const dn = outputValue(s, r.time, yk, pv, r.output, out);
      pv[pi] = pj;
      d += ((up - dn) / (2 * h)) * cols[c].factor;
      G[row * q + c] = d;
    }
  });
  return { f, G };
}
