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
import {
  cholesky,
  individualParams,
  omegaOf,
  typicalWorking,
  type CovariateTerm,
  type PopProblem,
  type PopSubject,
} from './problem.ts';
import { predictSubject } from './predict.ts';
import { populationM2ll } from './optimize.ts';
import { assembleResult, covarianceFromR, type PopulationFitResult } from './focei.ts';

/** Σ (r²/V + log V) of a subject at η (−2 log p(y|η) without 2π); Infinity when the model fails. */
function dataM2(
  pb: PopProblem,
  x: Float64Array,
  s: PopSubject,
  eta: Float64Array,
  a: number,
  b: number,
  keep?: { mu: Float64Array },
): number {
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

/** What SAEM carries from one iteration to the next (x, Ω, σ and the statistics are updated in place). */
interface SaemState {
  pb: PopProblem;
  opt: PopProblem['request']['population']['saem'];
  q: number;
  nS: number;
  /** The working vector: μ (log θ, β) written by the M step, Ω and σ only at the end. */
  x: Float64Array;
  z: () => number;
  u: () => number;
  /** Covariate design per η: the fixed effect and the estimated β on it. */
  design: { fe: number; betas: CovariateTerm[] }[];
  /** Z[i][k] = [1, covariate terms] of subject i for η k; ZZ[k] = Σ_i z_ik z_ikᵀ. */
  Z: number[][][];
  ZZ: Float64Array[];
  omega: Float64Array;
  inv: Float64Array;
  a: number;
  b: number;
  /** Each subject's individual log-parameters φ (the last draw). */
  phi: Float64Array[];
  /** Random-walk scales of the kernels K2 (per subject) and K3 (per subject and component). */
  scale2: Float64Array;
  scale3: Float64Array[];
  /** Sufficient statistics (SA): S1[k] = Σ_i z_ik φ̃_ik, Sx[r][c] = Σ_i z_ir φ̃_ic, S2 = Σ φ̃ φ̃ᵀ (φ̃ = φ − offset). */
  S1: Float64Array[];
  Sx: Float64Array[][];
  S2: Float64Array;
  /** Each subject's predictions (error-model scale) at its last draw, for σ. */
  mus: Float64Array[];
  /** Sums of η and ηηᵀ over the smoothing draws (the importance-sampling proposal). */
  chainSum: Float64Array[];
  chainSq: Float64Array[];
  chainN: number;
}

export function fitSaem(pb: PopProblem, onProgress?: (it: number) => void): PopulationFitResult {
  const t0 = Date.now();
  const st = initSaem(pb);
  const K = st.opt.burn + st.opt.smooth;
  for (let it = 1; it <= K; it++) {
    const gamma = it <= st.opt.burn ? 1 : 1 / (it - st.opt.burn + 1);
    sampleEtas(st, it);
    updateStatistics(st, gamma);
    const coef = updateMu(st);
    updateOmega(st, coef, it);
    updateSigma(st, gamma);
    onProgress?.(it);
  }
  return saemResult(st, t0);
}

/** Checks the problem suits SAEM and sets up the design, the starting state (η = 0 at x0) and the generators. */
function initSaem(pb: PopProblem): SaemState {
  const opt = pb.request.population.saem;
  const q = pb.etaNames.length;
  const nS = pb.subjects.length;
  const lacking = pb.fixed.filter((f) => f.eta < 0);
  if (lacking.length)
    throw new InputError([
      {
        path: ['population', 'method'],
        message: `SAEM needs a random effect on every estimated model parameter (${lacking.map((f) => f.name).join(', ')} ha${lacking.length > 1 ? 've' : 's'} none): use focei, or give them an η in population.omega`,
      },
    ]);
  const x = Float64Array.from(pb.x0);
  const z = normalSampler(mulberry32(opt.seed));
  const u = mulberry32(opt.seed + 0x9e3779b9);
  // Covariate design per η: z_i = [1, covariate terms with estimated β on that parameter]; fixed β are offsets.
  const design = pb.etaFe.map((fe) => ({ fe, betas: pb.covariates.filter((c) => c.fe === fe && c.x >= 0) }));
  const zOf = (s: PopSubject, k: number) => {
    const d = design[k];
    return [
      1,
      ...d.betas.map((c) => {
        const v = s.covariates[c.covariate];
        return c.form === 'power' ? Math.log(v / c.center) : c.form === 'exponential' ? v - c.center : NaN;
      }),
    ];
  };
  if (pb.covariates.some((c) => c.x >= 0 && c.form === 'linear'))
    throw new InputError([
      {
        path: ['population', 'covariates'],
        message: 'SAEM takes power and exponential covariate effects (linear in log P); a linear effect needs focei',
      },
    ]);
  const Z = pb.subjects.map((s) => design.map((_, k) => zOf(s, k)));
  const ZZ = design.map((d, k) => {
    const m = 1 + d.betas.length;
    const M = new Float64Array(m * m);
    Z.forEach((zi) => {
      for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) M[r * m + c] += zi[k][r] * zi[k][c];
    });
    return M;
  });
  const omega = omegaOf(pb, x);
  return {
    pb,
    opt,
    q,
    nS,
    x,
    z,
    u,
    design,
    Z,
    ZZ,
    omega,
    inv: invert(omega, q)!,
    a: pb.xSigma >= 0 ? Math.exp(x[pb.xSigma]) : pb.errorModel === 'proportional' ? 0 : pb.sigmaFixed,
    b: pb.xSigmaProp >= 0 ? Math.exp(x[pb.xSigmaProp]) : pb.errorModel === 'additive' ? 0 : pb.sigmaPropFixed,
    phi: pb.subjects.map((s) => Float64Array.from(design, (d) => typicalWorking(pb, x, s)[d.fe])),
    scale2: new Float64Array(nS).fill(0.5),
    scale3: pb.subjects.map(() => new Float64Array(q).fill(0.5)),
    S1: design.map((d) => new Float64Array(1 + d.betas.length)),
    Sx: design.map((d) => design.map(() => new Float64Array(1 + d.betas.length))),
    S2: new Float64Array(q * q),
    mus: pb.subjects.map((s) => new Float64Array(s.obs.length)),
    chainSum: pb.subjects.map(() => new Float64Array(q)),
    chainSq: pb.subjects.map(() => new Float64Array(q * q)),
    chainN: 0,
  };
}

/** The part of subject i's typical log value of η k not in the regression (fixed β). */
function offset(st: SaemState, i: number, k: number): number {
  const { pb, x, design } = st;
  const w = typicalWorking(pb, x, pb.subjects[i])[design[k].fe];
  const zz = st.Z[i][k];
  let reg = x[design[k].fe];
  design[k].betas.forEach((c, j) => (reg += x[c.x] * zz[j + 1]));
  return w - reg;
}

/** A Metropolis-Hastings chain's current point: η, its data term and its −2 log posterior (up to constants). */
interface Draw {
  eta: Float64Array;
  d: number;
  U: number;
}

/** K1: independent proposals from the prior N(0, Ω) (L its Cholesky factor); the ratio is the data term's. */
function priorKernel(st: SaemState, i: number, L: Float64Array, cur: Draw): void {
  const { pb, x, q, z, u, a, b } = st;
  for (let k = 0; k < 2; k++) {
    const e = Float64Array.from({ length: q }, () => z());
    const prop = new Float64Array(q);
    for (let r = 0; r < q; r++) for (let c = 0; c <= r; c++) prop[r] += L[r * q + c] * e[c];
    const dp = dataM2(pb, x, pb.subjects[i], prop, a, b);
    if (Math.log(u()) < -0.5 * (dp - cur.d)) {
      cur.eta = prop;
      cur.d = dp;
      cur.U = cur.d + quad(cur.eta, st.inv, q);
    }
  }
}

/** Metropolis accept/reject of a proposed η for subject i (target: its conditional density); moves `cur` when accepted. */
function metropolis(st: SaemState, i: number, cur: Draw, prop: Float64Array): boolean {
  const { pb, x, q, u, a, b } = st;
  const dp = dataM2(pb, x, pb.subjects[i], prop, a, b);
  const Up = dp + quad(prop, st.inv, q);
  const acc = Math.log(u()) < -0.5 * (Up - cur.U);
  if (acc) {
    cur.eta = prop;
    cur.d = dp;
    cur.U = Up;
  }
  return acc;
}

/** K2: a joint random walk, its step scaled by √ω and adapted toward 40 % acceptance. */
function jointWalkKernel(st: SaemState, i: number, cur: Draw): void {
  const { q, z, omega, scale2 } = st;
  for (let k = 0; k < 2; k++) {
    const prop = Float64Array.from(cur.eta, (v, c) => v + scale2[i] * Math.sqrt(omega[c * q + c]) * z());
    const acc = metropolis(st, i, cur, prop);
    scale2[i] *= 1 + 0.4 * ((acc ? 1 : 0) - 0.4);
  }
}

/** K3: a component-wise random walk, each component's step adapted like K2's. */
function componentWalkKernel(st: SaemState, i: number, cur: Draw): void {
  const { q, z, omega } = st;
  const scale3 = st.scale3[i];
  for (let c = 0; c < q; c++) {
    const prop = Float64Array.from(cur.eta);
    prop[c] += scale3[c] * Math.sqrt(omega[c * q + c]) * z();
    const acc = metropolis(st, i, cur, prop);
    scale3[c] *= 1 + 0.4 * ((acc ? 1 : 0) - 0.4);
  }
}

/** The simulation step: every subject's chains move η by K1, K2, K3 from its last φ; the draws are recorded. */
function sampleEtas(st: SaemState, it: number): void {
  const { pb, x, q, nS, a, b } = st;
  const L = cholesky(st.omega, q)!;
  for (let i = 0; i < nS; i++) {
    const s = pb.subjects[i];
    for (let chain = 0; chain < st.opt.chains; chain++) {
      // η relative to the subject's typical value at the current x.
      const w0 = typicalWorking(pb, x, s);
      const eta0 = Float64Array.from(st.phi[i], (v, k) => v - w0[st.design[k].fe]);
      const d0 = dataM2(pb, x, s, eta0, a, b);
      const cur: Draw = { eta: eta0, d: d0, U: d0 + quad(eta0, st.inv, q) };
      priorKernel(st, i, L, cur);
      jointWalkKernel(st, i, cur);
      componentWalkKernel(st, i, cur);
      const eta = cur.eta;
      const w = typicalWorking(pb, x, s);
      st.phi[i] = Float64Array.from(eta, (v, k) => v + w[st.design[k].fe]);
      if (it > st.opt.burn) {
        st.chainN += i === 0 && chain === 0 ? 1 : 0;
        for (let r = 0; r < q; r++) {
          st.chainSum[i][r] += eta[r];
          for (let c = 0; c < q; c++) st.chainSq[i][r * q + c] += eta[r] * eta[c];
        }
      }
      dataM2(pb, x, s, eta, a, b, { mu: st.mus[i] });
    }
  }
}

/** Stochastic approximation of the sufficient statistics S1, Sx, S2 with step γ. */
function updateStatistics(st: SaemState, gamma: number): void {
  const { pb, q, design, Z, S1, Sx, S2 } = st;
  const phiT = pb.subjects.map((_, i) => Float64Array.from(st.phi[i], (v, k) => v - offset(st, i, k)));
  design.forEach((d, k) => {
    const m = 1 + d.betas.length;
    const cur = new Float64Array(m);
    Z.forEach((zi, i) => {
      for (let r = 0; r < m; r++) cur[r] += zi[k][r] * phiT[i][k];
    });
    for (let r = 0; r < m; r++) S1[k][r] += gamma * (cur[r] - S1[k][r]);
  });
  design.forEach((d, r) =>
    design.forEach((_, c) => {
      const m = 1 + d.betas.length;
      const cur = new Float64Array(m);
      Z.forEach((zi, i) => {
        for (let e = 0; e < m; e++) cur[e] += zi[r][e] * phiT[i][c];
      });
      for (let e = 0; e < m; e++) Sx[r][c][e] += gamma * (cur[e] - Sx[r][c][e]);
    }),
  );
  const cur2 = new Float64Array(q * q);
  phiT.forEach((p) => {
    for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) cur2[r * q + c] += p[r] * p[c];
  });
  for (let k = 0; k < q * q; k++) S2[k] += gamma * (cur2[k] - S2[k]);
}

/** M step for μ: per parameter (ZᵀZ)⁻¹ S1, written into x (log θ within its bounds, β); returns the coefficients. */
function updateMu(st: SaemState): Float64Array[] {
  const { pb, x, design } = st;
  const coef = design.map((d, k) => {
    const m = 1 + d.betas.length;
    const Mi = invert(st.ZZ[k], m);
    if (!Mi)
      throw new InputError([
        {
          path: ['population', 'covariates'],
          message: `the covariate design of ${pb.etaNames[k]} is singular (a covariate constant over subjects?)`,
        },
      ]);
    return Float64Array.from({ length: m }, (_, r) => {
      let v = 0;
      for (let c = 0; c < m; c++) v += Mi[r * m + c] * st.S1[k][c];
      return v;
    });
  });
  design.forEach((d, k) => {
    x[d.fe] = Math.min(pb.upper[d.fe], Math.max(pb.lower[d.fe], coef[k][0]));
    d.betas.forEach((c, j) => (x[c.x] = coef[k][j + 1]));
  });
  return coef;
}

/**
 * M step for Ω = (1/N) Σ (φ̃ − Zμ)(φ̃ − Zμ)ᵀ from S2, the cross statistics and the (fixed) design; zero
 * outside the block, a diagonal floor, and during burn-in Monolix's annealing (shrinking ≤ 5 % per iteration).
 */
function updateOmega(st: SaemState, coef: Float64Array[], it: number): void {
  const { pb, q, nS, design, Z, Sx, S2, omega } = st;
  const fittedMean = pb.subjects.map((_, i) =>
    Float64Array.from(design, (_, k) => Z[i][k].reduce((v, zz, r) => v + zz * coef[k][r], 0)),
  );
  const next = new Float64Array(q * q);
  for (let r = 0; r < q; r++)
    for (let c = 0; c < q; c++) {
      let cross = 0;
      let mm = 0;
      coef[r].forEach((v, e) => (cross += v * Sx[r][c][e]));
      coef[c].forEach((v, e) => (cross += v * Sx[c][r][e]));
      pb.subjects.forEach((_, i) => (mm += fittedMean[i][r] * fittedMean[i][c]));
      next[r * q + c] = (S2[r * q + c] - cross + mm) / nS;
    }
  const blockOf = new Set(pb.cholesky.filter(([i, j]) => i !== j).flatMap(([i, j]) => [`${i},${j}`, `${j},${i}`]));
  for (let r = 0; r < q; r++) for (let c = 0; c < q; c++) if (r !== c && !blockOf.has(`${r},${c}`)) next[r * q + c] = 0;
  for (let r = 0; r < q; r++) {
    const floor = it <= st.opt.burn ? 0.95 * omega[r * q + r] : 1e-8;
    if (!(next[r * q + r] >= floor)) next[r * q + r] = floor;
  }
  const nextInv = invert(next, q);
  if (nextInv) {
    st.omega = next;
    st.inv = nextInv;
  }
}

/** M step for σ: the residual-likelihood maximum at the current draws, averaged by the SA step γ. */
function updateSigma(st: SaemState, gamma: number): void {
  const { pb, mus, a, b } = st;
  const resid = pb.subjects.flatMap((s, i) => s.obs.map((o, j) => [o.y - mus[i][j], mus[i][j]] as const));
  let an = a;
  let bn = b;
  if (pb.errorModel === 'additive' && pb.xSigma >= 0)
    an = Math.sqrt(resid.reduce((v, [r]) => v + r * r, 0) / resid.length);
  else if (pb.errorModel === 'proportional' && pb.xSigmaProp >= 0)
    bn = Math.sqrt(resid.reduce((v, [r, m]) => v + (r * r) / (m * m), 0) / resid.length);
  else if (pb.errorModel === 'combined') {
    const obj = (p: number[]) => {
      const aa = pb.xSigma >= 0 ? Math.exp(p[0]) : a;
      const bb = pb.xSigmaProp >= 0 ? Math.exp(p[1]) : b;
      return resid.reduce((v, [r, m]) => {
        const V = aa * aa + bb * bb * m * m;
        return v + (r * r) / V + Math.log(V);
      }, 0);
    };
    const best = nelderMead(obj, [Math.log(Math.max(a, 1e-12)), Math.log(Math.max(b, 1e-12))], 200).x;
    if (pb.xSigma >= 0) an = Math.exp(best[0]);
    if (pb.xSigmaProp >= 0) bn = Math.exp(best[1]);
  }
  st.a += gamma * (an - st.a);
  st.b += gamma * (bn - st.b);
}

/** Ω and σ back into x, −2 log L by importance sampling, then the EBEs, diagnostics and (R) covariance at the estimates. */
function saemResult(st: SaemState, t0: number): PopulationFitResult {
  const { pb, opt, q, x } = st;
  const K = opt.burn + opt.smooth;
  const Lf = cholesky(st.omega, q)!;
  pb.cholesky.forEach(([i, j], k) => (x[pb.xOmega + k] = i === j ? Math.log(Lf[i * q + i]) : Lf[i * q + j]));
  if (pb.xSigma >= 0) x[pb.xSigma] = Math.log(st.a);
  if (pb.xSigmaProp >= 0) x[pb.xSigmaProp] = Math.log(st.b);
  const m2ll = importanceSampling(
    pb,
    x,
    st.chainSum.map((s, i) => ({ sum: s, sq: st.chainSq[i] })),
    Math.max(1, st.chainN * opt.chains),
    opt.importanceSamples,
    opt.seed + 7,
  );
  const best = populationM2ll(
    pb,
    x,
    pb.subjects.map(() => new Float64Array(q)),
  );
  if (!best)
    throw new InputError([{ path: ['population'], message: 'the model cannot be evaluated at the SAEM estimates' }]);
  const cov = pb.request.population.covariance === 'R' ? covarianceFromR(pb, x, best) : null;
  const res = assembleResult(pb, x, best, cov, {
    method: 'saem',
    converged: true,
    reason: `${K} SAEM iterations (${opt.burn} exploratory, ${opt.smooth} smoothing)`,
    iterations: K,
    t0,
    m2ll,
  });
  res.warnings.push(
    'SAEM: −2 log L by importance sampling; standard errors from the R matrix of the FOCE-I objective at the SAEM estimates; EBEs are the conditional modes',
  );
  return res;
}

/** −2 log L by importance sampling: per subject a t₅ proposal from the mean and covariance (× 1.5) of its draws. */
export function importanceSampling(
  pb: PopProblem,
  x: Float64Array,
  chains: { sum: Float64Array; sq: Float64Array }[],
  n: number,
  M: number,
  seed: number,
): number {
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
    for (let r = 0; r < q; r++)
      for (let c = 0; c < q; c++)
        C[r * q + c] = 1.5 * (chains[i].sq[r * q + c] / n - mean[r] * mean[c]) + (r === c ? 1e-10 : 0);
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
      const logT =
        lgamma((nu + q) / 2) -
        lgamma(nu / 2) -
        (q / 2) * Math.log(nu * Math.PI) -
        0.5 * logDetC -
        ((nu + q) / 2) * Math.log(1 + quad(dev, Cinv, q) / nu);
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
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}
