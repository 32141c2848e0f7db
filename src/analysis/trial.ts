// Trial-level answers from a virtual population: the arms of a trial (each its own doses / therapies /
// parameters over the same virtual subjects: common random numbers) and, per arm, the response
// probabilities with Monte Carlo standard errors — objective response rate by RECIST 1.1, probability of
// progression by given times, and the Kaplan–Meier curve of time to progression with its median.
import { z } from 'zod';
import { Dose } from '../scenario/schema.ts';
import { mulberry32 } from '../numerics/random.ts';

export const TRIAL_LIMITS = { arms: 12, bootstrap: 1000 };

export const TrialArm = z.strictObject({
  name: z.string().min(1).max(100),
  /** Parameter values of this arm (over the scenario's). */
  parameters: z.record(z.string(), z.number().refine(Number.isFinite, 'parameter values must be finite')).optional(),
  /** Doses of this arm (replace the scenario's `doses`). */
  doses: z.array(Dose).max(2000).optional(),
  /** Therapy presets of this arm (replace the scenario's `therapies`). */
  therapies: z.array(z.string().max(100)).max(50).optional(),
});
export type TrialArm = z.infer<typeof TrialArm>;

export const ResponseOptions = z.strictObject({
  /** Count a response only when confirmed (RECIST 1.1: held ≥ 28 days). */
  confirmed: z.boolean().default(true),
  /** Times (from the start) at which P(progression by t) is reported. */
  progressionBy: z.array(z.number().gt(0).refine(Number.isFinite, 'must be finite')).max(20).default([]),
  /** Bootstrap resamples for the standard error of the median time to progression. */
  bootstrap: z.number().int().min(0).max(TRIAL_LIMITS.bootstrap).default(200),
});
export type ResponseOptions = z.infer<typeof ResponseOptions>;

/** The scenario of one arm: the base scenario with the arm's doses/therapies (when given) and parameters. */
export function armScenario<S extends { parameters?: Record<string, number>; doses?: unknown[]; therapies?: string[] }>(
  base: S,
  arm: TrialArm | undefined,
): S {
  if (!arm) return base;
  return {
    ...base,
    parameters: { ...(base.parameters ?? {}), ...(arm.parameters ?? {}) },
    ...(arm.doses || arm.therapies ? { doses: arm.doses ?? [], therapies: arm.therapies ?? [] } : {}),
  };
}

export interface Estimate {
  p: number;
  se: number;
  count: number;
  n: number;
}
export interface KaplanMeierPoint {
  time: number;
  atRisk: number;
  events: number;
  censored: number;
  survival: number;
  se: number;
}
export interface ResponseSummary {
  /** Subjects evaluable for RECIST (solved, with a tumor series and a measurable baseline, >= 10 mm). */
  evaluable: number;
  /** Solved subjects with a tumor series whose RECIST response is NE (baseline not measurable): left out of every estimate but meanLogTumorRatio. */
  notEvaluable: number;
  objectiveResponse: Estimate | null;
  progressionBy: ({ time: number } & Estimate)[];
  timeToProgression: {
    median: number | null;
    medianSe: number | null;
    bootstrapUndefined: number;
    followUp: number;
    curve: KaplanMeierPoint[];
  } | null;
  /** Mean of ln(final / baseline) of the tumor series, with its standard error. */
  meanLogTumorRatio: { mean: number; se: number; n: number } | null;
}

const binomial = (count: number, n: number): Estimate => {
  const p = n ? count / n : NaN;
  return { p, se: n ? Math.sqrt((p * (1 - p)) / n) : NaN, count, n };
};

/** Kaplan–Meier estimate with Greenwood standard errors; one point per distinct event or censoring time. */
export function kaplanMeier(times: number[], events: boolean[]): KaplanMeierPoint[] {
  const order = times.map((_, i) => i).sort((a, b) => times[a] - times[b] || Number(events[b]) - Number(events[a]));
  let atRisk = times.length;
  let s = 1;
  let greenwood = 0;
  const out: KaplanMeierPoint[] = [];
  for (let k = 0; k < order.length;) {
    const t = times[order[k]];
    let d = 0;
    let c = 0;
    while (k < order.length && times[order[k]] === t) {
      if (events[order[k]]) d++;
      else c++;
      k++;
    }
    if (d > 0) {
      s *= 1 - d / atRisk;
      greenwood += atRisk > d ? d / (atRisk * (atRisk - d)) : 0;
    }
    out.push({ time: t, atRisk, events: d, censored: c, survival: s, se: s * Math.sqrt(greenwood) });
    atRisk -= d + c;
  }
  return out;
}

/** The KM median: the first time the survival falls to 0.5 or below (null when it never does). */
export function kmMedian(times: number[], events: boolean[]): number | null {
  for (const p of kaplanMeier(times, events)) if (p.events > 0 && p.survival <= 0.5) return p.time;
  return null;
}

/**
 * Response probabilities of one arm from its subjects' metrics (failed subjects excluded). Time to
 * progression is censored at the end of follow-up (`followUp` = last time − first time); with every subject
 * followed to the same horizon the KM estimate equals the empirical fraction, as it should.
 */
export function responseSummary(
  metrics: (Record<string, unknown> | undefined)[],
  followUp: number,
  opts: ResponseOptions,
  seed: number,
): ResponseSummary {
  // NE (a baseline below RECIST's measurability limit) has no response or progression: not evaluable.
  const recisted = metrics.filter(
    (m): m is Record<string, unknown> => !!m && typeof m.bestOverallResponse === 'string',
  );
  const ev = recisted.filter((m) => m.bestOverallResponse !== 'NE');
  const notEvaluable = recisted.length - ev.length;
  const key = opts.confirmed ? 'confirmedBestOverallResponse' : 'bestOverallResponse';
  const n = ev.length;
  const ratios: number[] = [];
  for (const m of metrics) {
    if (m && typeof m.baseline === 'number' && typeof m.final === 'number' && m.baseline > 0 && m.final > 0)
      ratios.push(Math.log(m.final / m.baseline));
  }
  let meanLogTumorRatio: ResponseSummary['meanLogTumorRatio'] = null;
  if (ratios.length) {
    const mean = ratios.reduce((a, b) => a + b, 0) / ratios.length;
    const v = ratios.length > 1 ? ratios.reduce((a, b) => a + (b - mean) ** 2, 0) / (ratios.length - 1) : NaN;
    meanLogTumorRatio = { mean, se: Math.sqrt(v / ratios.length), n: ratios.length };
  }
  if (!n)
    return {
      evaluable: 0,
      notEvaluable,
      objectiveResponse: null,
      progressionBy: [],
      timeToProgression: null,
      meanLogTumorRatio,
    };
  const responders = ev.filter((m) => m[key] === 'CR' || m[key] === 'PR').length;
  const ttp = ev.map((m) =>
    m.progressed === true && typeof m.timeToProgression === 'number' ? m.timeToProgression : followUp,
  );
  const progressed = ev.map((m) => m.progressed === true && typeof m.timeToProgression === 'number');
  const progressionBy = opts.progressionBy.map((t) => ({
    time: t,
    ...binomial(ttp.filter((x, i) => progressed[i] && x <= t).length, n),
  }));
  const median = kmMedian(ttp, progressed);
  // Bootstrap SE of the median (subjects resampled with replacement, seeded: the same for any chunking).
  let medianSe: number | null = null;
  let undef = 0;
  if (median !== null && opts.bootstrap > 1) {
    const rnd = mulberry32((seed ^ 0x5bd1e995) >>> 0);
    const reps: number[] = [];
    const bt = new Array<number>(n);
    const be = new Array<boolean>(n);
    for (let b = 0; b < opts.bootstrap; b++) {
      for (let i = 0; i < n; i++) {
        const j = Math.floor(rnd() * n);
        bt[i] = ttp[j];
        be[i] = progressed[j];
      }
      const m = kmMedian(bt, be);
      if (m === null) undef++;
      else reps.push(m);
    }
    if (reps.length > 1) {
      const mu = reps.reduce((a, b) => a + b, 0) / reps.length;
      medianSe = Math.sqrt(reps.reduce((a, b) => a + (b - mu) ** 2, 0) / (reps.length - 1));
    }
  }
  return {
    evaluable: n,
    notEvaluable,
    objectiveResponse: binomial(responders, n),
    progressionBy,
    timeToProgression: { median, medianSe, bootstrapUndefined: undef, followUp, curve: kaplanMeier(ttp, progressed) },
    meanLogTumorRatio,
  };
}
