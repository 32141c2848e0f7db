// A segment driver runs one method over one smooth segment and shows each accepted step to an observer,
// which fills output times and watches for events. Pull-style steppers (our own methods) and push-style
// ones (odex) look the same from here.
import type { Rhs, Stepper, StepperFactory, StepperOptions, SolverCounters } from './types.ts';

export interface StepView {
  readonly tOld: number;
  readonly t: number;
  readonly y: Float64Array;
  interpolate(t: number, out: Float64Array): void;
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
  f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions,
  onStep: (view: StepView) => boolean, maxSteps: number,
) => SegmentOutcome;

/** Wrap a pull-style StepperFactory as a SegmentDriver. */
export function stepperDriver(factory: StepperFactory): SegmentDriver {
  return (f, t0, y0, tBound, opts, onStep, maxSteps) => {
    const s: Stepper & { switches?: { t: number; method: string }[]; h?: number; method?: string } = factory(f, t0, y0, tBound, opts);
    let steps = 0;
    const failed = (): SegmentOutcome => {
      const reason = /finite|nan/i.test(s.message) ? 'non-finite' : /step/i.test(s.message) ? 'step-size' : 'other';
      return { status: 'failed', counters: s.counters, message: s.message || `${s.name} failed at t = ${s.t}`, reason, switches: s.switches, tReached: s.t };
    };
    // A method can fail while starting (a non-finite derivative at t0).
    if (s.status === 'failed') return failed();
    while (s.status === 'running') {
      if (steps >= maxSteps) {
        return { status: 'failed', counters: s.counters, message: `${s.name}: maximum number of steps exceeded at t = ${s.t}`, reason: 'max-steps', switches: s.switches, tReached: s.t };
      }
      const st = s.step();
      if (st === 'failed') return failed();
      steps++;
      if (!onStep(s)) return { status: 'stopped', counters: s.counters, message: '', switches: s.switches, nextStep: s.h, endMethod: s.method };
    }
    return { status: 'finished', counters: s.counters, message: '', switches: s.switches, nextStep: s.h, endMethod: s.method };
  };
}
