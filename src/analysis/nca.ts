// Non-compartmental analysis (NCA) of concentration-time profiles, simulated or observed, as pharmacometricians
// know it from PKNCA / Phoenix WinNonlin. One profile per subject after one dose (or one dosing interval):
//   Cmax, Tmax, Clast, Tlast; λz by log-linear least squares on the terminal phase; t½ = ln 2 / λz;
//   AUC0–t and AUMC0–t by the linear-up / log-down trapezoidal rule; AUC0–∞ = AUClast + Clast / λz;
//   AUMC0–∞ = AUMClast + Clast·Tlast/λz + Clast/λz²; MRT = AUMC0–∞ / AUC0–∞ (minus half the infusion
//   duration for an infusion); CL(/F) = dose / AUC0–∞ (dose / AUCτ when τ is given: steady state);
//   Vz(/F) = CL / λz; Ctrough = the concentration observed at τ; accumulation ratio (predicted from λz)
//   Rac = 1 / (1 − e^(−λz·τ)).
// λz point selection follows PKNCA's defaults (pk.calc.half.life): every window of the last n ≥ 3 points with
// positive concentration after Tmax (Cmax excluded) is fitted; the best adjusted R² is taken, and among fits
// within 1e-4 of it the one with the most points; λz must be positive. Times are in the profile's time unit,
// concentrations and doses in the caller's units (CL in dose-unit / (conc-unit · time)).
import { z } from 'zod';
import { InputError, fromZodIssues, type Issue } from '../errors.ts';
import type { SubjectData } from '../data/types.ts';
import { finiteNumber as num } from '../zod-fields.ts';

export const NCA_LIMITS = { subjects: 1000, observations: 100_000 };
/** PKNCA defaults: min.hl.points, adj.r.squared.factor. */
export const LAMBDA_Z = { minPoints: 3, adjR2Factor: 1e-4 };

export const NcaOptions = z.strictObject({
  /** Dose given at doseTime (for CL, Vz); absent: those are omitted. */
  dose: num('dose')
    .refine((v) => v > 0, 'dose must be > 0')
    .optional(),
  doseTime: num('doseTime').default(0),
  /** Dosing interval: AUCτ, Ctrough (at doseTime + τ), CL = dose / AUCτ (steady state) and the accumulation ratio. */
  tau: num('tau')
    .refine((v) => v > 0, 'tau must be > 0')
    .optional(),
  /** Route: intravascular bolus, zero-order infusion (with its duration) or extravascular (CL/F, Vz/F). */
  route: z.enum(['iv-bolus', 'infusion', 'extravascular']).default('extravascular'),
  infusionDuration: num('infusionDuration')
    .refine((v) => v > 0, 'infusionDuration must be > 0')
    .optional(),
});
export type NcaOptions = z.infer<typeof NcaOptions>;

export const NcaObservation = z.strictObject({
  time: num('time'),
  conc: num('conc').refine((v) => v >= 0, 'conc must be >= 0'),
  subject: z.union([z.string().max(100), z.number()]).optional(),
});

export const NcaRequest = NcaOptions.extend({
  observations: z
    .array(NcaObservation)
    .min(1, 'observations is empty')
    .max(NCA_LIMITS.observations, `at most ${NCA_LIMITS.observations} observations`),
});
export type NcaRequest = z.input<typeof NcaRequest>;

export interface LambdaZ {
  lambdaZ: number;
  points: number;
  firstTime: number;
  lastTime: number;
  rSquared: number;
  adjRSquared: number;
  intercept: number;
}

export interface NcaResult {
  subject?: string;
  n: number;
  Cmax: number;
  Tmax: number;
  Clast: number;
  Tlast: number;
  AUClast: number;
  AUMClast: number;
  lambdaZ?: LambdaZ;
  halfLife?: number;
  AUCinf?: number;
  AUMCinf?: number;
  /** Share of AUC0–∞ that is extrapolated (%). */
  AUCextrapolatedPercent?: number;
  MRT?: number;
  CL?: number;
  Vz?: number;
  AUCtau?: number;
  Ctrough?: number;
  accumulationRatio?: number;
  /** Why a parameter is missing (e.g. fewer than 3 terminal points). */
  notes: string[];
}

/** λz by PKNCA's rule (see the file header), or a reason why it cannot be estimated. */
export function lambdaZ(t: readonly number[], c: readonly number[]): LambdaZ | string {
  let imax = 0;
  for (let k = 1; k < c.length; k++) if (c[k] > c[imax]) imax = k;
  const idx: number[] = [];
  for (let k = imax + 1; k < c.length; k++) if (c[k] > 0) idx.push(k);
  if (idx.length < LAMBDA_Z.minPoints)
    return `fewer than ${LAMBDA_Z.minPoints} positive concentrations after Tmax: no λz`;
  const fits: LambdaZ[] = [];
  for (let n = LAMBDA_Z.minPoints; n <= idx.length; n++) {
    const pts = idx.slice(idx.length - n);
    let sx = 0,
      sy = 0,
      sxx = 0,
      sxy = 0,
      syy = 0;
    for (const k of pts) {
      const x = t[k];
      const y = Math.log(c[k]);
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
      syy += y * y;
    }
    const dx = sxx - (sx * sx) / n;
    const dy = syy - (sy * sy) / n;
    const dxy = sxy - (sx * sy) / n;
    if (!(dx > 0)) continue;
    const slope = dxy / dx;
    const r2 = dy > 0 ? (dxy * dxy) / (dx * dy) : 1;
    const adj = 1 - ((1 - r2) * (n - 1)) / (n - 2);
    fits.push({
      lambdaZ: -slope,
      points: n,
      firstTime: t[pts[0]],
      lastTime: t[pts[n - 1]],
      rSquared: r2,
      adjRSquared: adj,
      intercept: (sy - slope * sx) / n,
    });
  }
  const ok = fits.filter((f) => f.lambdaZ > 0);
  if (!ok.length) return 'no terminal window with a declining log-linear fit: no λz';
  const best = Math.max(...ok.map((f) => f.adjRSquared));
  const near = ok.filter((f) => f.adjRSquared >= best - LAMBDA_Z.adjR2Factor);
  return near.reduce((a, b) => (b.points > a.points ? b : a));
}

/** AUC and AUMC of one segment by the linear-up / log-down rule. */
function segment(t1: number, c1: number, t2: number, c2: number): [number, number] {
  const h = t2 - t1;
  if (c2 < c1 && c2 > 0) {
    const k = Math.log(c1 / c2) / h;
    return [(c1 - c2) / k, (c1 * t1 - c2 * t2) / k + (c1 - c2) / (k * k)];
  }
  return [0.5 * h * (c1 + c2), 0.5 * h * (c1 * t1 + c2 * t2)];
}

function aucTo(t: readonly number[], c: readonly number[], end: number): { auc: number; aumc: number } {
  let auc = 0;
  let aumc = 0;
  for (let k = 1; k < t.length && t[k - 1] < end; k++) {
    const [a, m] = segment(t[k - 1], c[k - 1], t[k], c[k]);
    auc += a;
    aumc += m;
  }
  return { auc, aumc };
}

/** NCA of one profile: times relative to the dose are used (t − doseTime), increasing, concentrations >= 0. */
export function ncaProfile(
  times: readonly number[],
  concs: readonly number[],
  options: Partial<NcaOptions> = {},
  subject?: string,
): NcaResult {
  const o = NcaOptions.parse(options);
  const where = subject !== undefined ? `subject ${subject}: ` : '';
  const issues: Issue[] = [];
  if (times.length !== concs.length)
    issues.push({ path: ['observations'], message: `${where}times and concentrations differ in length` });
  if (times.length < 2) issues.push({ path: ['observations'], message: `${where}at least 2 observations are needed` });
  for (let k = 1; k < times.length; k++) {
    if (!(times[k] > times[k - 1]))
      issues.push({
        path: ['observations', k, 'time'],
        message: `${where}times must be strictly increasing (${times[k]} after ${times[k - 1]})`,
      });
  }
  if (times.length && times[0] < o.doseTime)
    issues.push({
      path: ['observations', 0, 'time'],
      message: `${where}an observation before the dose time ${o.doseTime}`,
    });
  if (o.route === 'infusion' && o.infusionDuration === undefined)
    issues.push({ path: ['infusionDuration'], message: 'an infusion needs infusionDuration' });
  if (issues.length) throw new InputError(issues);
  const t = times.map((v) => v - o.doseTime);
  const c = [...concs];
  // Cmax, Tmax and λz from the observations only (a back-extrapolated C0 is not an observation).
  let imax = 0;
  for (let k = 1; k < c.length; k++) if (c[k] > c[imax]) imax = k;
  const Cmax = c[imax];
  const Tmax = t[imax] + o.doseTime;
  const lzObs = c.some((v) => v > 0) ? lambdaZ(t, c) : 'every concentration is zero: no λz';
  // A profile that does not start at the dose: C(0) = 0 for extravascular/infusion (PKNCA's default). For an
  // IV bolus the back-extrapolated C0 is used (log-linear from the first two points when they decline).
  if (t[0] > 0) {
    let c0 = 0;
    if (o.route === 'iv-bolus')
      c0 = c[1] < c[0] && c[1] > 0 ? c[0] * Math.exp((Math.log(c[0] / c[1]) * t[0]) / (t[1] - t[0])) : c[0];
    t.unshift(0);
    c.unshift(c0);
  }
  const notes: string[] = [];
  let ilast = -1;
  for (let k = c.length - 1; k >= 0; k--)
    if (c[k] > 0) {
      ilast = k;
      break;
    }
  const { auc: AUClast, aumc: AUMClast } = aucTo(t.slice(0, ilast + 1), c.slice(0, ilast + 1), Infinity);
  const r: NcaResult = {
    ...(subject !== undefined ? { subject } : {}),
    n: times.length,
    Cmax,
    Tmax,
    Clast: ilast >= 0 ? c[ilast] : 0,
    Tlast: (ilast >= 0 ? t[ilast] : 0) + o.doseTime,
    AUClast,
    AUMClast,
    notes,
  };
  const lz = lzObs;
  if (typeof lz === 'string') notes.push(lz);
  else {
    lz.firstTime += o.doseTime;
    lz.lastTime += o.doseTime;
    r.lambdaZ = lz;
    r.halfLife = Math.LN2 / lz.lambdaZ;
    const cl = r.Clast;
    const tl = t[ilast];
    r.AUCinf = AUClast + cl / lz.lambdaZ;
    r.AUMCinf = AUMClast + (cl * tl) / lz.lambdaZ + cl / (lz.lambdaZ * lz.lambdaZ);
    r.AUCextrapolatedPercent = (100 * (r.AUCinf - AUClast)) / r.AUCinf;
    r.MRT = r.AUMCinf / r.AUCinf - (o.route === 'infusion' ? o.infusionDuration! / 2 : 0);
  }
  if (o.tau !== undefined) {
    const k = t.findIndex((v) => Math.abs(v - o.tau!) <= 1e-9 * Math.max(1, o.tau!));
    if (k < 0) notes.push(`no observation at tau = ${o.tau} after the dose: no AUCtau or Ctrough`);
    else {
      r.AUCtau = aucTo(t.slice(0, k + 1), c.slice(0, k + 1), Infinity).auc;
      r.Ctrough = c[k];
    }
    if (r.lambdaZ) r.accumulationRatio = 1 / (1 - Math.exp(-r.lambdaZ.lambdaZ * o.tau));
  }
  if (o.dose !== undefined) {
    const denom = o.tau !== undefined ? r.AUCtau : r.AUCinf;
    if (denom !== undefined && denom > 0) {
      r.CL = o.dose / denom;
      if (r.lambdaZ) r.Vz = r.CL / r.lambdaZ.lambdaZ;
    }
  }
  return r;
}

/** Parse and run an NCA request (API and CLI): one result per subject, in order of first appearance. */
export function ncaRequest(input: unknown): { route: string; subjects: NcaResult[] } {
  const parsed = NcaRequest.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  const { observations, ...opts } = parsed.data;
  const groups = new Map<string, { t: number[]; c: number[] }>();
  for (const ob of observations) {
    const id = ob.subject === undefined ? '1' : String(ob.subject);
    let g = groups.get(id);
    if (!g) {
      if (groups.size >= NCA_LIMITS.subjects)
        throw new InputError(`at most ${NCA_LIMITS.subjects} subjects`, ['observations']);
      groups.set(id, (g = { t: [], c: [] }));
    }
    g.t.push(ob.time);
    g.c.push(ob.conc);
  }
  const multi = observations.some((o) => o.subject !== undefined);
  const subjects = [...groups].map(([id, g]) => ncaProfile(g.t, g.c, opts, multi ? id : undefined));
  return { route: opts.route, subjects };
}

/** CSV `time,conc[,subject]` (header required, case-insensitive) → observations; errors name line and column. */
export function parseNcaCsv(text: string): z.infer<typeof NcaObservation>[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(',').map((s) => s.trim().toLowerCase());
  const it = header.indexOf('time');
  const ic = header.indexOf('conc');
  const is = header.indexOf('subject');
  if (it < 0 || ic < 0)
    throw new InputError('the CSV header must have columns time and conc (and optionally subject)', ['csv', 'line 1']);
  const out: z.infer<typeof NcaObservation>[] = [];
  for (let k = 1; k < lines.length; k++) {
    if (!lines[k].trim()) continue;
    if (out.length >= NCA_LIMITS.observations)
      throw new InputError(`at most ${NCA_LIMITS.observations} observations`, ['csv', `line ${k + 1}`]);
    const cells = lines[k].split(',').map((s) => s.trim());
    const val = (i: number, name: string) => {
      const v = Number(cells[i]);
      if (cells[i] === undefined || cells[i] === '' || !Number.isFinite(v))
        throw new InputError(`${name} '${cells[i] ?? ''}' is not a number`, ['csv', `line ${k + 1}`, name]);
      return v;
    };
    out.push({ time: val(it, 'time'), conc: val(ic, 'conc'), ...(is >= 0 ? { subject: cells[is] } : {}) });
  }
  return out;
}

/** NCA of one subject of a NONMEM-style dataset (Contract 6): its observations of `observable`, after its first dose. */
export function ncaSubject(subject: SubjectData, observable: string, options: Partial<NcaOptions> = {}): NcaResult {
  const obs = subject.observations
    .filter((o) => o.observable === observable && o.value !== null && !o.blq)
    .sort((a, b) => a.time - b.time || a.order - b.order);
  const first = subject.doses.length ? Math.min(...subject.doses.map((d) => d.start ?? 0)) : 0;
  const dose = subject.doses.find((d) => (d.start ?? 0) === first);
  const opts: Partial<NcaOptions> = {
    doseTime: first,
    ...(dose && typeof dose.amount === 'number' ? { dose: dose.amount } : {}),
    ...(typeof dose?.duration === 'number' ? { route: 'infusion' as const, infusionDuration: dose.duration } : {}),
    ...options,
  };
  const after = obs.filter((o) => o.time >= first);
  return ncaProfile(
    after.map((o) => o.time),
    after.map((o) => o.value as number),
    opts,
    subject.id,
  );
}
