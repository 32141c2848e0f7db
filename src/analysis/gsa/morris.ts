// Morris elementary effects (Morris 1991, Technometrics 33:161; μ* from Campolongo et al. 2007): r random
// one-at-a-time trajectories on a p-level grid of the unit cube with step Δ = p / (2(p − 1)); each
// trajectory moves every input once, giving one elementary effect EEᵢ = (f(x + Δeᵢ) − f(x)) / Δ per input.
// Reported per input: μ (mean EE), μ* (mean |EE|) and σ (standard deviation of EE), in response units per
// unit of the input's range (so inputs with different units compare).
import { mulberry32 } from '../../numerics/random.ts';

export interface MorrisOptions {
  trajectories: number;
  levels: number;
  seed: number;
}
export interface MorrisIndices {
  mu: number[];
  muStar: number[];
  sigma: number[];
  evaluations: number;
  /** Trajectories dropped because an evaluation failed or was not finite. */
  droppedTrajectories: number;
}

export function morrisIndices(
  f: (x: Float64Array) => number,
  d: number,
  opts: MorrisOptions,
  progress?: (done: number, total: number) => void,
): MorrisIndices {
  const p = opts.levels;
  const delta = p / (2 * (p - 1));
  const rnd = mulberry32(opts.seed);
  const ee: number[][] = Array.from({ length: d }, () => []);
  const total = opts.trajectories * (d + 1);
  let done = 0;
  let dropped = 0;
  const safe = (x: Float64Array) => {
    let v: number;
    try {
      v = f(x);
    } catch {
      v = NaN;
    }
    if (progress && ++done % 64 === 0) progress(done, total);
    return v;
  };
  // Starting levels from which +Δ stays on the grid: k/(p−1) with k/(p−1) + Δ ≤ 1.
  const starts = Array.from({ length: p }, (_, k) => k / (p - 1)).filter((v) => v + delta <= 1 + 1e-12);
  for (let t = 0; t < opts.trajectories; t++) {
    const x = new Float64Array(d);
    for (let i = 0; i < d; i++) x[i] = starts[Math.floor(rnd() * starts.length)];
    // direction per input (±Δ), and a random order of the inputs
    const sign = Array.from({ length: d }, () => (rnd() < 0.5 ? 1 : -1));
    for (let i = 0; i < d; i++) if (sign[i] < 0) x[i] += delta; // start high, step down
    const order = Array.from({ length: d }, (_, i) => i);
    for (let i = d - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let fx = safe(x);
    const effects = new Array<number>(d);
    let ok = Number.isFinite(fx);
    for (const i of order) {
      x[i] += sign[i] * delta;
      const fy = safe(x);
      effects[i] = (sign[i] * (fy - fx)) / delta;
      if (!Number.isFinite(fy)) ok = false;
      fx = fy;
    }
    if (!ok) {
      dropped++;
      continue;
    }
    for (let i = 0; i < d; i++) ee[i].push(effects[i]);
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const mu = ee.map(mean);
  const muStar = ee.map((xs) => mean(xs.map(Math.abs)));
  const sigma = ee.map((xs, i) =>
    xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mu[i]) ** 2, 0) / (xs.length - 1)) : NaN,
  );
  return { mu, muStar, sigma, evaluations: total, droppedTrajectories: dropped };
}
