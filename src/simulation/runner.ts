// Simulation in epochs, for what a single pass of the orchestrator cannot do: the solver restarts at every
// time where something other than a dose changes the problem — a covariate changes (time-varying
// covariates, last observation carried forward: the right-hand side is bound to the new values), the state
// is reset (dataset EVID 3/4), a dose is given at steady state (the periodic or infusion steady state is
// solved for, see steady-state.ts), a dosing rule decides from the current state, or an output must report
// the value just before the doses at its time (NONMEM's file order: an observation listed before a dose).
// Within an epoch, doses are discontinuities of the ordinary orchestrator.
import { solveIvp, type IvpSolution, type StateEvent } from '../solve/solve_ivp.ts';
import { addCounters, zeroCounters, type MethodName } from '../solve/types.ts';
import type { StepView } from '../solve/driver.ts';
import { doseTimeline, type DoseRecord } from '../dosing/schedule.ts';
import type { CompiledModel } from '../model/compile.ts';
import { periodicSteadyState, infusionSteadyState, overlappingInfusions } from './steady-state.ts';
import type { CompiledRule } from './rules.ts';

export type DoseStatus = 'given' | 'reduced' | 'skipped' | 'stopped';
export type RunRecord = DoseRecord & { status?: DoseStatus };

export interface RunInput {
  model: CompiledModel;
  /** p at t0 (parameters, then covariates). */
  p0: Float64Array;
  /** Covariate changes (index into p, value), in time order. */
  covariateChanges: { time: number; values: [number, number][] }[];
  y0: Float64Array;
  /** Initial state for a reset, from p. */
  initialAt: (p: Float64Array) => Float64Array;
  t0: number;
  /** Output times, non-decreasing. */
  outputTimes: Float64Array;
  /** Per output time: 1 when its value is taken just before the doses at that time (at equal times these come first). */
  preDose: Uint8Array;
  records: DoseRecord[];
  rules: CompiledRule[];
  resets: number[];
  method: MethodName;
  rtol: Float64Array;
  atol: Float64Array;
  maxStep?: number;
  maxSteps: number;
  deadline: number;
  /** Sets the dose clocks' hidden slots of p for time t (tfd/tld in expressions), when the model has any. */
  clocks?: (p: Float64Array, t: number) => void;
  /** Whether a clock moves at later doses (tld), so it must follow the solve step by step. */
  tldClocks?: boolean;
  /** Called after every accepted step (exact exposure integrals on the dense output). */
  stepObserver?: (v: StepView, tEnd: number) => void;
}

export interface RunSolution extends IvpSolution {
  /** Every administration with what was done (rules, steady state), in time order. */
  records: RunRecord[];
}

/** p in force at time t (covariate changes up to and including t). */
export function paramsAt(p0: Float64Array, changes: RunInput['covariateChanges']): (t: number) => Float64Array {
  return (t) => {
    const p = Float64Array.from(p0);
    for (const c of changes) {
      if (c.time > t) break;
      for (const [j, v] of c.values) p[j] = v;
    }
    return p;
  };
}

/** Does this run need epochs, or is one pass of the orchestrator enough? */
export function needsEpochs(
  inp: Pick<RunInput, 'covariateChanges' | 'preDose' | 'records' | 'rules' | 'resets'>,
): boolean {
  return (
    inp.covariateChanges.length > 0 ||
    inp.preDose.some((v) => v === 1) ||
    inp.rules.length > 0 ||
    inp.resets.length > 0 ||
    inp.records.some((r) => r.steadyState !== undefined)
  );
}

/** The model's state events with parameter vector p bound (the solver's StateEvent form). */
export function modelEvents(model: CompiledModel, p: Float64Array): StateEvent[] {
  return model.events.map((ev) => {
    const vals = new Float64Array(ev.targets.length);
    return {
      name: ev.name,
      g: (t, y) => ev.g(t, y, p),
      apply: (t, y) => {
        ev.values(t, y, p, vals);
        ev.targets.forEach((i, j) => (y[i] = vals[j]));
      },
    };
  });
}

/** Infusions running across time τ end there (a reset, or a steady-state dose that replaces the state). */
function stopInfusions(records: RunRecord[], tau: number) {
  for (const r of records) {
    if (r.status === 'skipped' || r.status === 'stopped' || r.time >= tau) continue;
    if (r.rate !== undefined) {
      if (r.duration === undefined || r.time + r.duration > tau) r.duration = tau - r.time;
    } else if (r.duration !== undefined && r.time + r.duration > tau) {
      const rate = r.amount / r.duration;
      r.duration = tau - r.time;
      r.amount = rate * r.duration;
    }
  }
}

/** Epoch boundaries: every time at which something other than a dose happens, within (t0, tEnd]. */
function epochBounds(inp: RunInput, records: RunRecord[], tEnd: number): number[] {
  const marks = new Set<number>([tEnd]);
  for (const c of inp.covariateChanges) marks.add(c.time);
  for (const t of inp.resets) marks.add(t);
  inp.preDose.forEach((v, k) => v && marks.add(inp.outputTimes[k]));
  for (const r of records) if (r.steadyState !== undefined || r.status === undefined) marks.add(r.time);
  return [...marks].filter((t) => t > inp.t0 && t <= tEnd).sort((a, b) => a - b);
}

/** A record's rule decision at τ (given, reduced, skipped or stopped), from the state and outputs there. */
function decideRecord(
  inp: RunInput,
  r: RunRecord,
  tau: number,
  y: Float64Array,
  p: Float64Array,
  o: Float64Array,
  st: { stopped: boolean },
) {
  inp.model.outputs(tau, y, p, o);
  let factor = 1;
  let skip = false;
  for (const rule of inp.rules) {
    if (!rule.appliesTo(r) || !rule.test(tau, y, p, o)) continue;
    if (rule.spec.action === 'skip') skip = true;
    else if (rule.spec.action === 'stop') st.stopped = true;
    else if (rule.spec.action === 'resume') st.stopped = false;
    else factor *= rule.spec.factor!;
  }
  if (st.stopped) r.status = 'stopped';
  else if (skip) r.status = 'skipped';
  else if (factor !== 1) {
    r.status = 'reduced';
    r.amount *= factor;
    if (r.rate !== undefined) r.rate *= factor;
  } else r.status = 'given';
}

/**
 * The state at τ after a steady-state dose record (SS=1 replaces the state, SS=2 adds what the dose
 * contributes at steady state over the no-dose steady state: superposition).
 */
function steadyStateAt(
  inp: RunInput,
  r: RunRecord,
  tau: number,
  p: Float64Array,
  y: Float64Array,
  b: Parameters<typeof periodicSteadyState>[0],
): Float64Array {
  const { model } = inp;
  const rtol0 = inp.rtol[0];
  const ss =
    r.rate !== undefined
      ? infusionSteadyState(model, p, r.index, r.rate, y, inp.atol, rtol0, tau)
      : periodicSteadyState(b, r, r.interval!, y, inp.atol, rtol0);
  if (r.steadyState !== 2) return ss;
  const none =
    r.rate !== undefined
      ? infusionSteadyState(model, p, r.index, 0, y, inp.atol, rtol0, tau)
      : periodicSteadyState(b, { ...r, amount: 0 }, r.interval!, y, inp.atol, rtol0);
  for (let i = 0; i < y.length; i++) y[i] += ss[i] - none[i];
  return y;
}

export function runEpochs(inp: RunInput): RunSolution {
  const { model, outputTimes } = inp;
  const n = model.stateNames.length;
  const tEnd = outputTimes[outputTimes.length - 1];
  const covariatesAt = paramsAt(inp.p0, inp.covariateChanges);
  const pAt = (t: number) => {
    const q = covariatesAt(t);
    inp.clocks?.(q, t);
    return q;
  };
  const records: RunRecord[] = inp.records.map((r) => ({
    ...r,
    status: inp.rules.length && inp.rules.some((q) => q.appliesTo(r)) ? undefined : 'given',
  }));
  const out = new Float64Array(outputTimes.length * n);
  const counters = zeroCounters();
  const events: { name: string; t: number }[] = [];
  const switches: { t: number; method: string }[] = [];
  let method = '';
  let segments = 0;

  const bounds = epochBounds(inp, records, tEnd);

  let y: Float64Array<ArrayBufferLike> = Float64Array.from(inp.y0);
  let p = pAt(inp.t0);
  let iOut = 0;
  const o = new Float64Array(model.outputNames.length);
  const base = () => ({
    rhs: model.bindRhs(p),
    jac: model.jacobian ? (t: number, yy: Float64Array, J: Float64Array) => model.jacobian!(t, yy, p, J) : undefined,
    events: modelEvents(model, p),
    method: inp.method,
    rtol: inp.rtol,
    atol: inp.atol,
    nonNegative: model.nonNegative,
    autonomous: model.autonomous,
    maxStep: inp.maxStep,
    maxSteps: inp.maxSteps,
    deadline: inp.deadline,
    stepObserver:
      inp.stepObserver || (inp.clocks && inp.tldClocks)
        ? (v: StepView, te: number) => {
            inp.stepObserver?.(v, te);
            if (inp.tldClocks) inp.clocks!(p, te);
          }
        : undefined,
  });

  // What happens at τ before the integration goes on: covariates, resets, steady states, rule decisions.
  const actions = (tau: number) => {
    p = pAt(tau);
    if (inp.resets.includes(tau)) {
      stopInfusions(records, tau);
      y = inp.initialAt(p);
    }
    for (const r of records) {
      if (r.time !== tau) continue;
      if (r.status === undefined) decide(r, tau);
      if (r.steadyState === undefined || r.status === 'skipped' || r.status === 'stopped') continue;
      if (r.steadyState === 1) stopInfusions(records, tau);
      y = steadyStateAt(inp, r, tau, p, y, base());
      if (r.rate === undefined)
        for (const v of overlappingInfusions(r, r.interval!)) records.push({ ...v, status: 'given' });
    }
  };
  const ruleState = { stopped: false };
  const decide = (r: RunRecord, tau: number) => decideRecord(inp, r, tau, y, p, o, ruleState);
  const given = () => records.filter((r) => r.status === 'given' || r.status === 'reduced');

  // Outputs at t0 that want the value before anything happens there.
  while (iOut < outputTimes.length && outputTimes[iOut] === inp.t0 && inp.preDose[iOut]) out.set(y, n * iOut++);
  actions(inp.t0);
  let ts = inp.t0;
  for (const b of bounds) {
    // Outputs of this epoch: those after ts (or at ts, post-dose) up to b (at b only when pre-dose).
    const mine: number[] = [];
    const k0 = iOut;
    while (iOut < outputTimes.length && (outputTimes[iOut] < b || (outputTimes[iOut] === b && inp.preDose[iOut])))
      mine.push(outputTimes[iOut++]);
    const times = [...new Set([...mine, b])];
    // The last epoch includes the doses at tEnd unless an output there wants the value before them.
    const last = b === tEnd && !(iOut > 0 && outputTimes[iOut - 1] === b && inp.preDose[iOut - 1]);
    const discs = doseTimeline(given()).filter((d) => d.t < b || last);
    const sol = solveIvp({
      ...base(),
      t0: ts,
      tEnd: b,
      y0: y,
      outputTimes: Float64Array.from(times),
      discontinuities: discs,
    });
    addCounters(counters, sol.counters);
    events.push(...sol.events);
    method = sol.method;
    for (const s of sol.switches)
      if (!switches.length || switches[switches.length - 1].method !== s.method) switches.push(s);
    segments += sol.segments;
    const row = new Map(times.map((t, k) => [t, k]));
    for (let k = k0; k < iOut; k++)
      out.set(sol.y.subarray(row.get(outputTimes[k])! * n, (row.get(outputTimes[k])! + 1) * n), k * n);
    y = Float64Array.from(sol.y.subarray(row.get(b)! * n, (row.get(b)! + 1) * n));
    ts = b;
    if (last) break; // doses at tEnd already applied
    // Pre-dose outputs at tEnd were recorded; the doses there still count for the report.
    actions(b);
    if (b === tEnd) {
      for (const r of given())
        if (r.time === b && r.duration === undefined && r.rate === undefined) y[r.index] += r.amount;
    }
  }
  while (iOut < outputTimes.length) out.set(y, n * iOut++);
  records.sort((a, b) => a.time - b.time || a.index - b.index);
  return { y: out, events, counters, method, switches, segments, records };
}
