// The yardstick for "generated code costs nothing" (the compiled models must cost nothing over hand-written code): a plain, hand-written Dormand-Prince 5(4)
// with Hairer's dense output and step control, and hand-written right-hand sides for W1 (Kirschner-Panetta)
// and W2 (checkpoint, 18 doses, restarted at each dose). No model compiler, no orchestrator, no options:
// what a careful programmer would write for one model. Run in the same process as immunopd's solves.

type F = (t: number, y: Float64Array, dy: Float64Array) => void;

const c2 = 1 / 5,
  c3 = 3 / 10,
  c4 = 4 / 5,
  c5 = 8 / 9;
const a21 = 1 / 5;
const a31 = 3 / 40,
  a32 = 9 / 40;
const a41 = 44 / 45,
  a42 = -56 / 15,
  a43 = 32 / 9;
const a51 = 19372 / 6561,
  a52 = -25360 / 2187,
  a53 = 64448 / 6561,
  a54 = -212 / 729;
const a61 = 9017 / 3168,
  a62 = -355 / 33,
  a63 = 46732 / 5247,
  a64 = 49 / 176,
  a65 = -5103 / 18656;
const a71 = 35 / 384,
  a73 = 500 / 1113,
  a74 = 125 / 192,
  a75 = -2187 / 6784,
  a76 = 11 / 84;
const e1 = 71 / 57600,
  e3 = -71 / 16695,
  e4 = 71 / 1920,
  e5 = -17253 / 339200,
  e6 = 22 / 525,
  e7 = -1 / 40;
const d1 = -12715105075 / 11282082432,
  d3 = 87487479700 / 32700410799,
  d4 = -10690763975 / 1880347072;
const d5 = 701980252875 / 199316789632,
  d6 = -1453857185 / 822651844,
  d7 = 69997945 / 29380423;

/** Integrate y' = f from t0 to t1, writing y at each output time in [t0, t1] (row-major) from index k0. */
export function dopri5Segment(
  f: F,
  t0: number,
  y0: Float64Array,
  t1: number,
  rtol: number,
  atol: number,
  outT: Float64Array,
  out: Float64Array,
  k0: number,
  counters: { nfev: number },
): number {
  const n = y0.length;
  const y = Float64Array.from(y0),
    y1 = new Float64Array(n),
    ys = new Float64Array(n);
  const k1 = new Float64Array(n),
    k2 = new Float64Array(n),
    k3 = new Float64Array(n),
    k4 = new Float64Array(n);
  const k5 = new Float64Array(n),
    k6 = new Float64Array(n),
    k7 = new Float64Array(n);
  const r1 = new Float64Array(n),
    r2 = new Float64Array(n),
    r3 = new Float64Array(n),
    r4 = new Float64Array(n),
    r5 = new Float64Array(n);
  let t = t0;
  let k = k0;
  while (k < outT.length && outT[k] <= t0) {
    if (outT[k] === t0) out.set(y, k * n);
    k++;
  }
  f(t, y, k1);
  counters.nfev++;
  // Initial step (Hairer's HINIT, simplified).
  let dnf = 0,
    dny = 0;
  for (let i = 0; i < n; i++) {
    const sk = atol + rtol * Math.abs(y[i]);
    dnf += (k1[i] / sk) ** 2;
    dny += (y[i] / sk) ** 2;
  }
  let h = dnf <= 1e-10 || dny <= 1e-10 ? 1e-6 : Math.sqrt(dny / dnf) * 0.01;
  h = Math.min(h, t1 - t0);
  let errOld = 1e-4;
  while (t < t1) {
    if (t + h > t1) h = t1 - t;
    for (let i = 0; i < n; i++) ys[i] = y[i] + h * a21 * k1[i];
    f(t + c2 * h, ys, k2);
    for (let i = 0; i < n; i++) ys[i] = y[i] + h * (a31 * k1[i] + a32 * k2[i]);
    f(t + c3 * h, ys, k3);
    for (let i = 0; i < n; i++) ys[i] = y[i] + h * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]);
    f(t + c4 * h, ys, k4);
    for (let i = 0; i < n; i++) ys[i] = y[i] + h * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]);
    f(t + c5 * h, ys, k5);
    for (let i = 0; i < n; i++)
      ys[i] = y[i] + h * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i]);
    f(t + h, ys, k6);
    for (let i = 0; i < n; i++)
      y1[i] = y[i] + h * (a71 * k1[i] + a73 * k3[i] + a74 * k4[i] + a75 * k5[i] + a76 * k6[i]);
    f(t + h, y1, k7);
    counters.nfev += 6;
    let err = 0;
    for (let i = 0; i < n; i++) {
      const sk = atol + rtol * Math.max(Math.abs(y[i]), Math.abs(y1[i]));
      const e = h * (e1 * k1[i] + e3 * k3[i] + e4 * k4[i] + e5 * k5[i] + e6 * k6[i] + e7 * k7[i]);
      err += (e / sk) ** 2;
    }
    err = Math.sqrt(err / n);
    if (err <= 1) {
      const tn = t + h;
      if (k < outT.length && outT[k] <= tn) {
        for (let i = 0; i < n; i++) {
          const dy = y1[i] - y[i],
            bspl = h * k1[i] - dy;
          r1[i] = y[i];
          r2[i] = dy;
          r3[i] = bspl;
          r4[i] = dy - h * k7[i] - bspl;
          r5[i] = h * (d1 * k1[i] + d3 * k3[i] + d4 * k4[i] + d5 * k5[i] + d6 * k6[i] + d7 * k7[i]);
        }
        while (k < outT.length && outT[k] <= tn) {
          const th = (outT[k] - t) / h,
            th1 = 1 - th;
          for (let i = 0; i < n; i++)
            out[k * n + i] = r1[i] + th * (r2[i] + th1 * (r3[i] + th * (r4[i] + th1 * r5[i])));
          k++;
        }
      }
      t = tn;
      y.set(y1);
      k1.set(k7);
      const fac = Math.min(10, Math.max(0.2, 0.9 * err ** -0.17 * errOld ** 0.04));
      errOld = Math.max(err, 1e-4);
      h *= fac;
    } else {
      h *= Math.max(0.2, 0.9 * err ** -0.2);
    }
  }
  y0.set(y);
  return k;
}

const P = {
  c: 0.02,
  mu2: 0.03,
  p1: 0.1245,
  g1: 2e7,
  s1: 0,
  r2: 0.18,
  b: 1e-9,
  a: 1,
  g2: 1e5,
  p2: 5,
  g3: 1e3,
  mu3: 10,
  s2: 0,
};

export const kpRhs: F = (_t, y, dy) => {
  const E = y[0],
    T = y[1],
    IL = y[2];
  dy[0] = P.c * T - P.mu2 * E + (P.p1 * E * IL) / (P.g1 + IL) + P.s1;
  dy[1] = P.r2 * T * (1 - P.b * T) - (P.a * E * T) / (P.g2 + T);
  dy[2] = (P.p2 * E * T) / (P.g3 + T) - P.mu3 * IL + P.s2;
};

const W = { kex: 0.05, gx: 1e5, krev: 0.1, dX: 0.02, CL: 0.22, V1: 3.48, Q: 0.795, V2: 4.06, EC50: 0.5 };

export const w2Rhs: F = (_t, y, dy) => {
  const E = y[0],
    X = y[1],
    T = y[2],
    IL = y[3],
    Ac = y[4],
    Ap = y[5];
  const occ = Ac / W.V1 / (Ac / W.V1 + W.EC50);
  const exh = ((W.kex * E * T) / (W.gx + T)) * (1 - occ);
  const rev = W.krev * occ * X;
  dy[0] = P.c * T - P.mu2 * E + (P.p1 * E * IL) / (P.g1 + IL) + P.s1 - exh + rev;
  dy[1] = exh - rev - W.dX * X;
  dy[2] = P.r2 * T * (1 - P.b * T) - (P.a * E * T) / (P.g2 + T);
  dy[3] = (P.p2 * E * T) / (P.g3 + T) - P.mu3 * IL + P.s2;
  dy[4] = -(W.CL / W.V1) * Ac - (W.Q / W.V1) * Ac + (W.Q / W.V2) * Ap;
  dy[5] = (W.Q / W.V1) * Ac - (W.Q / W.V2) * Ap;
};

/** W1: KP98 on [0, 1000], daily output, rtol = atol = 1e-6. */
export function handW1(): { y: Float64Array; nfev: number } {
  const outT = Float64Array.from({ length: 1001 }, (_, i) => i);
  const out = new Float64Array(1001 * 3);
  const c = { nfev: 0 };
  dopri5Segment(kpRhs, 0, Float64Array.of(1, 1e5, 1), 1000, 1e-6, 1e-6, outT, out, 0, c);
  return { y: out, nfev: c.nfev };
}

/** W2: 6 states, 200 mg into Ac at 0, 21, ..., 357, restarted at each dose; daily output on [0, 365]. */
export function handW2(): { y: Float64Array; nfev: number } {
  const outT = Float64Array.from({ length: 366 }, (_, i) => i);
  const out = new Float64Array(366 * 6);
  const c = { nfev: 0 };
  const y = Float64Array.of(1, 0, 1e5, 1, 0, 0);
  let k = 0;
  for (let d = 0; d < 18; d++) {
    const t0 = 21 * d;
    const t1 = d < 17 ? 21 * (d + 1) : 365;
    y[4] += 200;
    // Output at the dose time is post-dose: written by the segment that starts there.
    k = dopri5Segment(w2Rhs, t0, y, t1, 1e-6, 1e-6, outT, out, k, c);
    if (d < 17) k = Math.min(k, t1); // the row at the next dose time is rewritten post-dose
  }
  return { y: out, nfev: c.nfev };
}
