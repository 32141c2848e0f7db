// Automatic stiff/nonstiff switching, in the spirit of LSODA: start with DOPRI5; hand over to Rodas5P
// when DOPRI5's stiffness test (Hairer's h*|lambda| > 3.25 estimate, 15 indications) fires; hand back
// to DOPRI5 when Rodas's accepted steps show an explicit method would be stable at the same step size
// (h * rho(J) < 3, rho from a weighted norm of J, over SWITCH_BACK_STEPS consecutive steps). If DOPRI5
// fails outright (step size underflow, non-finite values), Rodas gets a chance from the last accepted
// state before the segment is given up.
//
// Both steppers are made once, in the constructor; switching restarts one from the other's state.
// interpolate() always uses the method that took the last accepted step.
import type { Rhs, Stepper, StepperOptions, StepStatus, SolverCounters } from './types.ts';
import { zeroCounters } from './types.ts';
import { Dopri5 } from './dopri5.ts';
import { Rodas } from './rodas.ts';

const NO_COUNTS: SolverCounters = zeroCounters();

/** Consecutive nonstiff-looking Rodas steps before going back to DOPRI5. */
const SWITCH_BACK_STEPS = 15;

export class AutoStepper implements Stepper {
  readonly name = 'auto';
  readonly n: number;
  status: StepStatus = 'running';
  message = '';
  failReason: Stepper['failReason'];
  /** The method now in charge. */
  method: 'dopri5' | 'rodas' = 'dopri5';
  /** Each hand-over: when, and to which method (the start is not listed). */
  readonly switches: { t: number; method: string }[] = [];
  readonly dopri5: Dopri5;
  /** Rodas, made on the first hand-over (most nonstiff solves never need its arrays: n×n matrices, stages). */
  private rodasInst: Rodas | null = null;
  /** The right-hand side and options Rodas is made with. */
  private rodasF: Rhs;
  private readonly opts: StepperOptions;
  private cur: Dopri5 | Rodas;
  private rodasStarted = false;
  private readonly sum: SolverCounters = zeroCounters();
  private tBound: number;

  constructor(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions) {
    this.n = y0.length;
    this.tBound = tBound;
    // DOPRI5 is started only when it leads (its start costs two RHS calls).
    this.dopri5 = new Dopri5(f, t0, y0, opts.startWith === 'rodas' ? t0 : tBound, opts);
    this.rodasF = f;
    this.opts = opts;
    this.cur = this.dopri5;
    if (opts.startWith === 'rodas') {
      // A continuation (the previous segment ended stiff): not listed as a switch.
      this.rodas.restart(t0, y0, tBound, opts.firstStep);
      this.rodasStarted = true;
      this.cur = this.rodas;
      this.method = 'rodas';
    }
    this.status = this.cur.status;
    this.message = this.cur.message;
    this.failReason = this.cur.failReason;
  }

  /** The next segment: both methods keep their arrays; the one named by opts.startWith leads. */
  reuse(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions): void {
    this.tBound = tBound;
    this.switches.length = 0;
    if (opts.startWith === 'rodas') {
      this.rodasF = f;
      this.rodas.reuse(f, t0, y0, tBound, opts);
      this.dopri5.setRhs(f);
      this.rodasStarted = true;
      this.cur = this.rodas;
      this.method = 'rodas';
    } else {
      this.dopri5.reuse(f, t0, y0, tBound, opts);
      this.rodasF = f;
      this.rodasInst?.setRhs(f);
      this.cur = this.dopri5;
      this.method = 'dopri5';
    }
    this.status = this.cur.status;
    this.message = this.cur.message;
    this.failReason = this.cur.failReason;
  }

  get t(): number {
    return this.cur.t;
  }
  get tOld(): number {
    return this.cur.tOld;
  }
  get y(): Float64Array {
    return this.cur.y;
  }
  /** The step size the method in charge would try next. */
  get h(): number {
    return this.cur.h;
  }
  /** Rodas, made now if it was not yet (idle: finished at t0 until restarted). */
  get rodas(): Rodas {
    this.rodasInst ??= new Rodas(this.rodasF, this.dopri5.t, this.dopri5.y, this.dopri5.t, this.opts);
    return this.rodasInst;
  }

  get counters(): SolverCounters {
    const a = this.dopri5.counters,
      b = this.rodasInst?.counters ?? NO_COUNTS,
      s = this.sum;
    s.steps = a.steps + b.steps;
    s.rejected = a.rejected + b.rejected;
    s.rhsEvaluations = a.rhsEvaluations + b.rhsEvaluations;
    s.jacobianEvaluations = a.jacobianEvaluations + b.jacobianEvaluations;
    s.luDecompositions = a.luDecompositions + b.luDecompositions;
    return s;
  }

  private toRodas(h: number): void {
    const d = this.dopri5;
    this.rodas.restart(d.t, d.y, this.tBound, h > 0 ? h : undefined);
    this.rodasStarted = true;
    this.cur = this.rodas;
    this.method = 'rodas';
    this.switches.push({ t: d.t, method: 'rodas' });
  }

  private toDopri5(): void {
    const r = this.rodas;
    this.dopri5.restart(r.t, r.y, this.tBound, r.h);
    this.cur = this.dopri5;
    this.method = 'dopri5';
    this.switches.push({ t: r.t, method: 'dopri5' });
  }

  step(): StepStatus {
    if (this.status !== 'running') return this.status;
    if (this.cur === this.dopri5) {
      if (this.dopri5.stiff) this.toRodas(this.dopri5.h);
    } else if (this.rodas.nonStiffSteps >= SWITCH_BACK_STEPS) {
      this.toDopri5();
    }
    let st = this.cur.step();
    if (st === 'failed' && this.cur === this.dopri5) {
      // DOPRI5 gave up (typically a stiff problem caught before its test fired): try Rodas from the last accepted state.
      const why = this.dopri5.message;
      this.dopri5.status = 'running';
      this.toRodas(0);
      st = this.rodas.step();
      if (st === 'failed') this.rodas.message = `${this.rodas.message} (after dopri5: ${why})`;
    }
    this.status = st;
    this.message = this.cur.message;
    this.failReason = this.cur.failReason;
    return st;
  }

  interpolate(t: number, out: Float64Array, offset = 0): void {
    this.cur.interpolate(t, out, offset);
  }

  /** Whether Rodas ever ran in this segment. */
  get usedRodas(): boolean {
    return this.rodasStarted;
  }
}

export function auto(f: Rhs, t0: number, y0: Float64Array, tBound: number, opts: StepperOptions): AutoStepper {
  return new AutoStepper(f, t0, y0, tBound, opts);
}
