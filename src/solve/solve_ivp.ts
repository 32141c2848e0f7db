// The orchestrator (scipy's solve_ivp, with doses): integrates segment by segment between discontinuities
// (bolus jumps, infusion starts and stops) without ever stepping across one, fills the output times from
// dense output, locates state events by root finding on the interpolant, and restarts after each.
import type { JacobianFn, MethodName, Rhs, SolverCounters, StepperOptions } from './types.ts';
import { addCounters, zeroCounters } from './types.ts';
import { stepperDriver, type SegmentDriver, type StepView } from './driver.ts';
import { odexDriver } from './odex.ts';
import { stepperFactories } from './methods.ts';
import { SolveError } from '../errors.ts';

/** Something that happens at a fixed time: state jumps (bolus) and changes of input rates (infusions). */
export interface Discontinuity {
  t: number;
  jumps: { index: number; amount: number }[];
  rateChanges: { index: number; delta: number }[];
}

/** A state event: fires when g goes from <= 0 to > 0; `apply` changes y in place. */
export interface StateEvent {
  name: string;
  g: (t: number, y: Float64Array) => number;
  apply: (t: number, y: Float64Array) => void;
}

export interface IvpProblem {
  rhs: Rhs;
  t0: number;
  tEnd: number;
  y0: Float64Array;
  /** Increasing, within [t0, tEnd]. */
  outputTimes: Float64Array;
  /** Increasing in t; entries outside (t0, tEnd] other than at t0 are ignored. */
  discontinuities?: Discontinuity[];
  events?: StateEvent[];
  method?: MethodName;
  rtol: Float64Array;
  atol: Float64Array;
  jac?: JacobianFn;
  nonNegative?: Uint8Array;
  maxStep?: number;
  maxSteps?: number;
  /** The right-hand side does not depend on t (stiff methods skip the df/dt estimate). */
  autonomous?: boolean;
  /** Wall-clock deadline (Date.now() value) after which the solve is stopped. */
  deadline?: number;
}

export interface IvpSolution {
  /** Row-major: y[k*n + i] is state i at outputTimes[k]. */
  y: Float64Array;
  events: { name: string; t: number }[];
  counters: SolverCounters;
  method: string;
  switches: { t: number; method: string }[];
  segments: number;
}

/** Below this relative tolerance (on every component) `nonstiff` means odex: extrapolation wins there. */
const ODEX_BELOW_RTOL = 1e-10;

/**
 * Which driver a method name means. `nonstiff` picks odex when the tightest requested relative tolerance
 * (over all components, not only the first) is below ODEX_BELOW_RTOL.
 */
export function pickDriver(method: MethodName, rtol: ArrayLike<number>): { driver: SegmentDriver; name: string } {
  switch (method) {
    case 'odex':
      return { driver: odexDriver, name: 'odex' };
    case 'nonstiff': {
      let tightest = Infinity;
      for (let i = 0; i < rtol.length; i++) tightest = Math.min(tightest, rtol[i]);
      return tightest < ODEX_BELOW_RTOL ? { driver: odexDriver, name: 'odex' } : { driver: stepperDriver(stepperFactories.dopri5), name: 'dopri5' };
    }
    case 'dopri5':
      return { driver: stepperDriver(stepperFactories.dopri5), name: 'dopri5' };
    case 'stiff':
    case 'rodas':
      return { driver: stepperDriver(stepperFactories.rodas), name: 'rodas' };
    case 'auto':
    default:
      return { driver: stepperDriver(stepperFactories.auto), name: 'auto' };
  }
}

/** Illinois-modified regula falsi for g on [a, b] with g(a) <= 0 < g(b); returns the first t with g > 0 within tolerance. */
function locateRoot(g: (t: number) => number, a: number, ga: number, b: number, gb: number): number {
  const tol = 8 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b), 1e-300) + 1e-13 * (b - a);
  let side = 0;
  for (let it = 0; it < 200 && b - a > tol; it++) {
    let c = (a * gb - b * ga) / (gb - ga);
    if (!(c > a && c < b)) c = 0.5 * (a + b);
    const gc = g(c);
    if (gc > 0) {
      b = c;
      gb = gc;
      if (side === -1) ga /= 2;
      side = -1;
    } else {
      a = c;
      ga = gc;
      if (side === 1) gb /= 2;
      side = 1;
    }
  }
  return b;
}

export function solveIvp(prob: IvpProblem): IvpSolution {
  const n = prob.y0.length;
  const { t0, tEnd, outputTimes } = prob;
  const nOut = outputTimes.length;
  const out = new Float64Array(nOut * n);
  const counters = zeroCounters();
  const events = prob.events ?? [];
  const firedEvents: { name: string; t: number }[] = [];
  const nonNeg = prob.nonNegative;
  const hasNonNeg = !!nonNeg && nonNeg.some((v) => v === 1);
  const maxSteps = prob.maxSteps ?? 500_000;
  const deadline = prob.deadline ?? Infinity;
  const { driver, name } = pickDriver(prob.method ?? 'auto', prob.rtol);
  const switches: { t: number; method: string }[] = [];

  // Input rates of running infusions, added to the model's right-hand side.
  const rates = new Float64Array(n);
  let active: number[] = [];
  const baseRhs = prob.rhs;
  const rhsWithRates: Rhs = (t, y, dydt) => {
    baseRhs(t, y, dydt);
    for (let k = 0; k < active.length; k++) dydt[active[k]] += rates[active[k]];
  };
  // odex knows nothing of non-negative states: a component at or below zero may not decrease further.
  // (The state itself is not clipped inside the RHS: that would perturb stages whose tiny negative values
  // are only noise within atol, and with them the solution of the positive components.)
  const rhsNonNeg: Rhs = (t, y, dydt) => {
    rhsWithRates(t, y, dydt);
    for (let i = 0; i < n; i++) if (nonNeg![i] && y[i] <= 0 && dydt[i] < 0) dydt[i] = 0;
  };
  const guarded = hasNonNeg && driver === odexDriver;
  const checkFinite = driver === odexDriver;
  // Without running infusions the model's own function goes to the method (one call level less).
  const pickRhs = (): Rhs => (guarded ? rhsNonNeg : active.length ? rhsWithRates : baseRhs);
  // Infusion rates are constant within a segment, so they do not make the problem non-autonomous. Each
  // segment gets its own options object (the method and step to start with change); this one is never mutated.
  const baseOpts: Readonly<StepperOptions> = { rtol: prob.rtol, atol: prob.atol, jac: prob.jac, nonNegative: nonNeg, maxStep: prob.maxStep, autonomous: prob.autonomous };
  let startWith: StepperOptions['startWith'];
  let firstStep: number | undefined;

  const clamp = (y: Float64Array) => {
    if (hasNonNeg) for (let i = 0; i < n; i++) if (nonNeg![i] && y[i] < 0) y[i] = 0;
  };

  const y = Float64Array.from(prob.y0);
  clamp(y);
  let t = t0;
  let iOut = 0;
  // Our own methods never hand out a negative non-negative state (steps are clipped, dense output keeps
  // its sign); odex's interpolant can undershoot, so only its values are clamped here.
  const clampOutputs = hasNonNeg && driver === odexDriver;
  const record = (k: number, src: Float64Array) => {
    const base = k * n;
    for (let i = 0; i < n; i++) out[base + i] = src[i];
    if (clampOutputs) for (let i = 0; i < n; i++) if (nonNeg![i] && out[base + i] < 0) out[base + i] = 0;
  };

  // Before t0 only infusion rates matter (an infusion may be running at the start); jumps there are past.
  const discs = (prob.discontinuities ?? []).filter((d) => d.t <= tEnd);
  let iDisc = 0;
  const applyDisc = (d: Discontinuity) => {
    if (d.t >= t0) for (const j of d.jumps) y[j.index] += j.amount;
    for (const r of d.rateChanges) {
      rates[r.index] += r.delta;
      // Rounding leaves tiny residues when infusions end: treat them as zero.
      if (Math.abs(rates[r.index]) < 1e-12 * Math.abs(r.delta)) rates[r.index] = 0;
    }
    active = [];
    for (let i = 0; i < n; i++) if (rates[i] !== 0) active.push(i);
    clamp(y);
  };

  // Event bookkeeping: an event is armed while its condition is false (g <= 0). An event whose change
  // leaves the state as it was (a clone already at zero when 'T < 1' sets it to 0) is not reported.
  const before = new Float64Array(n);
  const fire = (k: number, at: number) => {
    before.set(y);
    events[k].apply(at, y);
    clamp(y);
    let changed = false;
    for (let i = 0; i < n; i++) if (y[i] !== before[i]) changed = true;
    if (changed) firedEvents.push({ name: events[k].name, t: at });
    armed[k] = 0;
  };
  const gVal = new Float64Array(events.length);
  const armed = new Uint8Array(events.length);
  const fireDue = (at: number) => {
    // Fire events whose condition became true at a restart point (start, after a dose or another event).
    for (let pass = 0; pass < 10; pass++) {
      let any = false;
      for (let k = 0; k < events.length; k++) {
        const g = events[k].g(at, y);
        if (g > 0 && armed[k]) {
          fire(k, at);
          any = true;
        }
      }
      if (!any) break;
    }
    for (let k = 0; k < events.length; k++) {
      gVal[k] = events[k].g(at, y);
      armed[k] = gVal[k] <= 0 ? 1 : 0;
    }
  };

  // Doses at t0 come first; then events already true at the start fire once.
  while (iDisc < discs.length && discs[iDisc].t <= t0) applyDisc(discs[iDisc++]);
  armed.fill(1);
  fireDue(t0);
  while (iOut < nOut && outputTimes[iOut] <= t0) record(iOut++, y);

  const tmp = new Float64Array(n);
  let segments = 0;
  let stepsTotal = 0;
  // Per-segment state read by the step observer (one closure for the whole solve, not one per segment).
  let tb = t0;
  let eventAt = NaN;
  let eventK = -1;
  let failure: SolveError | null = null;
  let lastView: StepView | null = null;
  const onStep = (v: StepView): boolean => {
    lastView = v;
    stepsTotal++;
    // Our own methods reject non-finite steps themselves; odex does not.
    if (checkFinite) {
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(v.y[i])) {
          failure = new SolveError(`the solution became non-finite (state ${i}) near t = ${v.tOld}`, 'non-finite', v.tOld);
          return false;
        }
      }
    }
    if ((stepsTotal & 255) === 0 && Date.now() > deadline) {
      failure = new SolveError(`time budget exceeded at t = ${v.t}`, 'time-budget', v.t);
      return false;
    }
    // Earliest event in this step.
    let tStop = v.t;
    for (let k = 0; k < events.length; k++) {
      tmp.set(v.y);
      clamp(tmp);
      const g1 = events[k].g(v.t, tmp);
      if (armed[k] && g1 > 0) {
        const gk = (tt: number) => {
          v.interpolate(tt, tmp);
          clamp(tmp);
          return events[k].g(tt, tmp);
        };
        const te = locateRoot(gk, v.tOld, Math.min(gVal[k], 0), v.t, g1);
        if (te < tStop || eventK < 0) {
          tStop = te;
          eventK = k;
        }
      } else if (!armed[k] && g1 <= 0) {
        armed[k] = 1; // re-armed within the step; a crossing back up is caught from the next step on
      }
      gVal[k] = g1;
    }
    const last = eventK >= 0 ? tStop : v.t;
    // Output times inside the step; one at the segment's end waits for the dose (post-dose values).
    while (iOut < nOut && (outputTimes[iOut] < last || (outputTimes[iOut] === last && last < tb && eventK < 0))) {
      const to = outputTimes[iOut];
      if (to === v.t) record(iOut++, v.y);
      else if (clampOutputs) {
        v.interpolate(to, tmp);
        record(iOut++, tmp);
      } else v.interpolate(to, out, n * iOut++); // straight into the result row
    }
    if (eventK >= 0) {
      eventAt = tStop;
      return false;
    }
    return true;
  };

  while (t < tEnd) {
    tb = iDisc < discs.length ? Math.min(discs[iDisc].t, tEnd) : tEnd;
    if (tb <= t) {
      applyDisc(discs[iDisc++]);
      fireDue(t);
      continue;
    }
    segments++;
    eventAt = NaN;
    eventK = -1;
    failure = null;
    lastView = null;
    const res = driver(pickRhs(), t, y, tb, { ...baseOpts, startWith, firstStep }, onStep, Math.max(1, maxSteps - counters.steps));
    addCounters(counters, res.counters);
    if (res.switches) {
      for (const sw of res.switches) {
        if (!switches.length || switches[switches.length - 1].method !== sw.method) switches.push(sw);
      }
    }
    // The next segment starts with the method in charge now (a stiff problem stays with the stiff method).
    startWith = res.endMethod === 'rodas' ? 'rodas' : undefined;
    // ... with the step size it would have taken next (error control corrects it if a dose changed much).
    firstStep = res.nextStep !== undefined && res.nextStep > 0 ? res.nextStep : undefined;
    if (failure) throw failure;
    if (res.status === 'failed') {
      const reached = res.tReached ?? (lastView as StepView | null)?.t ?? t;
      throw new SolveError(`${res.message}`, res.reason === 'non-finite' ? 'non-finite' : res.reason === 'max-steps' ? 'max-steps' : 'step-size', reached);
    }
    if (res.status === 'stopped') {
      // An event: restart from the located time with the interpolated state.
      const te = eventAt;
      // The driver's last view still describes the step that contains te.
      (lastView as StepView | null)!.interpolate(te, y);
      clamp(y);
      t = te;
      fire(eventK, t);
      fireDue(t);
      while (iOut < nOut && outputTimes[iOut] <= t) record(iOut++, y);
      continue;
    }
    // Reached tb.
    t = tb;
    if (lastView) y.set((lastView as StepView).y);
    clamp(y);
    if (iDisc < discs.length && discs[iDisc].t === tb) {
      while (iDisc < discs.length && discs[iDisc].t === tb) applyDisc(discs[iDisc++]);
      fireDue(t);
    }
    while (iOut < nOut && outputTimes[iOut] <= t) record(iOut++, y);
  }
  while (iOut < nOut) record(iOut++, y);
  // Last line of defence: a method that did not notice a NaN must not hand it on as a number.
  for (let k = 0; k < out.length; k++) {
    if (!Number.isFinite(out[k])) {
      const row = Math.floor(k / n);
      throw new SolveError(`the solution is not finite (state ${k % n}) at t = ${outputTimes[row]}`, 'non-finite', row > 0 ? outputTimes[row - 1] : t0);
    }
  }
  return { y: out, events: firedEvents, counters, method: name, switches, segments };
}
