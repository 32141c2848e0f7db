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
  /** Called with every accepted step and the end of its part that stands (an event may cut it short): exact integrals on the dense output. */
  stepObserver?: (v: StepView, tEnd: number) => void;
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
      return tightest < ODEX_BELOW_RTOL
        ? { driver: odexDriver, name: 'odex' }
        : { driver: stepperDriver(stepperFactories.dopri5), name: 'dopri5' };
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

/**
 * Solve an initial value problem with doses and events. The work is one IvpRun: its stages are named
 * methods (start, a segment, the end of a segment at a dose or an event, finish) over state kept in one
 * object, rather than closures sharing variables.
 */
export function solveIvp(prob: IvpProblem): IvpSolution {
  return new IvpRun(prob).solve();
}

/** The state of one solve, and its stages. */
class IvpRun {
  private readonly prob: IvpProblem;
  private readonly n: number;
  private readonly out: Float64Array;
  private readonly counters = zeroCounters();
  private readonly events: StateEvent[];
  private readonly firedEvents: { name: string; t: number }[] = [];
  private readonly switches: { t: number; method: string }[] = [];
  private readonly nonNeg: Uint8Array | undefined;
  private readonly hasNonNeg: boolean;
  private readonly maxSteps: number;
  private readonly deadline: number;
  private readonly driver: SegmentDriver;
  private readonly name: string;
  /** The driver is odex: it knows nothing of non-negative states and does not reject non-finite steps. */
  private readonly isOdex: boolean;
  /**
   * The options handed to each segment: this run's own object (the caller's problem is never mutated);
   * startWith and firstStep are set before each segment from the end of the previous one.
   */
  private readonly segmentOpts: StepperOptions;

  // Input rates of running infusions, added to the model's right-hand side.
  private readonly rates: Float64Array;
  private active: number[] = [];
  private readonly rhsWithRates: Rhs;
  private readonly rhsNonNeg: Rhs;

  /** Current time and state (between segments). */
  private t: number;
  private readonly y: Float64Array;
  private iOut = 0;
  private readonly discs: Discontinuity[];
  private iDisc = 0;

  // Events: armed while the condition is false (g <= 0).
  private readonly gVal: Float64Array;
  private readonly armed: Uint8Array;
  private readonly before: Float64Array;
  private readonly tmp: Float64Array;

  // Per-segment state read by the step observer.
  private tb: number;
  private eventAt = NaN;
  private eventK = -1;
  private failure: SolveError | null = null;
  private lastView: StepView | null = null;
  private stepsTotal = 0;
  private segments = 0;
  /** The step observer, bound once for the whole solve. */
  private readonly onStep: (v: StepView) => boolean;

  constructor(prob: IvpProblem) {
    this.prob = prob;
    const n = prob.y0.length;
    this.n = n;
    this.out = new Float64Array(prob.outputTimes.length * n);
    this.events = prob.events ?? [];
    this.nonNeg = prob.nonNegative;
    this.hasNonNeg = !!this.nonNeg && this.nonNeg.some((v) => v === 1);
    this.maxSteps = prob.maxSteps ?? 500_000;
    this.deadline = prob.deadline ?? Infinity;
    const { driver, name } = pickDriver(prob.method ?? 'auto', prob.rtol);
    this.driver = driver;
    this.name = name;
    this.isOdex = driver === odexDriver;
    // Infusion rates are constant within a segment, so they do not make the problem non-autonomous.
    this.segmentOpts = {
      rtol: prob.rtol,
      atol: prob.atol,
      jac: prob.jac,
      nonNegative: this.nonNeg,
      maxStep: prob.maxStep,
      autonomous: prob.autonomous,
    };
    this.rates = new Float64Array(n);
    const baseRhs = prob.rhs,
      rates = this.rates;
    this.rhsWithRates = (t, y, dydt) => {
      baseRhs(t, y, dydt);
      const active = this.active;
      for (let k = 0; k < active.length; k++) dydt[active[k]] += rates[active[k]];
    };
    // odex knows nothing of non-negative states: a component at or below zero may not decrease further.
    // (The state itself is not clipped inside the RHS: that would perturb stages whose tiny negative values
    // are only noise within atol, and with them the solution of the positive components.)
    const nonNeg = this.nonNeg,
      rhsWithRates = this.rhsWithRates;
    this.rhsNonNeg = (t, y, dydt) => {
      rhsWithRates(t, y, dydt);
      for (let i = 0; i < n; i++) if (nonNeg![i] && y[i] <= 0 && dydt[i] < 0) dydt[i] = 0;
    };
    this.t = prob.t0;
    this.tb = prob.t0;
    this.y = Float64Array.from(prob.y0);
    // Before t0 only infusion rates matter (an infusion may be running at the start); jumps there are past.
    this.discs = (prob.discontinuities ?? []).filter((d) => d.t <= prob.tEnd);
    this.gVal = new Float64Array(this.events.length);
    this.armed = new Uint8Array(this.events.length);
    this.before = new Float64Array(n);
    this.tmp = new Float64Array(n);
    this.onStep = (v) => this.observeStep(v);
  }

  solve(): IvpSolution {
    this.start();
    while (this.t < this.prob.tEnd) {
      this.tb = this.iDisc < this.discs.length ? Math.min(this.discs[this.iDisc].t, this.prob.tEnd) : this.prob.tEnd;
      if (this.tb <= this.t) {
        this.applyDisc(this.discs[this.iDisc++]);
        this.fireDue(this.t);
        continue;
      }
      this.runSegment();
    }
    return this.finish();
  }

  /** Without running infusions the model's own function goes to the method (one call level less). */
  private pickRhs(): Rhs {
    return this.hasNonNeg && this.isOdex ? this.rhsNonNeg : this.active.length ? this.rhsWithRates : this.prob.rhs;
  }

  private clamp(y: Float64Array): void {
    if (!this.hasNonNeg) return;
    const nonNeg = this.nonNeg!;
    for (let i = 0; i < this.n; i++) if (nonNeg[i] && y[i] < 0) y[i] = 0;
  }

  /**
   * Output row k from src. Our own methods never hand out a negative non-negative state (steps are clipped,
   * dense output keeps its sign); odex's interpolant can undershoot, so only its values are clamped here.
   */
  private record(k: number, src: Float64Array): void {
    const n = this.n,
      out = this.out,
      base = k * n;
    for (let i = 0; i < n; i++) out[base + i] = src[i];
    if (this.hasNonNeg && this.isOdex) {
      const nonNeg = this.nonNeg!;
      for (let i = 0; i < n; i++) if (nonNeg[i] && out[base + i] < 0) out[base + i] = 0;
    }
  }

  /** Rows at output times up to and including t, from the current state. */
  private recordUpTo(t: number): void {
    const times = this.prob.outputTimes;
    while (this.iOut < times.length && times[this.iOut] <= t) this.record(this.iOut++, this.y);
  }

  private applyDisc(d: Discontinuity): void {
    const y = this.y,
      rates = this.rates;
    if (d.t >= this.prob.t0) for (const j of d.jumps) y[j.index] += j.amount;
    for (const r of d.rateChanges) {
      rates[r.index] += r.delta;
      // Rounding leaves tiny residues when infusions end: treat them as zero.
      if (Math.abs(rates[r.index]) < 1e-12 * Math.abs(r.delta)) rates[r.index] = 0;
    }
    const active: number[] = [];
    for (let i = 0; i < this.n; i++) if (rates[i] !== 0) active.push(i);
    this.active = active;
    this.clamp(y);
  }

  /** Apply event k at time `at`. One whose change leaves the state as it was (a clone already at zero) is not reported. */
  private fire(k: number, at: number): void {
    const y = this.y;
    this.before.set(y);
    this.events[k].apply(at, y);
    this.clamp(y);
    let changed = false;
    for (let i = 0; i < this.n; i++) if (y[i] !== this.before[i]) changed = true;
    if (changed) this.firedEvents.push({ name: this.events[k].name, t: at });
    this.armed[k] = 0;
  }

  /** Fire events whose condition became true at a restart point (start, after a dose or another event), then re-arm. */
  private fireDue(at: number): void {
    const events = this.events,
      y = this.y;
    for (let pass = 0; pass < 10; pass++) {
      let any = false;
      for (let k = 0; k < events.length; k++) {
        const g = events[k].g(at, y);
        if (g > 0 && this.armed[k]) {
          this.fire(k, at);
          any = true;
        }
      }
      if (!any) break;
    }
    for (let k = 0; k < events.length; k++) {
      this.gVal[k] = events[k].g(at, y);
      this.armed[k] = this.gVal[k] <= 0 ? 1 : 0;
    }
  }

  /** Doses at t0 come first; then events already true at the start fire once; then the rows at t0. */
  private start(): void {
    const t0 = this.prob.t0;
    this.clamp(this.y);
    while (this.iDisc < this.discs.length && this.discs[this.iDisc].t <= t0) this.applyDisc(this.discs[this.iDisc++]);
    this.armed.fill(1);
    this.fireDue(t0);
    this.recordUpTo(t0);
  }

  /** The step observer: failure checks, the earliest event in the step, output rows inside the step. false stops the segment. */
  private observeStep(v: StepView): boolean {
    const n = this.n,
      events = this.events,
      tmp = this.tmp,
      armed = this.armed,
      gVal = this.gVal;
    this.lastView = v;
    this.stepsTotal++;
    // Our own methods reject non-finite steps themselves; odex does not.
    if (this.isOdex) {
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(v.y[i])) {
          this.failure = new SolveError(
            `the solution became non-finite (state ${i}) near t = ${v.tOld}`,
            'non-finite',
            v.tOld,
            true,
          );
          return false;
        }
      }
    }
    if ((this.stepsTotal & 255) === 0 && Date.now() > this.deadline) {
      this.failure = new SolveError(`time budget exceeded at t = ${v.t}`, 'time-budget', v.t, true);
      return false;
    }
    // Earliest event in this step.
    let tStop = v.t;
    for (let k = 0, ne = events.length; k < ne; k++) {
      tmp.set(v.y);
      this.clamp(tmp);
      const g1 = events[k].g(v.t, tmp);
      if (armed[k] && g1 > 0) {
        const ev = events[k];
        const gk = (tt: number) => {
          v.interpolate(tt, tmp);
          this.clamp(tmp);
          return ev.g(tt, tmp);
        };
        const te = locateRoot(gk, v.tOld, Math.min(gVal[k], 0), v.t, g1);
        if (te < tStop || this.eventK < 0) {
          tStop = te;
          this.eventK = k;
        }
      } else if (!armed[k] && g1 <= 0) {
        armed[k] = 1; // re-armed within the step; a crossing back up is caught from the next step on
      }
      gVal[k] = g1;
    }
    const last = this.eventK >= 0 ? tStop : v.t;
    this.prob.stepObserver?.(v, last);
    // Output times inside the step; one at the segment's end waits for the dose (post-dose values).
    const times = this.prob.outputTimes,
      nOut = times.length,
      tb = this.tb,
      eventK = this.eventK;
    const clampOutputs = this.hasNonNeg && this.isOdex;
    let iOut = this.iOut;
    while (iOut < nOut && (times[iOut] < last || (times[iOut] === last && last < tb && eventK < 0))) {
      const to = times[iOut];
      if (to === v.t) this.record(iOut++, v.y);
      else if (clampOutputs) {
        v.interpolate(to, tmp);
        this.record(iOut++, tmp);
      } else v.interpolate(to, this.out, n * iOut++); // straight into the result row
    }
    this.iOut = iOut;
    if (eventK >= 0) {
      this.eventAt = tStop;
      return false;
    }
    return true;
  }

  /** One smooth segment [t, tb]: run the driver, then restart at an event, or apply the doses at tb. */
  private runSegment(): void {
    this.segments++;
    this.eventAt = NaN;
    this.eventK = -1;
    this.failure = null;
    this.lastView = null;
    const res = this.driver(
      this.pickRhs(),
      this.t,
      this.y,
      this.tb,
      this.segmentOpts,
      this.onStep,
      Math.max(1, this.maxSteps - this.counters.steps),
    );
    addCounters(this.counters, res.counters);
    if (res.switches) {
      const sw = this.switches;
      for (const s of res.switches) if (!sw.length || sw[sw.length - 1].method !== s.method) sw.push(s);
    }
    // The next segment starts with the method in charge now (a stiff problem stays with the stiff method),
    // with the step size it would have taken next (error control corrects it if a dose changed much).
    this.segmentOpts.startWith = res.endMethod === 'rodas' ? 'rodas' : undefined;
    this.segmentOpts.firstStep = res.nextStep !== undefined && res.nextStep > 0 ? res.nextStep : undefined;
    if (this.failure) throw this.failure;
    if (res.status === 'failed') {
      const reached = res.tReached ?? (this.lastView as StepView | null)?.t ?? this.t;
      throw new SolveError(
        `${res.message}`,
        res.reason === 'non-finite' ? 'non-finite' : res.reason === 'max-steps' ? 'max-steps' : 'step-size',
        reached,
        true,
      );
    }
    if (res.status === 'stopped') this.restartAtEvent();
    else this.endSegmentAtBound();
  }

  /** An event: restart from the located time with the interpolated state (the driver's last view still describes the step that contains it). */
  private restartAtEvent(): void {
    const te = this.eventAt;
    this.lastView!.interpolate(te, this.y);
    this.clamp(this.y);
    this.t = te;
    this.fire(this.eventK, te);
    this.fireDue(te);
    this.recordUpTo(te);
  }

  /** Reached tb: take the end state, apply the doses there, record rows at tb (post-dose). */
  private endSegmentAtBound(): void {
    const tb = this.tb;
    this.t = tb;
    if (this.lastView) this.y.set(this.lastView.y);
    this.clamp(this.y);
    if (this.iDisc < this.discs.length && this.discs[this.iDisc].t === tb) {
      while (this.iDisc < this.discs.length && this.discs[this.iDisc].t === tb)
        this.applyDisc(this.discs[this.iDisc++]);
      this.fireDue(tb);
    }
    this.recordUpTo(tb);
  }

  /** Remaining rows, the last check for non-finite values, the solution. */
  private finish(): IvpSolution {
    const n = this.n,
      out = this.out,
      times = this.prob.outputTimes;
    while (this.iOut < times.length) this.record(this.iOut++, this.y);
    // Last line of defence: a method that did not notice a NaN must not hand it on as a number.
    for (let k = 0; k < out.length; k++) {
      if (!Number.isFinite(out[k])) {
        const row = Math.floor(k / n);
        throw new SolveError(
          `the solution is not finite (state ${k % n}) at t = ${times[row]}`,
          'non-finite',
          row > 0 ? times[row - 1] : this.prob.t0,
          true,
        );
      }
    }
    return {
      y: out,
      events: this.firedEvents,
      counters: this.counters,
      method: this.name,
      switches: this.switches,
      segments: this.segments,
    };
  }
}
