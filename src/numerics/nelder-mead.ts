// Nelder-Mead simplex search (shared by the schedule optimizer and the fitter's error-model start).
/**
 * Nelder-Mead (standard coefficients) from x0 with an initial simplex of `size` per coordinate, at most
 * maxEval evaluations. `box`: the search lives in the unit box [0, 1]^n (the optimizer's normalized
 * choices), so an initial vertex steps down instead of up when x + size would leave it.
 */
export function nelderMead(
  f: (x: number[]) => number,
  x0: number[],
  maxEval: number,
  size = 0.25,
  box = false,
): { x: number[]; f: number; evaluations: number } {
  const n = x0.length;
  let evals = 0;
  const F = (x: number[]) => {
    evals++;
    return f(x);
  };
  const simplex: { x: number[]; f: number }[] = [{ x: [...x0], f: F(x0) }];
  for (let i = 0; i < n && evals < maxEval; i++) {
    const x = [...x0];
    x[i] = x[i] + (!box || x[i] + size <= 1 ? size : -size);
    simplex.push({ x, f: F(x) });
  }
  while (evals < maxEval && simplex.length === n + 1) {
    simplex.sort((a, b) => a.f - b.f);
    const best = simplex[0];
    const worst = simplex[n];
    if (
      Math.abs(worst.f - best.f) <= 1e-10 * (Math.abs(best.f) + 1e-12) &&
      Math.max(...simplex.map((s) => Math.max(...s.x.map((v, i) => Math.abs(v - best.x[i]))))) < 1e-6
    )
      break;
    const c = new Array(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) c[i] += simplex[k].x[i] / n;
    const along = (t: number) => c.map((ci, i) => ci + t * (worst.x[i] - ci));
    const xr = along(-1);
    const fr = F(xr);
    if (fr < best.f) {
      const xe = along(-2);
      const fe = evals < maxEval ? F(xe) : Infinity;
      simplex[n] = fe < fr ? { x: xe, f: fe } : { x: xr, f: fr };
    } else if (fr < simplex[n - 1].f) {
      simplex[n] = { x: xr, f: fr };
    } else {
      const xc = fr < worst.f ? along(-0.5) : along(0.5);
      const fc = evals < maxEval ? F(xc) : Infinity;
      if (fc < Math.min(fr, worst.f)) simplex[n] = { x: xc, f: fc };
      else {
        for (let k = 1; k <= n && evals < maxEval; k++) {
          const x = simplex[k].x.map((v, i) => best.x[i] + 0.5 * (v - best.x[i]));
          simplex[k] = { x, f: F(x) };
        }
      }
    }
  }
  simplex.sort((a, b) => a.f - b.f);
  return { x: simplex[0].x, f: simplex[0].f, evaluations: evals };
}
