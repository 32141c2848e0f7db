// Exact exposure integrals: AUC of each drug's concentration, the integral of its receptor occupancy from its
// first dose, and time spent above a threshold, integrated on the solver's dense output step by step (a
// step observer of the orchestrator), so that they do not depend on the output grid and are as accurate as
// the solution itself. Each accepted step [a, b] is integrated with 5-point Gauss-Lobatto quadrature of the
// step's interpolant (exact for polynomials of degree 7);
// threshold crossings are found by bisection on the interpolant between 9 samples of the steps whose
// samples (both ends and the quadrature nodes) do not lie clearly on one side of the level. A crossing and
// re-crossing between samples of one step that never shows at them is missed (steps are short against the
// time scale of a concentration at the solver's tolerance).
import type { CompiledModel } from '../model/compile.ts';
import type { StepView } from '../solve/driver.ts';
import { doseTargets } from './metrics.ts';

export interface DrugIntegrals {
  auc: number;
  occupancyIntegral?: number;
  occupancySpan?: number;
  timeOccupancyAbove90?: number;
  timeAboveThreshold?: number;
}
export interface ExposureIntegrals {
  /** The window integrated: [from, to] in model time. */
  from: number;
  to: number;
  drugs: Record<string, DrugIntegrals>;
}

// 5-point Gauss-Lobatto: exact for polynomials of degree 7 (above dopri5's and Rodas' dense output), and its
// nodes include both ends of the step, which the level checks need anyway: 5 output evaluations per step.
const GL_X = [-1, -Math.sqrt(3 / 7), 0, Math.sqrt(3 / 7), 1];
const GL_W = [0.1, 49 / 90, 32 / 45, 49 / 90, 0.1];
const SAMPLES = 8;

interface Tracked {
  drug: string;
  conc: (o: Float64Array, y: Float64Array) => number;
  occ?: (o: Float64Array, y: Float64Array) => number;
  occFrom: number;
  threshold?: number;
  res: DrugIntegrals;
  /** Per step: min and max of [concentration, occupancy] over the samples. */
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * Which side of `level` a sampled range lies on: 1 above, -1 below, 0 unclear. Margin: the interpolant may
 * bulge between samples; only a clear side skips the root search.
 */
const side = (lo: number, hi: number, level: number) =>
  lo > level + 1e-9 * Math.abs(level) ? 1 : hi < level - 1e-9 * Math.abs(level) ? -1 : 0;

/** The drugs of the model's `roles.drugs`, each with readers of its concentration and occupancy and zeroed integrals. */
function trackedDrugs(model: CompiledModel, from: number, to: number, firstDose: Record<string, number>): Tracked[] {
  const outIndex = new Map(model.outputNames.map((o, j) => [o, j]));
  const reader = (name: string) => {
    const j = outIndex.get(name);
    if (j !== undefined) return (o: Float64Array) => o[j];
    const i = model.stateIndex.get(name)!;
    return (_o: Float64Array, y: Float64Array) => y[i];
  };
  const tracked: Tracked[] = [];
  for (const [drug, role] of Object.entries(model.spec.roles?.drugs ?? {})) {
    const occFrom = Math.max(from, Object.hasOwn(firstDose, drug) ? firstDose[drug] : from);
    tracked.push({
      drug,
      conc: reader(role.concentration),
      occ: role.occupancy ? reader(role.occupancy) : undefined,
      occFrom,
      threshold: role.threshold,
      lo: new Float64Array(2),
      hi: new Float64Array(2),
      res: {
        auc: 0,
        ...(role.occupancy
          ? { occupancyIntegral: 0, occupancySpan: Math.max(0, to - occFrom), timeOccupancyAbove90: 0 }
          : {}),
        ...(role.threshold !== undefined ? { timeAboveThreshold: 0 } : {}),
      },
    });
  }
  return tracked;
}

/**
 * A step observer accumulating the exposure integrals of the model's `roles.drugs` over [from, to], with
 * occupancy integrated from each drug's first dose time (`firstDose[drug]`, default `from`).
 */
export function exposureIntegrator(
  model: CompiledModel,
  params: Float64Array,
  from: number,
  to: number,
  firstDose: Record<string, number>,
) {
  const n = model.stateNames.length;
  const tracked = trackedDrugs(model, from, to, firstDose);
  const y = new Float64Array(n);
  const o = new Float64Array(model.outputNames.length);
  let view: StepView;
  const evalAt = (t: number) => {
    view.interpolate(t, y);
    for (let i = 0; i < n; i++) if (model.nonNegative[i] && y[i] < 0) y[i] = 0;
    if (o.length) model.outputs(t, y, params, o);
  };
  // Measure of {f >= level} on [a, b], from samples and bisection of the sign changes on the interpolant.
  const above = (f: (o: Float64Array, y: Float64Array) => number, level: number, a: number, b: number): number => {
    const ts: number[] = [];
    const gs: number[] = [];
    for (let k = 0; k <= SAMPLES; k++) {
      const t = a + ((b - a) * k) / SAMPLES;
      evalAt(t);
      ts.push(t);
      gs.push(f(o, y) - level);
    }
    let s = 0;
    for (let k = 1; k <= SAMPLES; k++) {
      const ga = gs[k - 1];
      const gb = gs[k];
      if (ga >= 0 && gb >= 0) s += ts[k] - ts[k - 1];
      else if (ga >= 0 || gb >= 0) {
        let lo = ts[k - 1];
        let hi = ts[k];
        const upward = gb >= 0;
        for (let it = 0; it < 60 && hi - lo > 1e-14 * Math.max(1, Math.abs(hi)); it++) {
          const mid = 0.5 * (lo + hi);
          evalAt(mid);
          const gm = f(o, y) - level;
          if (gm >= 0 === upward) hi = mid;
          else lo = mid;
        }
        const root = 0.5 * (lo + hi);
        s += upward ? ts[k] - root : root - ts[k - 1];
      }
    }
    return s;
  };
  const observer = (v: StepView, tEnd: number) => {
    view = v;
    const a = Math.max(v.tOld, from);
    const b = Math.min(tEnd, to);
    if (!(b > a) || !tracked.length) return;
    const half = 0.5 * (b - a);
    const mid = 0.5 * (a + b);
    // Range of each level function over the quadrature nodes (both ends among them): a step entirely on one side of
    // a level (almost all of them) needs no root search.
    for (const d of tracked) {
      d.lo.fill(Infinity);
      d.hi.fill(-Infinity);
    }
    const note = (d: Tracked) => {
      const c = d.conc(o, y);
      d.lo[0] = Math.min(d.lo[0], c);
      d.hi[0] = Math.max(d.hi[0], c);
      if (d.occ) {
        const r = d.occ(o, y);
        d.lo[1] = Math.min(d.lo[1], r);
        d.hi[1] = Math.max(d.hi[1], r);
      }
    };
    for (let q = 0; q < GL_X.length; q++) {
      const t = mid + half * GL_X[q];
      evalAt(t);
      for (const d of tracked) {
        d.res.auc += half * GL_W[q] * d.conc(o, y);
        if (d.occ && a >= d.occFrom) d.res.occupancyIntegral! += half * GL_W[q] * d.occ(o, y);
        note(d);
      }
    }
    for (const d of tracked) {
      if (d.occ) {
        const oa = Math.max(a, d.occFrom);
        // Doses are discontinuities of the solve, so no step straddles the first dose; if one did (a window
        // start inside a step), its part after the dose gets its own quadrature.
        if (oa > a && b > oa) {
          const h2 = 0.5 * (b - oa);
          const m2 = 0.5 * (b + oa);
          for (let q = 0; q < GL_X.length; q++) {
            evalAt(m2 + h2 * GL_X[q]);
            d.res.occupancyIntegral! += h2 * GL_W[q] * d.occ(o, y);
          }
        }
        if (b > oa) {
          const s = oa === a ? side(d.lo[1], d.hi[1], 0.9) : 0;
          d.res.timeOccupancyAbove90! += s > 0 ? b - oa : s < 0 ? 0 : above(d.occ, 0.9, oa, b);
        }
      }
      if (d.threshold !== undefined) {
        const s = side(d.lo[0], d.hi[0], d.threshold);
        d.res.timeAboveThreshold! += s > 0 ? b - a : s < 0 ? 0 : above(d.conc, d.threshold, a, b);
      }
    }
  };
  const result = (): ExposureIntegrals => ({
    from,
    to,
    drugs: Object.fromEntries(tracked.map((d) => [d.drug, d.res])),
  });
  return { observer, result };
}

/** The integrator for a simulation over output times `times`, with each drug's first dose from its dose records. */
export function exposureForSimulation(
  model: CompiledModel,
  params: Float64Array,
  times: Float64Array,
  doses: readonly { target: string; time: number; amount: number }[],
) {
  const first: Record<string, number> = {};
  for (const [drug, role] of Object.entries(model.spec.roles?.drugs ?? {})) {
    const targets = doseTargets(model, role);
    for (const d of doses) if (targets.has(d.target) && d.amount > 0 && !(first[drug] <= d.time)) first[drug] = d.time;
  }
  return exposureIntegrator(model, params, times[0], times[times.length - 1], first);
}
