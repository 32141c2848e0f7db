// odex (Hairer's GBS extrapolation, the npm package) behind the orchestrator's segment-driver interface.
// odex runs a whole span and reports each accepted step to a callback with its dense output, so it is
// driven push-style rather than through Stepper.step(); the observer sees the same StepView either way.
import { createRequire } from 'node:module';
import type { OdexModule } from '../types/odex.ts';
import type { Rhs, StepperOptions, SolverCounters } from './types.ts';
import { zeroCounters } from './types.ts';
import type { SegmentDriver } from './driver.ts';

// Loaded through require with local types: the package ships TypeScript sources that fail strict checks.
const { Solver, Outcome } = createRequire(import.meta.url)('odex') as OdexModule;

export const odexDriver: SegmentDriver = (
  f: Rhs,
  t0: number,
  y0: Float64Array,
  tBound: number,
  opts: StepperOptions,
  onStep,
  maxSteps,
) => {
  const n = y0.length;
  const counters: SolverCounters = zeroCounters();
  const solver = new Solver(n);
  solver.denseOutput = true;
  solver.relativeTolerance = Array.from(opts.rtol);
  solver.absoluteTolerance = Array.from(opts.atol);
  solver.maxSteps = Math.max(2, maxSteps);
  if (opts.maxStep !== undefined) solver.maxStepSize = opts.maxStep;
  if (opts.firstStep !== undefined) solver.initialStepSize = opts.firstStep;
  const yIn = new Float64Array(n);
  const dy = new Float64Array(n);
  const deriv = (t: number, y: number[]): number[] => {
    for (let i = 0; i < n; i++) yIn[i] = y[i];
    f(t, yIn, dy);
    counters.rhsEvaluations++;
    return Array.from(dy);
  };
  const y = new Float64Array(n);
  let dense: ((c: number, x: number) => number) | undefined;
  const view: {
    tOld: number;
    t: number;
    y: Float64Array;
    interpolate(t: number, out: Float64Array, offset?: number): void;
  } = {
    tOld: t0,
    t: t0,
    y,
    interpolate(t: number, out: Float64Array, offset = 0) {
      if (!dense || t === view.t) {
        out.set(y, offset);
        return;
      }
      for (let i = 0; i < n; i++) out[offset + i] = dense(i, t);
    },
  };
  let stopped = false;
  const result = solver.solve(deriv, t0, Array.from(y0), tBound, (nr, xOld, x, yv, d) => {
    if (nr === 1) return true; // the initial point
    view.tOld = xOld;
    view.t = x;
    for (let i = 0; i < n; i++) y[i] = yv[i];
    dense = d;
    counters.steps++;
    if (!onStep(view)) {
      stopped = true;
      return false;
    }
    return true;
  });
  counters.rejected += result.nReject;
  if (stopped) return { status: 'stopped', counters, message: '' };
  if (result.outcome === Outcome.MaxStepsExceeded) {
    return {
      status: 'failed',
      counters,
      message: `odex: maximum number of steps exceeded at t = ${view.t}`,
      reason: 'max-steps',
      tReached: view.t,
    };
  }
  return { status: 'finished', counters, message: '' };
};
