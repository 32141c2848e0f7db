// Direct tests of the shared numerics (src/numerics): linear algebra against hand-computed or closed-form
// answers, Nelder–Mead on Rosenbrock's function, Levenberg–Marquardt on problems with known minimizers.
import { describe, expect, it } from 'vitest';
import { choleskySolve, symmetricEigen, invertInformation, normalQuantile } from '../src/numerics/linalg.ts';
import { nelderMead } from '../src/numerics/nelder-mead.ts';
import { levenbergMarquardt, DEFAULT_LM, type LmEvaluation } from '../src/numerics/lm.ts';

describe('linalg', () => {
  it('choleskySolve solves an SPD system and refuses an indefinite one', () => {
    // A = [[4,2,0],[2,5,1],[0,1,3]], x = [1,-2,3] → b = A x
    const A = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const x = choleskySolve(A, Float64Array.from([0, -5, 7]), 3)!;
    expect(Array.from(x).map((v) => +v.toFixed(12))).toEqual([1, -2, 3]);
    expect(choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toBeNull();
  });

  it('symmetricEigen returns ascending eigenvalues and orthonormal eigenvectors', () => {
    // [[2,1],[1,2]]: eigenvalues 1 and 3, vectors (1,-1)/√2 and (1,1)/√2.
    const { values, vectors } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(values[0]).toBeCloseTo(1, 13);
    expect(values[1]).toBeCloseTo(3, 13);
    expect(Math.abs(vectors[0] * vectors[1] + vectors[2] * vectors[3])).toBeLessThan(1e-13); // columns orthogonal
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 13);
    // A v = λ v for the first column
    const v = [vectors[0], vectors[2]];
    expect(2 * v[0] + v[1]).toBeCloseTo(values[0] * v[0], 13);
  });

  it('invertInformation inverts a well-conditioned matrix and marks a null direction as infinite variance', () => {
    const H = Float64Array.from([4, 2, 2, 3]); // inverse [[3,-2],[-2,4]]/8
    const r = invertInformation(H, 2);
    expect(r.singular).toBe(false);
    expect(Array.from(r.inverse).map((v) => +v.toFixed(12))).toEqual([0.375, -0.25, -0.25, 0.5]);
    // Two parameters that enter only through their sum: rank 1, both variances unbounded; a third is fine.
    const S = Float64Array.from([1, 1, 0, 1, 1, 0, 0, 0, 2]);
    const s = invertInformation(S, 3);
    expect(s.singular).toBe(true);
    expect(s.inverse[0]).toBe(Infinity);
    expect(s.inverse[4]).toBe(Infinity);
    expect(s.inverse[8]).toBeCloseTo(0.5, 12);
  });

  it('normalQuantile matches the standard normal quantiles (R qnorm) to 1e-8', () => {
    for (const [p, q] of [
      [0.975, 1.959963984540054],
      [0.5, 0],
      [0.001, -3.090232306167813],
      [0.9999, 3.719016485455709],
    ]) {
      expect(Math.abs(normalQuantile(p) - q)).toBeLessThan(1e-8);
    }
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });
});

describe('nelderMead', () => {
  const rosen = (x: number[]) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
  it('finds the minimum of Rosenbrock’s function from (-1.2, 1) within 1e-4', () => {
    const r = nelderMead(rosen, [-1.2, 1], 2000, 0.5);
    expect(Math.abs(r.x[0] - 1)).toBeLessThan(1e-4);
    expect(Math.abs(r.x[1] - 1)).toBeLessThan(1e-4);
    expect(r.evaluations).toBeLessThanOrEqual(2000);
  });
  it('never exceeds maxEval', () => {
    let calls = 0;
    const r = nelderMead((x) => (calls++, rosen(x)), [-1.2, 1], 37, 0.5);
    expect(calls).toBe(r.evaluations);
    expect(calls).toBeLessThanOrEqual(37);
  });
  it('in box mode, a starting vertex near the upper edge steps down into [0, 1]', () => {
    const seen: number[][] = [];
    nelderMead((x) => (seen.push([...x]), (x[0] - 0.5) ** 2), [0.9], 2, 0.25, true);
    expect(seen[1][0]).toBeCloseTo(0.65, 14);
    const free: number[][] = [];
    nelderMead((x) => (free.push([...x]), (x[0] - 0.5) ** 2), [0.9], 2, 0.25, false);
    expect(free[1][0]).toBeCloseTo(1.15, 14);
  });
});

describe('levenbergMarquardt', () => {
  // Least squares y = a exp(-b t): phi = ½ Σ r², g = Jᵀ r, H = JᵀJ with r = model − y.
  const t = [0, 0.5, 1, 2, 3, 5, 8];
  const ls =
    (y: number[]) =>
    (p: Float64Array): LmEvaluation => {
      const [a, b] = p;
      const g = new Float64Array(2),
        H = new Float64Array(4);
      let phi = 0,
        r2 = 0;
      t.forEach((ti, i) => {
        const e = Math.exp(-b * ti);
        const r = a * e - y[i];
        const J = [e, -a * ti * e];
        phi += 0.5 * r * r;
        r2 += r * r;
        for (let j = 0; j < 2; j++) {
          g[j] += J[j] * r;
          for (let k = 0; k < 2; k++) H[j * 2 + k] += J[j] * J[k];
        }
      });
      return { phi, g, H, scale2: r2 };
    };
  const exact = t.map((ti) => 3 * Math.exp(-0.7 * ti));

  it('recovers the parameters of noise-free data to 1e-8 and says why it stopped', () => {
    const r = levenbergMarquardt(
      ls(exact),
      Float64Array.from([1, 0.1]),
      Float64Array.from([0, 0]),
      Float64Array.from([Infinity, Infinity]),
      DEFAULT_LM,
    );
    expect(r.converged).toBe(true);
    expect(Math.abs(r.x[0] - 3)).toBeLessThan(1e-8);
    expect(Math.abs(r.x[1] - 0.7)).toBeLessThan(1e-8);
    expect(r.atBound).toEqual([false, false]);
    expect(typeof r.message).toBe('string');
  });

  it('holds a parameter at its bound when the unconstrained minimum lies outside the box', () => {
    const r = levenbergMarquardt(
      ls(exact),
      Float64Array.from([1, 0.1]),
      Float64Array.from([0, 0]),
      Float64Array.from([2, Infinity]),
      DEFAULT_LM,
    );
    expect(r.x[0]).toBe(2);
    expect(r.atBound[0]).toBe(true);
    // b is then the 1-D least-squares optimum with a = 2 (golden-section search to 1e-10 here).
    const phiB = (b: number) => ls(exact)(Float64Array.from([2, b])).phi;
    let lo = 0,
      hi = 2;
    const gr = (Math.sqrt(5) - 1) / 2;
    while (hi - lo > 1e-10) {
      const m1 = hi - gr * (hi - lo),
        m2 = lo + gr * (hi - lo);
      if (phiB(m1) < phiB(m2)) hi = m2;
      else lo = m1;
    }
    expect(Math.abs(r.x[1] - (lo + hi) / 2)).toBeLessThan(1e-5);
    // and pushing a further up would lower phi (the bound is really active): the gradient points outward.
    expect(r.evaluation.g[0]).toBeLessThan(0);
  });

  it('refuses a start where the objective is not finite', () => {
    const bad = (): LmEvaluation => ({ phi: NaN, g: new Float64Array(1), H: new Float64Array(1), scale2: 1 });
    expect(() =>
      levenbergMarquardt(
        bad,
        Float64Array.from([1]),
        Float64Array.from([-Infinity]),
        Float64Array.from([Infinity]),
        DEFAULT_LM,
      ),
    ).toThrow();
  });
});
