// The step bookkeeping every one-step method shares (scipy's integrate/_ivp/base.py OdeSolver): time, state
// and status; tolerances and the largest step; the non-negative components; counters; failing with a
// message; starting a segment (restart / reuse) with the right-hand side checked at the start and Hairer's
// automatic initial step. A method supplies its step history (resetHistory), its start-of-segment
// derivative (startDerivative), step() and interpolate().
import type { Rhs, Stepper, StepperOptions, StepStatus, SolverCounters } from './types.ts';
import { zeroCounters } from './types.ts';
import { selectInitialStep, nonNegativeIndex, clipNegative } from './common.ts';

export abstract class StepperBase implements Stepper {
  abstract readonly name: string;
  readonly n: number;
  t: number;
  tOld: number;
  tBound: number;
  /** State after the last accepted step (a method may swap this buffer with its own work arrays). */
  y: Float64Array;
  status: StepStatus = 'running';
  message = '';
  failReason: Stepper['failReason'];
  readonly counters: SolverCounters = zeroCounters();
  /** Step size to try next. */
  h = 0;
  /** The last step attempt was rejected (the next accepted step may not grow h). */
  protected lastRejected = false;

  protected f: Rhs;
  protected readonly rtol: Float64Array;
  protected readonly atol: Float64Array;
  /** opts.maxStep, or Infinity. */
  protected readonly hMaxOpt: number;
  /** opts.nonNegative when some component is flagged, else null. */
  protected readonly nonNeg: Uint8Array | null;
  /** Indices of the non-negative components. */
  protected readonly nnIdx: Int32Array;
  /** this.rhs bound once (passed to helpers without allocating per call). */
  protected readonly rhsBound: Rhs;

  /** Subclasses allocate their work arrays, then call this.restart(t0, y0, tBound, opts.firstStep). */
  protected constructor(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions) {
    const n = y0.length;
    this.n = n;
    this.f = f;
    this.rtol = opts.rtol;
    this.atol = opts.atol;
    this.hMaxOpt = opts.maxStep !== undefined && opts.maxStep > 0 ? opts.maxStep : Infinity;
    this.nnIdx = nonNegativeIndex(n, opts.nonNegative);
    this.nonNeg = this.nnIdx.length > 0 ? opts.nonNegative! : null;
    this.rhsBound = (t, y, dydt) => this.rhs(t, y, dydt);
    this.y = new Float64Array(n);
    this.t = t0;
    this.tOld = t0;
    this.tBound = tBound;
  }

  /** f as the method sees it (counted; non-negative rules applied). */
  protected abstract rhs(t: number, y: Float64Array, dydt: Float64Array): void;
  /** Forget the step history (controller memory, dense output, stiffness counts); counters are kept. */
  protected abstract resetHistory(): void;
  /** Evaluate f at the segment's start (t, y) into the method's buffer and return it with two scratch arrays for the initial step. */
  protected abstract startDerivative(): { f0: Float64Array; scratch1: Float64Array; scratch2: Float64Array };
  abstract step(): StepStatus;
  abstract interpolate(t: number, out: Float64Array, offset?: number): void;

  /** Replace the right-hand side (the auto method's idle partner follows the segment's f). */
  setRhs(f: Rhs): void {
    this.f = f;
  }

  /** The next segment of the same solve: another right-hand side (an infusion on or off), same options. */
  reuse(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions): void {
    this.f = f;
    this.restart(t0, y0, tBound, opts.firstStep);
  }

  /**
   * Start afresh from (t, y) toward tBound (also used by the auto method when it hands a problem over):
   * forgets the step history, keeps the counters. `h` is the first step to try (automatic when absent).
   */
  restart(t: number, y: Float64Array, tBound: number, h?: number): void {
    this.t = t;
    this.tOld = t;
    this.tBound = tBound;
    this.y.set(y);
    clipNegative(this.nnIdx, this.y);
    this.resetHistory();
    this.status = 'running';
    this.message = '';
    if (!(tBound > t)) {
      this.status = 'finished';
      this.h = 0;
      return;
    }
    const { f0, scratch1, scratch2 } = this.startDerivative();
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(f0[i])) {
        this.fail(`${this.name}: the right-hand side is not finite at t = ${t} (state ${i})`, 'non-finite');
        return;
      }
    }
    const hMax = Math.min(this.hMaxOpt, tBound - t);
    this.h =
      h !== undefined && h > 0
        ? Math.min(h, hMax)
        : selectInitialStep(this.rhsBound, t, this.y, f0, hMax, this.rtol, this.atol, 4, scratch1, scratch2);
  }

  /**
   * Step size underflow: the failed status when h is below 1e-14·|t| (a last step shorter than that, a
   * segment ending just after t, is still taken unless values were non-finite), else null.
   */
  protected underflow(t: number, h: number, last: boolean, nonFinite: boolean): StepStatus | null {
    const hMin = Math.max(1e-14 * Math.abs(t), 1e-300);
    if (h >= hMin || (last && h > 0 && !nonFinite)) return null;
    return this.fail(
      nonFinite
        ? `${this.name}: non-finite values in the solution near t = ${t} (step size fell to ${h})`
        : `${this.name}: step size underflow at t = ${t} (h = ${h})`,
      nonFinite ? 'non-finite' : 'step-size',
    );
  }

  /** A step attempt that produced non-finite values: counted as rejected; the step size to try instead. */
  protected rejectNonFinite(h: number): number {
    this.counters.rejected++;
    this.lastRejected = true;
    return h * 0.1;
  }

  protected fail(msg: string, reason: NonNullable<Stepper['failReason']> = 'other'): StepStatus {
    this.status = 'failed';
    this.message = msg;
    this.failReason = reason;
    return 'failed';
  }
}
