// A segment driver runs one method over one smooth segment and shows each accepted step to an observer,
// which fills output times and watches for events. Pull-style steppers (our own methods) and push-style
// ones (odex) look the same from here.
import type { Rhs, Stepper, StepperFactory, StepperOptions, SolverCounters } from './types.ts';
import { zeroCounters } from './types.ts';

export interface StepView {
  readonly tOld: number;
  readonly t: number;
  readonly y: Float64Array;
  interpolate(t: number, out: Float64Array, offset?: number): void;
}

export interface SegmentOutcome {
  /** finished: reached tBound; stopped: the observer asked to stop; failed: the method gave up. */
  status: 'finished' | 'stopped' | 'failed';
  counters: SolverCounters;
  message: string;
  reason?: 'non-finite' | 'step-size' | 'max-steps' | 'other';
  /** For auto switching: the methods used and when they took over. */
  switches?: { t: number; method: string }[];
  /** The step size the method would take next, to start the following segment with. */
  nextStep?: number;
  /** How far the method got (for failures). */
  tReached?: number;
  /** For auto switching: the method in charge at the end of the segment. */
  endMethod?: string;
}

/** onStep returns false to stop the segment (an event was found, or a budget ran out). */
export type SegmentDriver = (
  f: Rhs,
  t0: number,
  y0: Float64Array,
  tBound: number,
  opts: StepperOptions,
  onStep: (view: StepView) => boolean,
  maxSteps: number,
) => SegmentOutcome;

type Extra = { switches?: { t: number; method: string }[]; h?: number; method?: string };

/** Counters of a stepper since `before`. */
function countersSince(st: Stepper, before: SolverCounters): SolverCounters {
  const c = st.counters;
  return {
    steps: c.steps - before.steps,
    rejected: c.rejected - before.rejected,
    rhsEvaluations: c.rhsEvaluations - before.rhsEvaluations,
    jacobianEvaluations: c.jacobianEvaluations - before.jacobianEvaluations,
    luDecompositions: c.luDecompositions - before.luDecompositions,
  };
}

function failedOutcome(st: Stepper & Extra, before: SolverCounters): SegmentOutcome {
  const reason = st.failReason ?? 'other';
  return {
    status: 'failed',
    counters: countersSince(st, before),
    message: st.message || `${st.name} failed at t = ${st.t}`,
    reason,
    switches: st.switches,
    tReached: st.t,
  };
}

/**
 * Wrap a pull-style StepperFactory as a SegmentDriver. One driver serves one solve: its stepper is made on
 * the first segment and reused (no reallocation) on the following ones; counters are reported per segment.
 */
export function stepperDriver(factory: StepperFactory): SegmentDriver {
  let s: (Stepper & Extra) | null = null;
  const before = zeroCounters();
  return (f, t0, y0, tBound, opts, onStep, maxSteps) => {
    if (s && s.reuse) s.reuse(f, t0, y0, tBound, opts);
    else s = factory(f, t0, y0, tBound, opts);
    const st: Stepper & Extra = s;
    const c0 = st.counters;
    before.steps = c0.steps;
    before.rejected = c0.rejected;
    before.rhsEvaluations = c0.rhsEvaluations;
    before.jacobianEvaluations = c0.jacobianEvaluations;
    before.luDecompositions = c0.luDecompositions;
    // A method can fail while starting (a non-finite derivative at t0).
    if (st.status === 'failed') return failedOutcome(st, before);
    let steps = 0;
    while (st.status === 'running') {
      if (steps >= maxSteps) {
        return {
          status: 'failed',
          counters: countersSince(st, before),
          message: `${st.name}: maximum number of steps exceeded at t = ${st.t}`,
          reason: 'max-steps',
          switches: st.switches,
          tReached: st.t,
        };
      }
      if (st.step() === 'failed') return failedOutcome(st, before);
      steps++;
      if (!onStep(st))
        return {
          status: 'stopped',
          counters: countersSince(st, before),
          message: '',
          switches: st.switches,
          nextStep: st.h,
          endMethod: st.method,
        };
    }
    return {
      status: 'finished',
      counters: countersSince(st, before),
      message: '',
      switches: st.switches,
      nextStep: st.h,
      endMethod: st.method,
    };
  };
}
