// Space-filling designs for multistart fits and schedule search.
import { mulberry32 } from './random.ts';

/** Seeded Latin hypercube: `count` points in [0,1)^dim, one per stratum in every dimension. */
export function latinHypercube(count: number, dim: number, seed: number): number[][] {
  const rnd = mulberry32(seed);
  const pts = Array.from({ length: count }, () => new Array<number>(dim));
  for (let d = 0; d < dim; d++) {
    const perm = Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let k = 0; k < count; k++) pts[k][d] = (perm[k] + rnd()) / count;
  }
  return pts;
}
