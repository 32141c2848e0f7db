// Per-record diagnostics of a population fit and η shrinkage.
//   PRED  population prediction (η = 0);  IPRED individual prediction (η = η̂);
//   IWRES (y − IPRED)/√V on the error model's scale;
//   CWRES conditional weighted residuals (Hooker, Staatz & Karlsson 2007, Pharm Res 24:2187): the model
//         linearised at η̂, E = h(f(η̂)) − G η̂, C = G Ω Gᵀ + diag(V), CWRES = L⁻¹(y − E) with C = L Lᵀ;
//   NPDE  normalised prediction distribution errors (Brendel et al. 2006; Comets, Brendel & Mentré 2008):
//         K simulations of each subject's design with η ~ N(0, Ω) and residual error, observed and simulated
//         vectors decorrelated by the empirical mean and covariance of the simulations, pde = the fraction
//         of decorrelated simulations below the decorrelated observation (bounded to [1/2K, 1 − 1/2K]),
//         NPDE = Φ⁻¹(pde).
//   η shrinkage 1 − SD(η̂)/ω (SD with n − 1), ε shrinkage 1 − SD(IWRES).
import { mulberry32, normalSampler } from '../../numerics/random.ts';
import { normalQuantile } from '../../numerics/linalg.ts';
import { cholesky, individualParams, sigmasOf, type PopProblem, type PopSubject } from './problem.ts';
import { predictSubject } from './predict.ts';
import type { SubjectFit } from './likelihood.ts';

export interface PopulationRecord {
  subject: string;
  time: number;
  observable: string;
  DV: number;
  PRED: number;
  IPRED: number;
  IWRES: number;
  /** null when the linearised covariance is not positive definite. */
  CWRES: number | null;
  /** Contract 6: the dataset line; Contract 4 rows: the index in `data`. */
  line?: number;
  NPDE: number | null;
}

const transform = (pb: PopProblem, v: number) => (pb.logTransform ? Math.log(v) : v);

/** Lower Cholesky factor and forward solve L z = r. */
function whiten(C: Float64Array, n: number, r: Float64Array): Float64Array | null {
  const L = cholesky(C, n);
  if (!L) return null;
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = r[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
    z[i] = s / L[i * n + i];
  }
  return z;
}

export function recordDiagnostics(
  pb: PopProblem,
  x: Float64Array,
  omega: Float64Array,
  fits: SubjectFit[],
): PopulationRecord[] {
  const q = pb.etaNames.length;
  const out: PopulationRecord[] = [];
  pb.subjects.forEach((s, i) => {
    const fit = fits[i];
    const n = s.obs.length;
    const pred = predictSubject(pb, s, individualParams(pb, x, s, new Float64Array(q)), false).f;
    const E = new Float64Array(n);
    const C = new Float64Array(n * n);
    const r = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let ge = 0;
      for (let c = 0; c < q; c++) ge += fit.G[j * q + c] * fit.eta[c];
      E[j] = fit.mu[j] - ge;
      r[j] = s.obs[j].y - E[j];
      for (let k = 0; k <= j; k++) {
        let v = 0;
        for (let c = 0; c < q; c++)
          for (let d = 0; d < q; d++) v += fit.G[j * q + c] * omega[c * q + d] * fit.G[k * q + d];
        C[j * n + k] = v;
        C[k * n + j] = v;
      }
      C[j * n + j] += fit.V[j];
    }
    const cw = whiten(C, n, r);
    s.obs.forEach((o, j) => {
      out.push({
        subject: s.id,
        time: o.time,
        observable: o.observable,
        DV: o.raw,
        PRED: pred[j],
        IPRED: fit.f[j],
        IWRES: (o.y - fit.mu[j]) / Math.sqrt(fit.V[j]),
        CWRES: cw ? cw[j] : null,
        NPDE: null,
        ...(o.line !== undefined ? { line: o.line } : {}),
      });
    });
  });
  return out;
}

/** η shrinkage per random effect (fraction), and ε shrinkage from IWRES. */
export function shrinkage(etas: Float64Array[], omega: Float64Array, q: number, iwres: number[]) {
  const eta = Array.from({ length: q }, (_, c) => {
    const v = etas.map((e) => e[c]);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, v.length - 1));
    return 1 - sd / Math.sqrt(omega[c * q + c]);
  });
  const m = iwres.reduce((a, b) => a + b, 0) / iwres.length;
  const sdE = Math.sqrt(iwres.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, iwres.length - 1));
  return { eta, epsilon: 1 - sdE };
}

/** One simulated observation vector of a subject (error model's scale) with η drawn from Ω. */
export function simulateSubject(
  pb: PopProblem,
  x: Float64Array,
  s: PopSubject,
  Lomega: Float64Array,
  z: () => number,
): Float64Array | null {
  const q = pb.etaNames.length;
  const u = Float64Array.from({ length: q }, () => z());
  const eta = new Float64Array(q);
  for (let i = 0; i < q; i++) for (let k = 0; k <= i; k++) eta[i] += Lomega[i * q + k] * u[k];
  const { a, b } = sigmasOf(pb, x);
  let f: Float64Array;
  try {
    f = predictSubject(pb, s, individualParams(pb, x, s, eta), false).f;
  } catch {
    return null;
  }
  const y = new Float64Array(f.length);
  for (let j = 0; j < f.length; j++) {
    if (pb.logTransform && !(f[j] > 0)) return null;
    const mu = transform(pb, f[j]);
    y[j] = mu + Math.sqrt(a * a + b * b * mu * mu) * z();
  }
  return y;
}

/** NPDE of every record (in the order of recordDiagnostics), written into `records`. */
export function addNpde(
  pb: PopProblem,
  x: Float64Array,
  omega: Float64Array,
  records: PopulationRecord[],
  K: number,
  seed: number,
): void {
  const q = pb.etaNames.length;
  const Lo = cholesky(omega, q);
  if (!Lo || K < 2) return;
  const z = normalSampler(mulberry32(seed));
  let at = 0;
  for (const s of pb.subjects) {
    const n = s.obs.length;
    const sims: Float64Array[] = [];
    for (let k = 0; k < K && sims.length < K; k++) {
      const y = simulateSubject(pb, x, s, Lo, z);
      if (y) sims.push(y);
    }
    const mean = new Float64Array(n);
    for (const y of sims) for (let j = 0; j < n; j++) mean[j] += y[j] / sims.length;
    const C = new Float64Array(n * n);
    for (const y of sims)
      for (let j = 0; j < n; j++)
        for (let k = 0; k < n; k++) C[j * n + k] += ((y[j] - mean[j]) * (y[k] - mean[k])) / (sims.length - 1);
    const obs = Float64Array.from(s.obs, (o, j) => o.y - mean[j]);
    const wo = sims.length > n ? whiten(C, n, obs) : null;
    if (wo) {
      const ws = sims.map((y) =>
        whiten(
          C,
          n,
          Float64Array.from(y, (v, j) => v - mean[j]),
        )!,
      );
      for (let j = 0; j < n; j++) {
        let below = 0;
        for (const w of ws) if (w[j] < wo[j]) below++;
        const pde = Math.min(1 - 1 / (2 * ws.length), Math.max(1 / (2 * ws.length), below / ws.length));
        records[at + j].NPDE = normalQuantile(pde);
      }
    }
    at += n;
  }
}
