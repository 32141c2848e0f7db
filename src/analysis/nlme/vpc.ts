// Visual predictive check: the data set's design (each subject's doses, covariates and sampling times)
// simulated R times with the population estimates — η ~ N(0, Ω) per subject and replicate, residual
// error per record — and, per time bin and observable, the observed 5th/50th/95th percentiles beside the
// median and a confidence band (2.5th–97.5th percentile over replicates, by default) of the same
// percentiles of the simulations. Prediction-corrected on request (Bergstrand et al. 2011, AAPS J
// 13:143): each value is multiplied by PRED_bin/PRED (the bin's median population prediction over the
// record's own), so that bins mixing doses or covariates compare like with like.
// Binning: `bins` edges when given; otherwise equal-count bins of the observation times (quantiles of the
// records' times, count min(8, distinct times)); a record belongs to [lo, hi) and the last bin is closed.
import { z } from 'zod';
import { InputError } from '../../errors.ts';
import { mulberry32, normalSampler } from '../../numerics/random.ts';
import { cholesky, individualParams, omegaOf, type PopProblem } from './problem.ts';
import { predictSubject } from './predict.ts';
import { simulateSubject } from './diagnostics.ts';
import { NLME_LIMITS } from './schema.ts';
import type { PopulationFitResult } from './focei.ts';

export const VpcOptions = z.strictObject({
  replicates: z
    .number()
    .int()
    .min(500, 'a VPC needs at least 500 replicates')
    .max(NLME_LIMITS.vpcReplicates)
    .default(500),
  seed: z.number().int().default(1),
  bins: z
    .union([z.number().int().min(1).max(50), z.array(z.number().refine(Number.isFinite)).min(2).max(51)])
    .optional(),
  predictionCorrected: z.boolean().default(false),
  /** Percentiles summarised (default 5, 50, 95) and the level of the band around the simulated ones. */
  percentiles: z.array(z.number().gt(0).lt(100)).min(1).max(9).default([5, 50, 95]),
  level: z.number().gt(0).lt(1).default(0.95),
});
export type VpcOptions = z.infer<typeof VpcOptions>;

export interface VpcBin {
  observable: string;
  lo: number;
  hi: number;
  /** Median observation time in the bin (where to plot it). */
  time: number;
  n: number;
  observed: Record<string, number>;
  simulated: Record<string, { median: number; lo: number; hi: number }>;
}

export interface VpcResult {
  replicates: number;
  seed: number;
  predictionCorrected: boolean;
  binning: { method: 'quantiles' | 'edges'; edges: Record<string, number[]> };
  level: number;
  bins: VpcBin[];
  /** Simulated subjects whose model could not be evaluated (left out of their replicate). */
  failedSimulations: number;
}

/** Linear-interpolation quantile (R type 7) of sorted values. */
export function quantileSorted(v: ArrayLike<number>, p: number): number {
  const n = v.length;
  if (!n) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[lo];
}

function edgesFor(times: number[], spec: VpcOptions['bins']): { method: 'quantiles' | 'edges'; edges: number[] } {
  const sorted = [...times].sort((a, b) => a - b);
  if (Array.isArray(spec)) {
    for (let i = 1; i < spec.length; i++)
      if (!(spec[i] > spec[i - 1]))
        throw new InputError([{ path: ['vpc', 'bins', i], message: 'bin edges must increase' }]);
    return { method: 'edges', edges: spec };
  }
  const distinct = [...new Set(sorted)];
  const k = Math.min(spec ?? 8, distinct.length);
  const edges = [sorted[0]];
  for (let b = 1; b < k; b++) {
    const e = quantileSorted(sorted, b / k);
    if (e > edges[edges.length - 1]) edges.push(e);
  }
  edges.push(sorted[sorted.length - 1]);
  return { method: 'quantiles', edges: edges[edges.length - 1] > edges[edges.length - 2] ? edges : edges.slice(0, -1) };
}

const binOf = (edges: number[], t: number) => {
  if (t < edges[0] || t > edges[edges.length - 1]) return -1;
  for (let b = 0; b < edges.length - 1; b++) if (t < edges[b + 1]) return b;
  return edges.length - 2;
};

/** The working vector x of a problem at the estimates of a fit (θ, β, the Cholesky factor of Ω, σ). */
export function xFromResult(pb: PopProblem, res: PopulationFitResult): Float64Array {
  const x = Float64Array.from(pb.x0);
  pb.fixed.forEach((f, k) => (x[k] = f.log ? Math.log(res.theta[f.name].value) : res.theta[f.name].value));
  for (const c of pb.covariates) if (c.x >= 0) x[c.x] = res.beta[`${c.parameter}~${c.covariate}`].value;
  const q = pb.etaNames.length;
  const L = cholesky(Float64Array.from(res.omega.matrix.flat()), q);
  if (!L) throw new InputError([{ path: ['omega'], message: 'Ω of the estimates is not positive definite' }]);
  pb.cholesky.forEach(([i, j], k) => (x[pb.xOmega + k] = i === j ? Math.log(L[i * q + i]) : L[i * q + j]));
  if (pb.xSigma >= 0) x[pb.xSigma] = Math.log(res.sigma.sigma!.value);
  if (pb.xSigmaProp >= 0) x[pb.xSigmaProp] = Math.log(res.sigma.sigmaProp!.value);
  return x;
}

export function runVpc(
  pb: PopProblem,
  x: Float64Array,
  input: unknown = {},
  onProgress?: (replicate: number) => void,
): VpcResult {
  const parsed = VpcOptions.safeParse(input);
  if (!parsed.success)
    throw new InputError(
      parsed.error.issues.map((i) => ({
        path: ['vpc', ...i.path.map((p) => (typeof p === 'number' ? p : String(p)))],
        message: i.message,
      })),
    );
  const opt = parsed.data;
  const q = pb.etaNames.length;
  const Lom = cholesky(omegaOf(pb, x), q);
  if (!Lom) throw new InputError([{ path: ['omega'], message: 'Ω is not positive definite' }]);
  const back = (v: number) => (pb.logTransform ? Math.exp(v) : v);
  // Records: observable, time, observed value, PRED (for the correction).
  const recs = pb.subjects.flatMap((s) => {
    const pred = opt.predictionCorrected
      ? predictSubject(pb, s, individualParams(pb, x, s, new Float64Array(q)), false).f
      : null;
    return s.obs.map((o, j) => ({ observable: o.observable, time: o.time, dv: o.raw, pred: pred ? pred[j] : 1 }));
  });
  const observables = [...new Set(recs.map((r) => r.observable))];
  const edges: Record<string, number[]> = {};
  let method: 'quantiles' | 'edges' = 'quantiles';
  for (const ob of observables) {
    const e = edgesFor(
      recs.filter((r) => r.observable === ob).map((r) => r.time),
      opt.bins,
    );
    edges[ob] = e.edges;
    method = e.method;
  }
  // Bin index of each record, and the bins' median PRED.
  const binIdx = recs.map((r) => binOf(edges[r.observable], r.time));
  const keys = observables.flatMap((ob) => edges[ob].slice(0, -1).map((_, b) => `${ob}\u0000${b}`));
  const keyOf = (i: number) => (binIdx[i] < 0 ? null : `${recs[i].observable}\u0000${binIdx[i]}`);
  const predBin = new Map<string, number>();
  for (const k of keys) {
    const ps = recs
      .filter((_, i) => keyOf(i) === k)
      .map((r) => r.pred)
      .sort((a, b) => a - b);
    predBin.set(k, quantileSorted(ps, 0.5));
  }
  const correct = (i: number, v: number) =>
    opt.predictionCorrected && recs[i].pred !== 0 ? (v * predBin.get(keyOf(i)!)!) / recs[i].pred : v;
  const ps = opt.percentiles.map((p) => p / 100);
  // Simulated percentiles: per replicate and bin.
  const simP = new Map<string, Float64Array[]>(keys.map((k) => [k, ps.map(() => new Float64Array(opt.replicates))]));
  const z = normalSampler(mulberry32(opt.seed));
  let failed = 0;
  const buckets = new Map<string, number[]>(keys.map((k) => [k, []]));
  for (let r = 0; r < opt.replicates; r++) {
    for (const b of buckets.values()) b.length = 0;
    let at = 0;
    for (const s of pb.subjects) {
      const y = simulateSubject(pb, x, s, Lom, z);
      if (!y) failed++;
      for (let j = 0; j < s.obs.length; j++, at++) {
        const k = keyOf(at);
        if (k && y) buckets.get(k)!.push(correct(at, back(y[j])));
      }
    }
    for (const k of keys) {
      const v = buckets.get(k)!.sort((a, b) => a - b);
      ps.forEach((p, c) => (simP.get(k)![c][r] = quantileSorted(v, p)));
    }
    onProgress?.(r + 1);
  }
  const a = (1 - opt.level) / 2;
  const bins: VpcBin[] = keys
    .map((k) => {
      const [ob, bs] = k.split('\u0000');
      const b = Number(bs);
      const idx = recs.map((_, i) => i).filter((i) => keyOf(i) === k);
      const obs = idx.map((i) => correct(i, recs[i].dv)).sort((p, q2) => p - q2);
      const times = idx.map((i) => recs[i].time).sort((p, q2) => p - q2);
      const label = (p: number) => `p${p}`;
      return {
        observable: ob,
        lo: edges[ob][b],
        hi: edges[ob][b + 1],
        time: quantileSorted(times, 0.5),
        n: idx.length,
        observed: Object.fromEntries(opt.percentiles.map((p, c) => [label(p), quantileSorted(obs, ps[c])])),
        simulated: Object.fromEntries(
          opt.percentiles.map((p, c) => {
            const v = Float64Array.from(simP.get(k)![c]).filter(Number.isFinite).sort();
            return [
              label(p),
              { median: quantileSorted(v, 0.5), lo: quantileSorted(v, a), hi: quantileSorted(v, 1 - a) },
            ];
          }),
        ),
      };
    })
    .filter((b) => b.n > 0);
  return {
    replicates: opt.replicates,
    seed: opt.seed,
    predictionCorrected: opt.predictionCorrected,
    binning: { method, edges },
    level: opt.level,
    bins,
    failedSimulations: failed,
  };
}
