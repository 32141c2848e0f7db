#!/usr/bin/env python3
"""SciPy peer of `npm run bench`: W1-W4 of bench/workloads.ts with solve_ivp
(LSODA, Radau, BDF), hand-written Python right-hand sides, finite-difference Jacobians (as deSolve's
lsoda and CVODE's default), the workload tolerances.  Prints one JSON document on stdout:

  {"tool": "scipy", "version": ..., "results": [{"workload", "case", "method", "medianMs", "ms": [...],
    "rhsEvaluations", "times", "states" | "subjects", ...}]}

RHS evaluations are counted calls of the user's function (finite-difference Jacobian columns included).
bench/run.ts computes the error of every tool against bench/reference/*.json the same way; with
--errors this script prints its own error too.

  /usr/bin/python3 bench/peers/scipy_bench.py [--repeats 3] [--w3-subjects 100] [--workloads w1,w2,w3,w4]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(os.path.dirname(HERE), 'reference')

KP = dict(c=0.02, mu2=0.03, p1=0.1245, g1=2e7, s1=0.0, r2=0.18, b=1e-9, a=1.0, g2=1e5, p2=5.0, g3=1e3, mu3=10.0, s2=0.0)
W2P = dict(KP, kex=0.05, gx=1e5, krev=0.1, dX=0.02, CL=0.22, V1=3.48, Q=0.795, V2=4.06, EC50=0.5)


class Counter:
    n = 0


def kp_rhs(p, cnt):
    c, mu2, p1, g1, s1, r2, b, a, g2, p2, g3, mu3, s2 = (p[k] for k in ('c', 'mu2', 'p1', 'g1', 's1', 'r2', 'b', 'a', 'g2', 'p2', 'g3', 'mu3', 's2'))

    def f(t, y):
        cnt.n += 1
        E, T, IL = y
        return [c * T - mu2 * E + p1 * E * IL / (g1 + IL) + s1,
                r2 * T * (1 - b * T) - a * E * T / (g2 + T),
                p2 * E * T / (g3 + T) - mu3 * IL + s2]
    return f


def w2_rhs(p, cnt):
    c, mu2, p1, g1, s1, r2, b, a, g2, p2, g3, mu3, s2 = (p[k] for k in ('c', 'mu2', 'p1', 'g1', 's1', 'r2', 'b', 'a', 'g2', 'p2', 'g3', 'mu3', 's2'))
    kex, gx, krev, dX, CL, V1, Q, V2, EC50 = (p[k] for k in ('kex', 'gx', 'krev', 'dX', 'CL', 'V1', 'Q', 'V2', 'EC50'))

    def f(t, y):
        cnt.n += 1
        E, X, T, IL, Ac, Ap = y
        occ = (Ac / V1) / (Ac / V1 + EC50)
        exh = kex * E * T / (gx + T) * (1 - occ)
        rev = krev * occ * X
        return [c * T - mu2 * E + p1 * E * IL / (g1 + IL) + s1 - exh + rev,
                exh - rev - dX * X,
                r2 * T * (1 - b * T) - a * E * T / (g2 + T),
                p2 * E * T / (g3 + T) - mu3 * IL + s2,
                -(CL / V1) * Ac - (Q / V1) * Ac + (Q / V2) * Ap,
                (Q / V1) * Ac - (Q / V2) * Ap]
    return f


def rober_rhs(cnt):
    def f(t, y):
        cnt.n += 1
        y1, y2, y3 = y
        return [-0.04 * y1 + 1e4 * y2 * y3, 0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2 * y2, 3e7 * y2 * y2]
    return f


def vdp_rhs(cnt):
    def f(t, y):
        cnt.n += 1
        return [y[1], 1000.0 * (1 - y[0] * y[0]) * y[1] - y[0]]
    return f


def solve_plain(f, y0, times, method, rtol, atol):
    s = solve_ivp(f, (times[0], times[-1]), y0, method=method, rtol=rtol, atol=atol, t_eval=times)
    if not s.success:
        raise RuntimeError(s.message)
    return s.y


def solve_w2(f, y0, days, method, rtol, atol, dose_times, dose_amount, target=4):
    """Piecewise: restart at every dose time with the jumped state; rows at a dose day are post-dose."""
    out = np.zeros((len(y0), len(days)))
    row = {d: i for i, d in enumerate(days)}
    y = np.array(y0, dtype=float)
    doses = set(d for d in dose_times if days[0] <= d <= days[-1])
    bounds = sorted(doses | {days[0], days[-1]})
    for k, ta in enumerate(bounds):
        if ta in doses:
            y[target] += dose_amount
        if k == len(bounds) - 1:
            out[:, row[ta]] = y
            break
        tb = bounds[k + 1]
        te = [d for d in days if ta <= d < tb] + [tb]
        s = solve_ivp(f, (ta, tb), y, method=method, rtol=rtol, atol=atol, t_eval=te)
        if not s.success:
            raise RuntimeError(s.message)
        for j, d in enumerate(te[:-1]):
            out[:, row[d]] = s.y[:, j]
        y = s.y[:, -1].copy()
    return out


DAYS = [float(d) for d in range(0, 366)]
DOSES = [21.0 * k for k in range(18)]


def timed(fn, repeats):
    fn()  # warm-up
    ms = []
    res = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return res, ms


def rel_err(Y, ref_states, names, atol):
    e = 0.0
    for i, s in enumerate(names):
        r = np.asarray(ref_states[s])
        e = max(e, float(np.max(np.abs(np.asarray(Y[i]) - r) / np.maximum(np.abs(r), atol))))
    return e


def main():
    # LSODA's Fortran warnings go to file descriptor 1: keep stdout for the JSON document only.
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)
    ap = argparse.ArgumentParser()
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--w3-subjects', type=int, default=100)
    ap.add_argument('--workloads', default='w1,w2,w3,w4')
    ap.add_argument('--methods', default='LSODA,Radau,BDF')
    ap.add_argument('--w3-methods', default='LSODA')
    ap.add_argument('--errors', action='store_true')
    args = ap.parse_args()
    wl = set(args.workloads.lower().split(','))
    methods = args.methods.split(',')
    results = []

    def run(workload, case, method, fn, names, times=None, extra=None):
        cnt = Counter()
        try:
            (Y, nfev), ms = timed(lambda: fn(method, cnt), args.repeats)
        except Exception as e:  # noqa
            results.append({'workload': workload, 'case': case, 'method': method, 'failed': str(e)[:300]})
            print(f'scipy {case} {method}: failed: {e}', file=sys.stderr)
            return
        r = {'workload': workload, 'case': case, 'method': method, 'medianMs': statistics.median(ms), 'ms': ms,
             'repeats': args.repeats, 'rhsEvaluations': nfev}
        if times is not None:
            r['times'] = times
            r['states'] = {s: [float(v) for v in Y[i]] for i, s in enumerate(names)}
        r.update(extra or {})
        if args.errors and times is not None:
            ref = json.load(open(os.path.join(REF, {'kp98': 'w1', 'checkpoint': 'w2'}.get(case, case) + '.json')))
            r['maxError'] = rel_err(Y, ref['states'], names, ref['benchTolerance']['atol'])
        results.append(r)
        print(f'scipy {case} {method}: {r["medianMs"]:.2f} ms, {nfev} f', file=sys.stderr)

    def counted(solve):
        def fn(method, cnt):
            cnt.n = 0
            Y = solve(method, cnt)
            return Y, cnt.n
        return fn

    if 'w1' in wl:
        times = [float(d) for d in range(0, 1001)]
        for m in methods:
            run('W1', 'kp98', m, counted(lambda m, cnt: solve_plain(kp_rhs(KP, cnt), [1.0, 1e5, 1.0], times, m, 1e-6, 1e-6)),
                ['E', 'T', 'IL'], times)
    if 'w2' in wl:
        for m in methods:
            run('W2', 'checkpoint', m, counted(lambda m, cnt: solve_w2(w2_rhs(W2P, cnt), [1.0, 0, 1e5, 1.0, 0, 0], DAYS, m, 1e-6, 1e-6, DOSES, 200.0)),
                ['E', 'X', 'T', 'IL', 'Ac', 'Ap'], DAYS)
    if 'w3' in wl:
        E = json.load(open(os.path.join(REF, 'w3_etas.json')))
        ref = json.load(open(os.path.join(REF, 'w3_reference.json'))) if os.path.exists(os.path.join(REF, 'w3_reference.json')) else None
        tref = ref['times'] if ref else [float(t) for t in range(0, 365, 28)] + [365.0]
        rows = [DAYS.index(t) for t in tref]
        nsub = args.w3_subjects
        names = ['E', 'X', 'T', 'IL', 'Ac', 'Ap']
        for m in args.w3_methods.split(','):
            cnt = Counter()
            kept = []
            t0 = time.perf_counter()
            failed = None
            try:
                for i in range(nsub):
                    p = dict(W2P)
                    for j, k in enumerate(E['names']):
                        p[k] = W2P[k] * math.exp(E['etas'][i][j])
                    Y = solve_w2(w2_rhs(p, cnt), [1.0, 0, 1e5, 1.0, 0, 0], DAYS, m, 1e-6, 1e-6, DOSES, 200.0)
                    if i < 100:
                        kept.append({s: [float(Y[q][r]) for r in rows] for q, s in enumerate(names)})
            except Exception as e:  # noqa
                failed = str(e)[:300]
            ms = (time.perf_counter() - t0) * 1e3
            r = {'workload': 'W3', 'case': 'population', 'method': m, 'subjects': nsub, 'medianMs': ms, 'ms': [ms], 'repeats': 1,
                 'rhsEvaluations': cnt.n, 'times': tref, 'subjectStates': kept}
            if failed:
                r['failed'] = failed
            results.append(r)
            print(f'scipy W3 {m}: {ms:.0f} ms for {nsub} subjects', file=sys.stderr)
    if 'w4' in wl:
        for tend, case in [(1e5, 'robertson_1e5'), (4e10, 'robertson_4e10')]:
            times = [0.0] + [0.4 * 10 ** k for k in range(0, 40) if 0.4 * 10 ** k < tend] + [tend]
            for m in methods:
                run('W4', case, m, counted(lambda m, cnt: solve_plain(rober_rhs(cnt), [1.0, 0.0, 0.0], times, m, 1e-6, 1e-10)),
                    ['y1', 'y2', 'y3'], times)
        times = [500.0 * k for k in range(7)]
        for m in methods:
            run('W4', 'vanderpol', m, counted(lambda m, cnt: solve_plain(vdp_rhs(cnt), [2.0, 0.0], times, m, 1e-6, 1e-6)),
                ['y1', 'y2'], times)
    with os.fdopen(json_fd, 'w') as out:
        json.dump({'tool': 'scipy', 'version': f'SciPy {scipy.__version__} (Python {sys.version.split()[0]})',
                   'rhs': 'Python functions', 'jacobian': 'finite differences', 'results': results}, out)
        out.write('\n')


if __name__ == '__main__':
    main()
