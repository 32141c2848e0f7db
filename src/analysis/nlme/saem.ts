// Population fit by SAEM (stochastic approximation EM; Delyon, Lavielle & Moulines 1999; Kuhn & Lavielle
// 2005), the way Monolix and nlmixr2 run it. Each iteration draws every subject's η by Metropolis-Hastings
// with Monolix's three kernels — K1 independent proposals from the prior N(0, Ω), K2 a joint random walk,
// K3 a component-wise random walk (steps scaled by √ω and adapted toward 40 % acceptance) — then updates
// the sufficient statistics by stochastic approximation (step 1 during `burn` iterations, then 1/k over
// `smooth` iterations) and maximises: μ (log θ and covariate β) by least squares of the individual
// log-parameters on their covariate design, Ω from the centred second moments (with Monolix's simulated
// annealing: Ω may shrink by at most 5 % per burn-in iteration), σ by maximising the residual likelihood
// of the current draws (closed form for additive and proportional error) averaged by the same steps.
// Afterwards: −2 log L by importance sampling (per subject a multivariate t₅ proposal centred on the mean
// of its draws with their covariance × 1.5), EBEs, diagnostics and the R-matrix covariance from the FOCE-I
// objective at the SAEM estimates (said so in the result).
import { InputError } from '../../errors.ts';
import { mulberry32, normalSampler } from '../../numerics/random.ts';
import { nelderMead } from '../../numerics/nelder-mead.ts';
import { cholesky, individualParams, omegaOf, typicalWorking, type PopProblem, type PopSubject } from './problem.ts';
import { predictSubject } from './predict.ts';
import { populationM2ll } from './optimize.ts';
import { assembleResult, covarianceFromR, type PopulationFitResult } from './focei.ts';

/** Σ (r²/V + log V) of a subject at η (−2 log p(y|η) without 2π); Infinity when the model fails. */
function dataM2(pb: PopProblem, x: Float64Array, s: PopSubject, eta: Float64Array, a: number, b: number, keep?: { mu: Float64Array }): number {
  let f: Float64Array;
  try {
    f = predictSubject(pb, s, individualParams(pb, x, s, eta), false).f;
  } catch {
    return Infinity;
  }
  let v = 0;
  for (let j = 0; j < f.length; j++) {
    if (pb.logTransform && !(f[j] > 0)) return Infinity;
    const mu = pb.logTransform ? Math.log(f[j]) : f[j];
    if (keep) keep.mu[j] = mu;
    const V = a * a + b * b * mu * mu;
    const r = s.obs[j].y - mu;
    v += (r * r) / V + Math.log(V);
  }
  return Number.isFinite(v) ? v : Infinity;
}

const quad = (eta: Float64Array, inv: Float64Array, q: number) => {
  let v = 0;
  for (let i = 0; i < q; i++) for (let k = 0; k < q; k++) v += eta[i] * inv[i * q + k] * eta[k];
  return v;
};

function invert(A: Float64Array, q: number): Float64Array | null {
  const L = cholesky(A, q);
  if (!L) return null;
  const inv = new Float64Array(q * q);
  for (let j = 0; j < q; j++) {
    const y = new Float64Array(q);
    for (let i = 0; i < q; i++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < i; k++) s -= L[i * q + k] * y[k];
      y[i] = s / L[i * q + i];
    }
    for (let i = q - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < q; k++) s -= L[k * q + i] * inv[k * q + j];
      inv[i * q + j] = s / L[i * q + i];
    }
  }
  return inv;
}

export function fitSaem(pb: PopProblem, onProgress?: (it: number) => void): PopulationFitResult {
  const t0 = Date.now();
  const opt = pb.request.population.saem;
  const q = pb.etaNames.length;
  const nS = pb.subjects.length;
  const lacking = pb.fixed.filter((f) => f.eta < 0);
  if (lacking.length) throw new InputError([{ path: ['population', 'method'], message: `SAEM needs a random effect on every estimated model parameter (${lacking.map((f) => f.name).join(', ')} ha${lacking.length > 1 ? 've' : 's'} none): use focei, or give them an η in population.omega` }]);
  const x = Float64Array.from(pb.x0);
  const z = normalSampler(mulberry32(opt.seed));
  const u = mulberry32(opt.seed + 0x9e3779b9);
  // Covariate design per η: z_i = [1, covariate terms with estimated β on that parameter]; fixed β are offsets.
  const design = pb.etaFe.map((fe) => ({ fe, betas: pb.covariates.filter((c) => c.fe === fe && c.x >= 0) }));
  const zOf = (s: PopSubject, k: number) => {
    const d = design[k];
    return [1, ...d.betas.map((c) => {
      const v = s.covariates[c.covariate];
      return c.form === 'power' ? Math.log(v / c.center) : c.form === 'exponential' ? v - c.center : NaN;
    })];
  };
  if (pb.covariates.some((c) => c.x >= 0 && c.form === 'linear')) throw new InputError([{ path: ['population', 'covariates'], message: 'SAEM takes power and exponential covariate effects (linear in log P); a linear effect needs focei' }]);
  const Z = pb.subjects.map((s) => design.map((_, k) => zOf(s, k)));
  const offset = (s: PopSubject, k: number, xx: Float64Array) => {
    // The part of the typical log value not in the regression (fixed β).
    const w = typicalWorking(pb, xx, s)[design[k].fe];
    const zz = Z[pb.subjects.indexOf(s)][k];
    let reg = xx[design[k].fe];
    design[k].betas.forEach((c, j) => (reg += xx[c.x] * zz[j + 1]));
    return w - reg;
  };
  // State: each subject's η (relative to its typical value at the current x) and data term.
  let omega = omegaOf(pb, x);
  let inv = invert(omega, q)!;
  let { a, b } = { a: pb.xSigma >= 0 ? Math.exp(x[pb.xSigma]) : pb.errorModel === 'proportional' ? 0 : pb.sigmaFixed, b: pb.xSigmaProp >= 0 ? Math.exp(x[pb.xSigmaProp]) : pb.errorModel === 'additive' ? 0 : pb.sigmaPropFixed };
  const phi = pb.subjects.map((s) => Float64Array.from(design, (d) => typicalWorking(pb, x, s)[d.fe]));
  const etaOf = (i: number) => {
    const w = typicalWorking(pb, x, pb.subjects[i]);
    return Float64Array.from(phi[i], (v, k) => v - w[design[k].fe]);
  };
  const scale2 = new Float64Array(nS).fill(0.5);
  const scale3 = pb.subjects.map(() => new Float64Array(q).fill(0.5));
  const K = opt.burn + opt.smooth;
  // Sufficient statistics (SA): S1[k] = Σ_i z_ik (φ_ik − offset), S2 = Σ φ̃ φ̃ᵀ (φ̃ = φ − offset).
  const S1 = design.map((d) => new Float64Array(1 + d.betas.length));
  // Cross statistics Sx[r][c] = Σ_i z_ir φ̃_ic (S1[k] = Sx[k][k]), for Ω's centring.
  const Sx = design.map((d) => design.map(() => new Float64Array(1 + d.betas.length)));
  const S2 = new Float64Array(q * q);
  const ZZ = design.map((d, k) => {
    const m = 1 + d.betas.length;
    const M = new Float64Array(m * m);
    Z.forEach((zi) => { for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) M[r * m + c] += zi[k][r] * zi[k][c]; });
    return M;
  });
  const errPar = { a, b };
  const mus = pb.subjects.map((s) => new Float64Array(s.obs.length));
  const chainSum = pb.subjects.map(() => new Float64Array(q));
  const chainSq = pb.subjects.map(() => new Float64Array(q * q));
  let chainN = 0;
  const Lo = () => cholesky(omega, q)!;
  for (let it = 1; it <= K; it++) {
    const gamma = it <= opt.burn ? 1 : 1 / (it - opt.burn + 1);
    const L = Lo();
    for (let i = 0; i < nS; i++) {
      const s = pb.subjects[i];
      for (let chain = 0; chain < opt.chains; chain++) {
        let eta = etaOf(i);
        let d = dataM2(pb, x, s, eta, a, b);
        let U = d + quad(eta, inv, q);
        // K1: independent proposals from the prior.
        for (let k = 0; k < 2; k++) {
          const e = Float64Array.from({ length: q }, () => z());
          const prop = new Float64Array(q);
          for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) prop[r] += L[r * q + c] * e[c];
          const dp = dataM2(pb, x, s, prop, a, b);
          if (Math.log(u()) < -0.5 * (dp - d)) { eta = prop; d = dp; U = d + quad(eta, inv, q); }
        }
        // K2: joint random walk.
        for (let k = 0; k < 2; k++) {
          const prop = Float64Array.from(eta, (v, c) => v + scale2[i] * Math.sqrt(omega[c * q + c]) * z());
          const dp = dataM2(pb, x, s, prop, a, b);
          const Up = dp + quad(prop, inv, q);
          const acc = Math.log(u()) < -0.5 * (Up - U);
          if (acc) { eta = prop; d = dp; U = Up; }
          scale2[i] *= 1 + 0.4 * ((acc ? 1 : 0) - 0.4);
        }
        // K3: component-wise random walk.
        for (let c = 0; c < q; c++) {
          const prop = Float64Array.from(eta);
          prop[c] += scale3[i][c] * Math.sqrt(omega[c * q + c]) * z();
          const dp = dataM2(pb, x, s, prop, a, b);
          const Up = dp + quad(prop, inv, q);
          const acc = Math.log(u()) < -0.5 * (Up - U);
          if (acc) { eta = prop; d = dp; U = Up; }
          scale3[i][c] *= 1 + 0.4 * ((acc ? 1 : 0) - 0.4);
        }
        const w = typicalWorking(pb, x, s);
        phi[i] = Float64Array.from(eta, (v, k) => v + w[design[k].fe]);
        if (it > opt.burn) {
          chainN += i === 0 && chain === 0 ? 1 : 0;
          for (let r = 0; r < q; r++) {
            chainSum[i][r] += eta[r];
            for (let c = 0; c < q; c++) chainSq[i][r * q + c] += eta[r] * eta[c];
          }
        }
        dataM2(pb, x, s, eta, a, b, { mu: mus[i] });
      }
    }
    // Stochastic approximation of the statistics, then the M step.
    const phiT = pb.subjects.map((s, i) => Float64Array.from(phi[i], (v, k) => v - offset(s, k, x)));
    design.forEach((d, k) => {
      const m = 1 + d.betas.length;
      const cur = new Float64Array(m);
      Z.forEach((zi, i) => { for (let r = 0; r < m; r++) cur[r] += zi[k][r] * phiT[i][k]; });
      for (let r = 0; r < m; r++) S1[k][r] += gamma * (cur[r] - S1[k][r]);
    });
    design.forEach((d, r) => design.forEach((_, c) => {
      const m = 1 + d.betas.length;
      const cur = new Float64Array(m);
      Z.forEach((zi, i) => { for (let e = 0; e < m; e++) cur[e] += zi[r][e] * phiT[i][c]; });
      for (let e = 0; e < m; e++) Sx[r][c][e] += gamma * (cur[e] - Sx[r][c][e]);
    }));
    const cur2 = new Float64Array(q * q);
    phiT.forEach((p) => { for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) cur2[r * q + c] += p[r] * p[c]; });
    for (let k = 0; k < q * q; k++) S2[k] += gamma * (cur2[k] - S2[k]);
    // μ per parameter: (ZᵀZ)⁻¹ S1.
    const coef = design.map((d, k) => {
      const m = 1 + d.betas.length;
      const Mi = invert(ZZ[k], m);
      if (!Mi) throw new InputError([{ path: ['population', 'covariates'], message: `the covariate design of ${pb.etaNames[k]} is singular (a covariate constant over subjects?)` }]);
      return Float64Array.from({ length: m }, (_, r) => { let v = 0; for (let c = 0; c < m; c++) v += Mi[r * m + c] * S1[k][c]; return v; });
    });
    design.forEach((d, k) => {
      x[d.fe] = Math.min(pb.upper[d.fe], Math.max(pb.lower[d.fe], coef[k][0]));
      d.betas.forEach((c, j) => (x[c.x] = coef[k][j + 1]));
    });
    // Ω = (1/N) Σ (φ̃ − Zμ)(φ̃ − Zμ)ᵀ from S2, the cross statistics and the (fixed) design.
    const fittedMean = pb.subjects.map((_, i) => Float64Array.from(design, (_, k) => Z[i][k].reduce((v, zz, r) => v + zz * coef[k][r], 0)));
    const next = new Float64Array(q * q);
    for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) {
      let cross = 0;
      let mm = 0;
      coef[r].forEach((v, e) => (cross += v * Sx[r][c][e]));
      coef[c].forEach((v, e) => (cross += v * Sx[c][r][e]));
      pb.subjects.forEach((_, i) => (mm += fittedMean[i][r] * fittedMean[i][c]));
      next[r * q + c] = (S2[r * q + c] - cross + mm) / nS;
    }
    // Structure: zero outside the block, diagonal floor, annealing during burn-in.
    const blockOf = new Set(pb.cholesky.filter(([i, j]) => i !== j).flatMap(([i, j]) => [`${i},${j}`, `${j},${i}`]));
    for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) if (r !== c && !blockOf.has(`${r},${c}`)) next[r * q + c] = 0;
    for (let r = 0; r < q; r++) {
      const floor = it <= opt.burn ? 0.95 * omega[r * q + r] : 1e-8;
      if (!(next[r * q + r] >= floor)) next[r * q + r] = floor;
    }
    const nextInv = invert(next, q);
    if (nextInv) { omega = next; inv = nextInv; }
    // σ: the residual-likelihood maximum at the current draws, averaged by the SA step.
    const resid = pb.subjects.flatMap((s, i) => s.obs.map((o, j) => [o.y - mus[i][j], mus[i][j]] as const));
    let an = a;
    let bn = b;
    if (pb.errorModel === 'additive' && pb.xSigma >= 0) an = Math.sqrt(resid.reduce((v, [r]) => v + r * r, 0) / resid.length);
    else if (pb.errorModel === 'proportional' && pb.xSigmaProp >= 0) bn = Math.sqrt(resid.reduce((v, [r, m]) => v + (r * r) / (m * m), 0) / resid.length);
    else if (pb.errorModel === 'combined') {
      const obj = (p: number[]) => {
        const aa = pb.xSigma >= 0 ? Math.exp(p[0]) : a;
        const bb = pb.xSigmaProp >= 0 ? Math.exp(p[1]) : b;
        return resid.reduce((v, [r, m]) => { const V = aa * aa + bb * bb * m * m; return v + (r * r) / V + Math.log(V); }, 0);
      };
      const best = nelderMead(obj, [Math.log(Math.max(a, 1e-12)), Math.log(Math.max(b, 1e-12))], 200).x;
      if (pb.xSigma >= 0) an = Math.exp(best[0]);
      if (pb.xSigmaProp >= 0) bn = Math.exp(best[1]);
    }
    errPar.a += gamma * (an - errPar.a);
    errPar.b += gamma * (bn - errPar.b);
    a = errPar.a;
    b = errPar.b;
    onProgress?.(it);
  }
  // Back into x: Ω's Cholesky factor and σ.
  const Lf = cholesky(omega, q)!;
  pb.cholesky.forEach(([i, j], k) => (x[pb.xOmega + k] = i === j ? Math.log(Lf[i * q + i]) : Lf[i * q + j]));
  if (pb.xSigma >= 0) x[pb.xSigma] = Math.log(a);
  if (pb.xSigmaProp >= 0) x[pb.xSigmaProp] = Math.log(b);
  const m2ll = importanceSampling(pb, x, chainSum.map((s, i) => ({ sum: s, sq: chainSq[i] })), Math.max(1, chainN * opt.chains), opt.importanceSamples, opt.seed + 7);
  const best = populationM2ll(pb, x, pb.subjects.map(() => new Float64Array(q)));
  if (!best) throw new InputError([{ path: ['population'], message: 'the model cannot be evaluated at the SAEM estimates' }]);
  const cov = pb.request.population.covariance === 'R' ? covarianceFromR(pb, x, best) : null;
  const res = assembleResult(pb, x, best, cov, { method: 'saem', converged: true, reason: `${K} SAEM iterations (${opt.burn} exploratory, ${opt.smooth} smoothing)`, iterations: K, t0, m2ll });
  res.warnings.push('SAEM: −2 log L by importance sampling; standard errors from the R matrix of the FOCE-I objective at the SAEM estimates; EBEs are the conditional modes');
  return res;
}

/** −2 log L by importance sampling: per subject a t₅ proposal from the mean and covariance (× 1.5) of its draws. */
export function importanceSampling(pb: PopProblem, x: Float64Array, chains: { sum: Float64Array; sq: Float64Array }[], n: number, M: number, seed: number): number {
  const q = pb.etaNames.length;
  const omega = omegaOf(pb, x);
  const inv = invert(omega, q)!;
  const Lo = cholesky(omega, q)!;
  let logDetO = 0;
  for (let i = 0; i < q; i++) logDetO += 2 * Math.log(Lo[i * q + i]);
  const a = pb.xSigma >= 0 ? Math.exp(x[pb.xSigma]) : pb.errorModel === 'proportional' ? 0 : pb.sigmaFixed;
  const b = pb.xSigmaProp >= 0 ? Math.exp(x[pb.xSigmaProp]) : pb.errorModel === 'additive' ? 0 : pb.sigmaPropFixed;
  const z = normalSampler(mulberry32(seed));
  const nu = 5;
  let total = 0;
  pb.subjects.forEach((s, i) => {
    const mean = Float64Array.from(chains[i].sum, (v) => v / n);
    const C = new Float64Array(q * q);
    for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) C[r * q + c] = 1.5 * (chains[i].sq[r * q + c] / n - mean[r] * mean[c]) + (r === c ? 1e-10 : 0);
    const L = cholesky(C, q) ?? Lo;
    const Cinv = invert(L === Lo ? omega : C, q)!;
    let logDetC = 0;
    for (let r = 0; r < q; r++) logDetC += 2 * Math.log(L[r * q + r]);
    const logs: number[] = [];
    for (let m = 0; m < M; m++) {
      const e = Float64Array.from({ length: q }, () => z());
      let chi = 0;
      for (let k = 0; k < nu; k++) chi += z() ** 2;
      const w = Math.sqrt(nu / chi);
      const eta = Float64Array.from(mean);
      for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) eta[r] += L[r * q + c] * e[c] * w;
      const d = dataM2(pb, x, s, eta, a, b);
      if (!Number.isFinite(d)) continue;
      const dev = Float64Array.from(eta, (v, r) => v - mean[r]);
      // log densities: prior N(0, Ω), proposal t_ν(mean, C).
      const logPrior = -0.5 * (quad(eta, inv, q) + logDetO + q * Math.log(2 * Math.PI));
      const logT = lgamma((nu + q) / 2) - lgamma(nu / 2) - (q / 2) * Math.log(nu * Math.PI) - 0.5 * logDetC - ((nu + q) / 2) * Math.log(1 + quad(dev, Cinv, q) / nu);
      logs.push(-0.5 * (d + s.obs.length * Math.log(2 * Math.PI)) + logPrior - logT);
    }
    const mx = Math.max(...logs);
    const li = mx + Math.log(logs.reduce((v, l) => v + Math.exp(l - mx), 0) / M);
    total += -2 * li;
  });
  return total;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7). */
function lgamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
