#!/usr/bin/env python3
"""Independent fits of tests/reference/fit/cases.json with SciPy (solve_ivp + least_squares / minimize),
written without any immunopd code: the logistic tumour-growth-inhibition model by hand,
    V' = r V (1 - V/K) - kKill Cd V,   Cd' = -kel Cd,   V(0) = V0, Cd(0) = 0,
bolus doses into Cd integrated piecewise (restart at each dose), DOP853 at rtol 1e-12.

Least-squares cases (additive error with sigma profiled out, or log-transformed residuals): least_squares
(trf, 3-point Jacobian, ftol = xtol = gtol = 1e-15) on log parameters; covariance s^2 (J^T J)^-1 with
s^2 = SSR/(n - p) and J by central differences at the optimum; standard errors on the natural scale by the
delta method (se = value * se_log).
Maximum-likelihood case (proportional error, sigmaProp estimated): minimize the negative log-likelihood
sum(0.5 ((y - f)/(b f))^2 + log(b f)) with Nelder-Mead then BFGS; standard errors from the expected Fisher
information sum(grad f grad f^T / v + grad v grad v^T / (2 v^2)), v = (b f)^2.

    /usr/bin/python3 tests/reference/fit/scipy_fit.py [--out tests/reference/fit/scipy.json] [--only a,b] [--repeats 1]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares, minimize

HERE = os.path.dirname(os.path.abspath(__file__))


class Model:
    def __init__(self, case):
        self.case = case
        self.fixed = dict(r=0.1, K=1e9, V0=1e6, kKill=0.0, kel=0.1)  # tgi-logistic defaults
        self.fixed.update(case.get('parameters', {}))
        self.names = [k for k in case['estimate'] if k not in ('sigma', 'sigmaProp')]
        self.solves = 0
        rows = case['data']
        self.groups = {}
        for i, r in enumerate(rows):
            self.groups.setdefault(r.get('subject', 'default'), []).append(i)
        self.y = np.array([r['value'] for r in rows], dtype=float)
        self.obs = [r['observable'] for r in rows]
        self.t = np.array([r['time'] for r in rows], dtype=float)
        self.rtol = 1e-12

    def doses(self, subject):
        subj = self.case.get('subjects', {}).get(subject, {})
        ds = subj.get('doses', self.case.get('doses', []))
        out = []
        for d in ds:
            for k in range(d.get('count', 1)):
                out.append((d.get('start', 0) + k * d.get('every', 0), d['amount']))
        return sorted(out)

    def predict(self, theta_log):
        p = dict(self.fixed)
        for k, v in zip(self.names, theta_log):
            p[k] = math.exp(v)
        r, K, kKill, kel = p['r'], p['K'], p['kKill'], p['kel']

        def f(t, y):
            V, C = y
            return [r * V * (1 - V / K) - kKill * C * V, -kel * C]

        pred = np.empty(len(self.y))
        for subject, idx in self.groups.items():
            self.solves += 1
            times = sorted(set(self.t[i] for i in idx))
            tend = max(times)
            doses = [d for d in self.doses(subject) if d[0] <= tend]
            bounds = sorted(set([d[0] for d in doses if d[0] > 0] + [tend]))
            y = np.array([p['V0'], 0.0])
            t0 = 0.0
            vals = {}
            for tb in bounds:
                for (td, amt) in doses:
                    if td == t0:
                        y[1] += amt  # doses at a segment start (values there are post-dose)
                last = tb == tend
                te = [tt for tt in times if t0 <= tt < tb or (last and tt == tb)]
                if tb > t0:
                    sol = solve_ivp(f, (t0, tb), y, method='DOP853', rtol=self.rtol, atol=1e-12, t_eval=sorted(set(te + [tb])))
                    for j, tt in enumerate(sol.t):
                        vals.setdefault(float(tt), sol.y[:, j].copy())
                    y = sol.y[:, -1].copy()
                else:
                    for tt in te:
                        vals[float(tt)] = y.copy()
                t0 = tb
            for (td, amt) in doses:
                if td == t0 and td == tend:
                    y[1] += amt
                    vals[float(td)] = y.copy()
            for i in idx:
                V = vals[float(self.t[i])][0]
                pred[i] = V * 1e-6 if self.obs[i] == 'tumorVolume_mm3' else V
        return pred


def fit_ls(case, model):
    log = case['error'].get('transform') == 'log'
    x0 = np.log([case['estimate'][k]['initial'] for k in model.names])
    y = np.log(model.y) if log else model.y

    def resid(x):
        f = model.predict(x)
        return (np.log(f) if log else f) - y

    t = time.perf_counter()
    sol = least_squares(resid, x0, method='trf', jac='3-point', ftol=1e-15, xtol=1e-15, gtol=1e-15, x_scale='jac', max_nfev=2000)
    ms = (time.perf_counter() - t) * 1e3
    solves = model.solves
    x = sol.x
    r = resid(x)
    n, p = len(r), len(x)
    J = np.empty((n, p))
    for j in range(p):
        h = 1e-5
        e = np.zeros(p)
        e[j] = h
        J[:, j] = (resid(x + e) - resid(x - e)) / (2 * h)
    ssr = float(r @ r)
    s2 = ssr / (n - p)
    cov = s2 * np.linalg.inv(J.T @ J)
    se_log = np.sqrt(np.diag(cov))
    vals = np.exp(x)
    est = {k: {'value': float(v), 'se': float(v * s)} for k, v, s in zip(model.names, vals, se_log)}
    return {'estimates': est, 'ssr': ssr, 'sigmaResidual': math.sqrt(s2), 'odeSolves': solves, 'nfev': int(sol.nfev), 'ms': ms,
            'status': int(sol.status), 'message': sol.message}


def fit_ml_prop(case, model):
    names = model.names + ['sigmaProp']
    x0 = np.log([case['estimate'][k]['initial'] for k in names])
    y = model.y

    def nll(x):
        f = model.predict(x[:-1])
        b = math.exp(x[-1])
        v = (b * f) ** 2
        return float(np.sum(0.5 * (y - f) ** 2 / v + 0.5 * np.log(v) + 0.5 * math.log(2 * math.pi)))

    t = time.perf_counter()
    s1 = minimize(nll, x0, method='Nelder-Mead', options={'xatol': 1e-10, 'fatol': 1e-13, 'maxiter': 20000, 'maxfev': 20000})
    s2 = minimize(nll, s1.x, method='BFGS', options={'gtol': 1e-9})
    x = s2.x if s2.fun <= s1.fun else s1.x
    ms = (time.perf_counter() - t) * 1e3
    solves = model.solves
    p = len(x)
    f = model.predict(x[:-1])
    b = math.exp(x[-1])
    v = (b * f) ** 2
    G = np.zeros((len(y), p))  # d f / d log theta
    for j in range(p - 1):
        h = 1e-5
        e = np.zeros(p - 1)
        e[j] = h
        G[:, j] = (model.predict(x[:-1] + e) - model.predict(x[:-1] - e)) / (2 * h)
    dv = np.zeros((len(y), p))
    dv[:, :p - 1] = (2 * b * b * f)[:, None] * G[:, :p - 1]
    dv[:, p - 1] = 2 * b * b * f * f
    I = (G.T * (1 / v)) @ G + (dv.T * (1 / (2 * v * v))) @ dv
    cov = np.linalg.inv(I)
    se_log = np.sqrt(np.diag(cov))
    vals = np.exp(x)
    est = {k: {'value': float(val), 'se': float(val * s)} for k, val, s in zip(names, vals, se_log)}
    return {'estimates': est, 'objective': nll(x), 'odeSolves': solves, 'ms': ms, 'message': str(s2.message)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cases', default=os.path.join(HERE, 'cases.json'))
    ap.add_argument('--out', default=None)
    ap.add_argument('--only', default=None)
    ap.add_argument('--repeats', type=int, default=1, help='fits per case (median wall time reported in ms, all in msAll)')
    args = ap.parse_args()
    cases = json.load(open(args.cases))['cases']
    out = {'tool': 'scipy', 'version': scipy.__version__, 'numpy': np.__version__, 'cases': {}}
    for name, case in cases.items():
        if args.only and name not in args.only.split(','):
            continue
        runs = []
        for _ in range(max(1, args.repeats)):
            model = Model(case)
            runs.append(fit_ml_prop(case, model) if case['error']['model'] == 'proportional' else fit_ls(case, model))
        res = runs[0]
        all_ms = [r['ms'] for r in runs]
        res['ms'] = sorted(all_ms)[len(all_ms) // 2]
        res['msAll'] = all_ms
        out['cases'][name] = res
    text = json.dumps(out, indent=1)
    if args.out:
        open(args.out, 'w').write(text + '\n')
    print(text)


if __name__ == '__main__':
    main()
