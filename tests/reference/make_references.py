#!/usr/bin/env python3
"""Independent high-accuracy reference solutions for immunopd's tests and benchmark.

Run from the repository root (dev machine only; CI only reads the JSON this writes):

    /usr/bin/python3 tests/reference/make_references.py            # all fixtures + bench references
    /usr/bin/python3 tests/reference/make_references.py --quick    # skip the W3 population reference

Needs Debian's python3-scipy (tested with SciPy 1.10, NumPy 1.24).

How the numbers are made
- Every model is written once below as a Contract 1, docs/architecture.md model object (mathjs-compatible
  expression strings using only + - * / and parentheses).  The Python right-hand side is generated
  from those same strings, so the JSON equations are exactly what was integrated.
- Each case is solved twice with two unrelated methods: DOP853 (explicit RK 8(5,3)) at rtol 1e-13 and
  Radau IIA (implicit, order 5) at rtol 1e-12, and the largest relative disagreement is recorded in
  the JSON (`crossCheck.maxRelDiff`).  The DOP853 values are the ones stored.
- Kirschner-Panetta is integrated in log variables (ln E, ln T, ln IL): the tumor passes through
  1e-4 cells and below, where any absolute tolerance swamps it.  The checkpoint scenario (W2) is
  solved in plain variables with a purely relative tolerance (atol 1e-30) by DOP853 and in hybrid
  log variables by Radau.
- Doses are applied piecewise: the integration stops at each dose time, the state jumps, the solver
  restarts.  The integration also restarts at every output time (no interpolation), so stored values
  are step end points, not dense-output values.  A row at a dose time holds the post-dose state.
- Numbers published in the papers (K7, K7b, K7c, K8, K9, KP4, KP5, the KP limit-cycle table, the
  ACI / IL-2 checks, P2) are checked and printed, and stored under `literatureChecks`.
"""
import argparse
import warnings
import datetime
import json
import math
import os
import platform
import sys
import time as _time

import numpy as np
import scipy
from scipy.integrate import solve_ivp
from scipy.optimize import fsolve

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BENCH_REF = os.path.join(REPO, 'bench', 'reference')
COMMAND = '/usr/bin/python3 tests/reference/make_references.py'
SOFTWARE = {'python': platform.python_version(), 'scipy': scipy.__version__, 'numpy': np.__version__}

RTOL_PRIMARY = 1e-13
RTOL_CHECK = 1e-12

# --------------------------------------------------------------------------------------------------
# Models (Contract 1, docs/architecture.md objects)
# --------------------------------------------------------------------------------------------------

def P(value, unit='', description=''):
    d = {'value': value}
    if unit:
        d['unit'] = unit
    if description:
        d['description'] = description
    return d


def S(initial, unit='', description=''):
    d = {'initial': initial}
    if unit:
        d['unit'] = unit
    if description:
        d['description'] = description
    return d


KP98 = {
    'id': 'kp98-reference',
    'title': 'Kirschner-Panetta 1998: effectors, tumor, IL-2 (reference copy)',
    'reference': 'Kirschner D, Panetta JC. J Math Biol 1998;37:235-252',
    'timeUnit': 'day',
    'parameters': {
        'c': P(0.02, '1/day', 'antigenicity'), 'mu2': P(0.03, '1/day'), 'p1': P(0.1245, '1/day'),
        'g1': P(2e7), 's1': P(0.0, 'cells/day', 'ACI influx'), 'r2': P(0.18, '1/day'), 'b': P(1e-9, '1/cell'),
        'a': P(1.0, '1/day'), 'g2': P(1e5, 'cells'), 'p2': P(5.0, '1/day'), 'g3': P(1e3, 'cells'),
        'mu3': P(10.0, '1/day'), 's2': P(0.0, 'per day', 'IL-2 influx'),
    },
    'states': {'E': S(1.0, 'cells'), 'T': S(1e5, 'cells'), 'IL': S(1.0)},
    'odes': {
        'E': 'c*T - mu2*E + p1*E*IL/(g1 + IL) + s1',
        'T': 'r2*T*(1 - b*T) - a*E*T/(g2 + T)',
        'IL': 'p2*E*T/(g3 + T) - mu3*IL + s2',
    },
}

KUZ94 = {
    'id': 'kuznetsov94-reference',
    'title': 'Kuznetsov et al. 1994 dimensional effector-tumor model (reference copy)',
    'reference': 'Kuznetsov VA et al. Bull Math Biol 1994;56:295-321; BIOMD0000000762',
    'timeUnit': 'day',
    'parameters': {
        's': P(1.3e4, 'cells/day'), 'p': P(0.1245, '1/day'), 'g': P(2.019e7, 'cells'), 'm': P(3.422e-10, '1/(cell*day)'),
        'd': P(0.0412, '1/day'), 'a': P(0.18, '1/day'), 'b': P(2.0e-9, '1/cell'), 'n': P(1.101e-7, '1/(cell*day)'),
    },
    'states': {'E': S(3.2e5, 'cells'), 'T': S(5.0e6, 'cells')},
    'odes': {
        'E': 's + p*E*T/(g + T) - m*E*T - d*E',
        'T': 'a*T*(1 - b*T) - n*E*T',
    },
}

KUZ94_ND = {
    'id': 'kuznetsov94-nondim-reference',
    'title': 'Kuznetsov 1994 nondimensional form (for the K9 cross-check)',
    'timeUnit': 'tau',
    'parameters': {k: P(0.0) for k in ['sigma', 'rho', 'eta', 'mu', 'delta', 'alpha', 'beta']},
    'states': {'x': S(0.32), 'y': S(5.0)},
    'odes': {
        'x': 'sigma + rho*x*y/(eta + y) - mu*x*y - delta*x',
        'y': 'alpha*y*(1 - beta*y) - x*y',
    },
}

W2 = {
    'id': 'checkpoint-w2',
    'title': 'W2 checkpoint model: KP98 with exhaustion and two-compartment anti-PD-1 PK',
    'reference': 'bench/workloads.ts W2',
    'timeUnit': 'day',
    'parameters': {
        'c': P(0.02), 'mu2': P(0.03), 'p1': P(0.1245), 'g1': P(2e7), 's1': P(0.0), 'r2': P(0.18), 'b': P(1e-9),
        'a': P(1.0), 'g2': P(1e5), 'p2': P(5.0), 'g3': P(1e3), 'mu3': P(10.0), 's2': P(0.0),
        'kex': P(0.05), 'gx': P(1e5), 'krev': P(0.1), 'dX': P(0.02),
        'CL': P(0.22, 'L/day'), 'V1': P(3.48, 'L'), 'Q': P(0.795, 'L/day'), 'V2': P(4.06, 'L'), 'EC50': P(0.5, 'mg/L'),
    },
    'states': {'E': S(1.0), 'X': S(0.0), 'T': S(1e5), 'IL': S(1.0), 'Ac': S(0.0, 'mg'), 'Ap': S(0.0, 'mg')},
    'assignments': {
        'occ': '(Ac/V1)/(Ac/V1 + EC50)',
        'exh': 'kex*E*T/(gx + T)*(1 - occ)',
        'rev': 'krev*occ*X',
    },
    'odes': {
        'E': 'c*T - mu2*E + p1*E*IL/(g1 + IL) + s1 - exh + rev',
        'X': 'exh - rev - dX*X',
        'T': 'r2*T*(1 - b*T) - a*E*T/(g2 + T)',
        'IL': 'p2*E*T/(g3 + T) - mu3*IL + s2',
        'Ac': '-(CL/V1)*Ac - (Q/V1)*Ac + (Q/V2)*Ap',
        'Ap': '(Q/V1)*Ac - (Q/V2)*Ap',
    },
}
W2_DOSES = [{'target': 'Ac', 'amount': 200, 'start': 0, 'every': 21, 'count': 18}]

PK1 = {
    'id': 'pk1-reference',
    'title': 'One-compartment PK, first-order elimination',
    'timeUnit': 'day',
    'parameters': {'CL': P(10.0, 'L/day'), 'V': P(50.0, 'L')},
    'states': {'A': S(0.0, 'mg')},
    'odes': {'A': '-(CL/V)*A'},
    'outputs': {'C': 'A/V'},
}
PK1_DOSES = [
    {'target': 'A', 'amount': 100, 'start': 0, 'every': 7, 'count': 4},
    {'target': 'A', 'amount': 200, 'duration': 2, 'start': 13, 'every': 14, 'count': 2},
]

ROBER = {
    'id': 'robertson', 'title': 'Robertson chemical kinetics (W4)', 'timeUnit': 's',
    'parameters': {'k1': P(0.04), 'k2': P(3e7), 'k3': P(1e4)},
    'states': {'y1': S(1.0), 'y2': S(0.0), 'y3': S(0.0)},
    'odes': {'y1': '-k1*y1 + k3*y2*y3', 'y2': 'k1*y1 - k3*y2*y3 - k2*y2*y2', 'y3': 'k2*y2*y2'},
}
VDP = {
    'id': 'vanderpol', 'title': 'Van der Pol, mu = 1000 (W4)', 'timeUnit': 's',
    'parameters': {'mu': P(1000.0)},
    'states': {'y1': S(2.0), 'y2': S(0.0)},
    'odes': {'y1': 'y2', 'y2': 'mu*(1 - y1*y1)*y2 - y1'},
}


# --------------------------------------------------------------------------------------------------
# RHS generation from the model object
# --------------------------------------------------------------------------------------------------

def param_values(model, overrides=None):
    p = {k: float(v['value']) for k, v in model['parameters'].items()}
    for k, v in (overrides or {}).items():
        assert k in p, k
        p[k] = float(v)
    return p


def make_rhs(model, params, log_states=()):
    """RHS f(t, u) generated from the model's expression strings.  States named in log_states are
    integrated as u = ln(y) (du/dt = f/y)."""
    names = list(model['states'])
    lines = ['def _rhs(t, u):']
    for k, v in params.items():
        lines.append(f'    {k} = {v!r}')
    for i, s in enumerate(names):
        lines.append(f'    {s} = exp(u[{i}])' if s in log_states else f'    {s} = u[{i}]')
    for a, e in (model.get('assignments') or {}).items():
        lines.append(f'    {a} = {e}')
    outs = []
    for s in names:
        e = model['odes'][s]
        outs.append(f'({e})/{s}' if s in log_states else f'({e})')
    lines.append('    return [' + ', '.join(outs) + ']')
    env = {'exp': math.exp}
    exec('\n'.join(lines), env)
    return env['_rhs']


def initial_vector(model, initial=None):
    y = {k: float(v['initial']) for k, v in model['states'].items()}
    y.update({k: float(v) for k, v in (initial or {}).items()})
    return [y[k] for k in model['states']]


def expand_doses(doses):
    """Contract 2 doses → list of (time, target, amount, duration or None)."""
    ev = []
    for d in doses:
        for j in range(d.get('count', 1)):
            ev.append((d.get('start', 0) + j * d.get('every', 0), d['target'], d['amount'], d.get('duration')))
    return sorted(ev, key=lambda e: e[0])


class Solution:
    def __init__(self, times, Y, nfev):
        self.times = times
        self.Y = Y        # shape (n_states, n_times), in natural (non-log) variables
        self.nfev = nfev


def solve_case(model, params, y0, times, doses=(), method='DOP853', rtol=RTOL_PRIMARY, atol=1e-30,
               log_states=(), t0=None):
    """Piecewise integration: restarts at every bolus time, infusion start/stop and output time.
    Infusions are added as a constant rate on the target state while running."""
    names = list(model['states'])
    idx = {s: i for i, s in enumerate(names)}
    islog = np.array([s in log_states for s in names])
    base = make_rhs(model, params, log_states)
    times = [float(t) for t in times]
    t0 = times[0] if t0 is None else t0
    boluses = {}
    infusions = []  # (start, stop, index, rate)
    for (td, target, amount, duration) in expand_doses(doses):
        if duration:
            infusions.append((td, td + duration, idx[target], amount / duration))
        else:
            boluses[td] = boluses.get(td, []) + [(idx[target], amount)]
    breaks = set(times) | set(boluses) | {s for s, _, _, _ in infusions} | {e for _, e, _, _ in infusions}
    breaks = sorted(b for b in breaks if t0 <= b <= times[-1])
    y = np.array(y0, dtype=float)
    out = np.zeros((len(names), len(times)))
    want = {t: k for k, t in enumerate(times)}
    nfev = 0
    t = t0
    for bi, tb in enumerate(breaks):
        if tb > t:
            active = [(i, r) for (s, e, i, r) in infusions if s <= t and tb <= e]

            def fun(tt, u, active=active):
                du = base(tt, u)
                for (i, r) in active:
                    du[i] += (r / math.exp(u[i])) if islog[i] else r
                return du

            u = np.where(islog, np.log(np.where(islog, y, 1.0)), y)
            kw = dict(method=method, rtol=rtol, atol=atol)
            sol = solve_ivp(fun, (t, tb), u, **kw)
            if not sol.success:
                raise RuntimeError(f'{model["id"]}: {method} failed at t={sol.t[-1]}: {sol.message}')
            nfev += sol.nfev
            u = sol.y[:, -1]
            y = np.where(islog, np.exp(np.where(islog, u, 0.0)), u)
            t = tb
        for (i, amt) in boluses.get(tb, []):
            y[i] += amt
        if tb in want:
            out[:, want[tb]] = y
    return Solution(times, out, nfev)


def max_rel_diff(A, B, floor=0.0):
    A = np.asarray(A)
    B = np.asarray(B)
    return float(np.max(np.abs(A - B) / np.maximum(np.maximum(np.abs(A), np.abs(B)), floor + 1e-300)))


def atol_vector(model, log_states, log_atol, lin_atol):
    return np.array([log_atol if s in log_states else lin_atol for s in model['states']])


def cross_checked(model, params, y0, times, doses=(), log_primary=(), log_check=(), floor=0.0, label='',
                  rtol_primary=RTOL_PRIMARY, rtol_check=RTOL_CHECK, check_method='Radau'):
    t_start = _time.time()
    a = solve_case(model, params, y0, times, doses, 'DOP853', rtol_primary,
                   atol_vector(model, log_primary, rtol_primary, 1e-30), log_primary)
    lin_c = 1e-20 if check_method == 'Radau' else 1e-30
    b = solve_case(model, params, y0, times, doses, check_method, rtol_check,
                   atol_vector(model, log_check, rtol_check, lin_c), log_check)
    d = max_rel_diff(a.Y, b.Y, floor)
    dt = _time.time() - t_start
    print(f'  {label:38s} DOP853 rtol {rtol_primary:g} ({"log " + ",".join(log_primary) if log_primary else "linear"}, '
          f'{a.nfev} f-evals) vs {check_method} rtol {rtol_check:g}: max rel diff {d:.2e}   [{dt:.1f} s]')
    lp = f' in log variables ({", ".join(log_primary)})' if log_primary else ''
    lc = f' in log variables ({", ".join(log_check)})' if log_check else ''
    return a, {
        'primary': f'scipy DOP853 rtol {rtol_primary:g}, atol {rtol_primary:g} on log states, 1e-30 on plain states' + lp,
        'check': f'scipy {check_method} rtol {rtol_check:g}, atol {rtol_check:g} on log states, {lin_c:g} on plain states' + lc,
        'maxRelDiff': d,
        'relDiffFloor': floor,
    }


def states_dict(model, sol):
    return {s: [float(v) for v in sol.Y[i]] for i, s in enumerate(model['states'])}


def rel(a, b):
    return abs(a - b) / abs(b)


LIT = []  # literature checks


def lit(id_, quantity, computed, expected, tol, kind='rel'):
    err = rel(computed, expected) if kind == 'rel' else abs(computed - expected)
    ok = err <= tol
    LIT.append({'id': id_, 'quantity': quantity, 'computed': computed, 'modelsMd': expected,
                'error': err, 'kind': kind, 'tol': tol, 'pass': bool(ok)})
    print(f'    {"ok  " if ok else "FAIL"} {id_:6s} {quantity:42s} computed {computed:.8g}  published {expected:.8g}  '
          f'{kind} err {err:.1e} (tol {tol:g})')
    return ok


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write('\n')
    print(f'  wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path) // 1024} kB)')


def header(description):
    return {
        'description': description,
        'command': COMMAND,
        'generated': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
        'software': SOFTWARE,
    }


def grid(start, end, step):
    n = int(round((end - start) / step))
    return [start + k * step for k in range(n + 1)]


# --------------------------------------------------------------------------------------------------
# Kirschner-Panetta 1998
# --------------------------------------------------------------------------------------------------

def kp_equilibrium(params, guess):
    f = make_rhs(KP98, params)
    sol = fsolve(lambda y: f(0, y), guess, xtol=1e-14, full_output=True)
    y = sol[0]
    # polish with Newton in log variables
    g = make_rhs(KP98, params, ('E', 'T', 'IL'))
    z = fsolve(lambda u: g(0, u), np.log(y), xtol=1e-15)
    return np.exp(z)


def kp_cycle(params, t_settle=3000.0, t_measure=2500.0):
    """Limit-cycle period, T max and T min, located as roots of dT/dt on a log-variable DOP853 run."""
    f = make_rhs(KP98, params, ('E', 'T', 'IL'))
    u0 = np.log([1.0, 1e5, 1.0])
    s = solve_ivp(f, (0, t_settle), u0, method='DOP853', rtol=1e-12, atol=1e-12)
    ev = lambda t, u: f(t, u)[1]
    s2 = solve_ivp(f, (t_settle, t_settle + t_measure), s.y[:, -1], method='DOP853', rtol=1e-12, atol=1e-12,
                   events=ev)
    tev = s2.t_events[0]
    yev = s2.y_events[0]
    vals = np.exp(yev[:, 1])
    d2 = np.array([f(t, u)[1] for t, u in zip(tev, yev)])  # not second derivative; classify by neighbour
    maxima = [i for i in range(1, len(vals) - 1) if vals[i] > vals[i - 1] and vals[i] > vals[i + 1]]
    minima = [i for i in range(1, len(vals) - 1) if vals[i] < vals[i - 1] and vals[i] < vals[i + 1]]
    tmax = tev[maxima]
    period = float(np.mean(np.diff(tmax)))
    return period, float(np.max(vals[maxima])), float(np.min(vals[minima]))


def make_kp():
    print('Kirschner-Panetta 1998 (log variables)')
    times = grid(0, 1000, 5)
    cases_in = [
        ('c0.02', {'c': 0.02}, 'limit cycle; T falls to ~1e-4 cells'),
        ('c0.025', {'c': 0.025}, 'limit cycle; T min ~19 cells'),
        ('c0.035', {'c': 0.035}, 'stable focus, damped oscillations'),
        ('c0-s1-600', {'c': 0.0, 's1': 600.0}, 'ACI above the local threshold 540 but tumor still escapes (2.3)'),
        ('c0.035-s2-5e7', {'c': 0.035, 's2': 5e7}, 'IL-2 infusion below the blow-up level: E decays'),
        ('c0.035-s2-7e7', {'c': 0.035, 's2': 7e7}, 'IL-2 infusion above s2* = 6.3492e7: E grows without bound'),
    ]
    cases = []
    for cid, over, note in cases_in:
        params = param_values(KP98, over)
        y0 = initial_vector(KP98)
        # where the tumor is cleared T underflows in log form: keep T plain (purely relative tolerance) there
        # (the Radau check then resolves T only to its atol: values below 1e-15 cells are compared absolutely)
        logs = ('E', 'IL') if over.get('s2', 0) > 6.3492e7 else ('E', 'T', 'IL')
        sol, check = cross_checked(KP98, params, y0, times, (), logs, logs, floor=1e-15 if 'T' not in logs else 0.0, label=f'KP {cid}')
        cases.append({'id': cid, 'note': note, 'parameters': params, 'overrides': over,
                      'initial': dict(zip(KP98['states'], y0)), 'doses': [], 'times': times,
                      'states': states_dict(KP98, sol), 'crossCheck': check})
        if cid == 'c0-s1-600':
            lit('KP-ACI', 'c=0, s1=600: T(1000) (tumor escapes, 9.999e8)', sol.Y[1][-1], 9.999e8, 1e-3)
        if cid == 'c0.035-s2-5e7':
            k = times.index(400)
            lit('KP-IL2', 'c=.035, s2=5e7: E(400)', sol.Y[0][k], 1.62e4, 5e-3)
            ok = sol.Y[0][k] < sol.Y[0][times.index(350)]
            print(f'    {"ok  " if ok else "FAIL"} KP-IL2 E decaying at t=400: {bool(ok)}')
        if cid == 'c0.035-s2-7e7':
            lit('KP-IL2', 'c=.035, s2=7e7: E(200)', sol.Y[0][times.index(200)], 1.755e5, 5e-4)
            lit('KP-IL2', 'c=.035, s2=7e7: E(400)', sol.Y[0][times.index(400)], 2.77e5, 5e-3)
    # equilibria KP4/KP5
    for c, ref, gid in [(0.035, (2.1275e4, 1.8198e4, 1.0083e4), 'KP4'), (0.05, (2.0174e4, 1.2081e4, 9.3161e3), 'KP4'),
                        (1e-5, (3.4493e5, 9.9808e8, 1.7247e5), 'KP5')]:
        eq = kp_equilibrium(param_values(KP98, {'c': c}), ref)
        for name, v, r in zip(('E*', 'T*', 'I*'), eq, ref):
            lit(gid, f'c={c:g} equilibrium {name}', float(v), r, 1e-4)
    # limit cycles
    for c, per, tmax, tmin in [(0.025, 150.75, 1.662e5, 19.03), (0.02, 242.3, 3.756e5, 1.34e-4)]:
        period, Tmax, Tmin = kp_cycle(param_values(KP98, {'c': c}))
        lit('KP-LC', f'c={c:g} cycle period (days)', period, per, 0.1 if c == 0.02 else 0.01, 'abs')
        lit('KP-LC', f'c={c:g} cycle T max', Tmax, tmax, 1e-3)
        lit('KP-LC', f'c={c:g} cycle T min', Tmin, tmin, 5e-3 if c == 0.025 else 1e-2)
    lit('KP8', 's1* = r2*g2*mu2/a', 0.18 * 1e5 * 0.03 / 1.0, 540.0, 1e-12)
    lit('KP9', 's2* = mu3*mu2*g1/(p1-mu2)', 10 * 0.03 * 2e7 / (0.1245 - 0.03), 6.3492e7, 1e-4)
    obj = header('Kirschner-Panetta 1998 reference solutions, start (E,T,IL) = (1, 1e5, 1), no doses. '
                 'Values are E, T, IL at the listed times (days).')
    obj.update({'model': KP98, 'tolerance': {'rtol': RTOL_PRIMARY, 'note': 'log variables; see crossCheck.maxRelDiff for the achieved agreement'},
                'cases': cases})
    write_json(os.path.join(HERE, 'kirschner-panetta-1998.json'), obj)
    return cases


# --------------------------------------------------------------------------------------------------
# Kuznetsov 1994
# --------------------------------------------------------------------------------------------------

def make_kuz():
    print('Kuznetsov 1994 dimensional')
    times = grid(0, 400, 1)
    params = param_values(KUZ94)
    y0 = initial_vector(KUZ94)
    sol, check = cross_checked(KUZ94, params, y0, times, (), (), (), label='Kuznetsov dimensional')
    # K9: nondimensional form with parameters derived from the dimensional set
    E0 = T0 = 1e6
    p = params
    nd = {'sigma': p['s'] / (p['n'] * E0 * T0), 'rho': p['p'] / (p['n'] * T0), 'eta': p['g'] / T0,
          'mu': p['m'] / p['n'], 'delta': p['d'] / (p['n'] * T0), 'alpha': p['a'] / (p['n'] * T0), 'beta': p['b'] * T0}
    scale = p['n'] * T0
    taus = [t * scale for t in times]
    snd = solve_case(KUZ94_ND, nd, [y0[0] / E0, y0[1] / T0], taus, (), 'DOP853', 1e-13, 1e-30)
    k9 = max_rel_diff(sol.Y, snd.Y * 1e6)
    print(f'  K9 dimensional vs nondimensional (derived params), DOP853 1e-13: max rel diff {k9:.2e}')
    check['nondimensionalMaxRelDiff'] = k9
    lit('K9', 'dimensional vs nondimensional max rel diff', k9, 0.0, 1e-8, 'abs')
    E, T = sol.Y
    for gid, t, e, tt, tol in [('K7', 10, 4.420840e5, 1.933369e7, 1e-5), ('K7b', 30, 1.122311e6, 9.342188e7, 1e-5),
                               ('K7b', 60, 3.012265e6, 1.207002e7, 1e-5), ('K7b', 100, 1.218234e6, 1.305213e6, 1e-5),
                               ('K7c', 200, 1.589373e6, 2.972937e6, 1e-4), ('K7c', 400, 1.633515e6, 6.016783e6, 1e-4)]:
        k = times.index(t)
        lit(gid, f'E({t})', float(E[k]), e, tol)
        lit(gid, f'T({t})', float(T[k]), tt, tol)
    f = make_rhs(KUZ94, params)
    eq = fsolve(lambda y: np.array(f(0, y)) / np.array([1e4, 1e4]), [1.6e6, 8.2e6], xtol=1e-14)
    lit('K8', 'dormant equilibrium E', float(eq[0]), 1.608110e6, 1e-6)
    lit('K8', 'dormant equilibrium T', float(eq[1]), 8.186382e6, 1e-6)
    obj = header('Kuznetsov 1994 dimensional model (BIOMD0000000762 values), E(0) = 3.2e5, T(0) = 5e6; E, T at daily times.')
    obj.update({'model': KUZ94, 'tolerance': {'rtol': RTOL_PRIMARY, 'atol': 1e-30},
                'cases': [{'id': 'default', 'parameters': params, 'overrides': {}, 'initial': dict(zip(KUZ94['states'], y0)),
                           'doses': [], 'times': times, 'states': states_dict(KUZ94, sol), 'crossCheck': check}]})
    write_json(os.path.join(HERE, 'kuznetsov-1994.json'), obj)


# --------------------------------------------------------------------------------------------------
# W2 checkpoint scenario
# --------------------------------------------------------------------------------------------------

def pk2_closed_form(t, doses, CL, V1, Q, V2):
    """Central amount of the two-compartment model after IV boluses (superposition)."""
    k10, k12, k21 = CL / V1, Q / V1, Q / V2
    s = k10 + k12 + k21
    disc = math.sqrt(s * s - 4 * k10 * k21)
    al, be = (s + disc) / 2, (s - disc) / 2
    A = (al - k21) / (al - be)
    B = (k21 - be) / (al - be)
    tot = 0.0
    for (td, _, amt, _) in expand_doses(doses):
        if t >= td:
            tot += amt * (A * math.exp(-al * (t - td)) + B * math.exp(-be * (t - td)))
    return tot, al, be


def make_w2(params_over=None, times=None, write=True, label='W2 checkpoint, 18 doses'):
    params = param_values(W2, params_over)
    y0 = initial_vector(W2)
    times = times or grid(0, 365, 1)
    sol, check = cross_checked(W2, params, y0, times, W2_DOSES, (), ('E', 'T', 'IL'), label=label)
    return params, y0, times, sol, check


def make_w2_fixture():
    print('W2 checkpoint scenario')
    params, y0, times, sol, check = make_w2()
    # PK block against the closed form
    Ac = sol.Y[4]
    errs = []
    for k, t in enumerate(times):
        cf, al, be = pk2_closed_form(t, W2_DOSES, params['CL'], params['V1'], params['Q'], params['V2'])
        errs.append(rel(Ac[k], cf))
    pkerr = max(errs)
    print(f'  W2 Ac vs biexponential closed form, max rel diff {pkerr:.2e}')
    check['AcVsClosedFormMaxRelDiff'] = pkerr
    lit('P1', 'pembrolizumab alpha', al, 0.46060, 1e-4)
    lit('P1', 'pembrolizumab beta', be, 0.026876, 1e-4)
    for t, c in [(1, 43.927438), (7, 19.942166)]:
        lit('P2', f'C({t}) mg/L (from the ODE solution)', float(Ac[times.index(t)] / params['V1']), c, 1e-7)
    single = [{'target': 'Ac', 'amount': 200, 'start': 0}]
    for t, c in [(21, 12.732804), (42, 7.240007)]:
        lit('P2', f'C({t}) single dose, closed form', pk2_closed_form(t, single, params['CL'], params['V1'], params['Q'], params['V2'])[0] / params['V1'], c, 1e-7)
    print(f'  W2 T range: min {sol.Y[2].min():.3e}, max {sol.Y[2].max():.3e}')
    obj = header('W2 checkpoint scenario of bench/workloads.ts: 200 mg into Ac at t = 0, 21, ..., 357 (18 boluses), '
                 'integrated piecewise (restart at each dose); daily output 0..365; the row at a dose day holds the post-dose state.')
    obj.update({'model': W2, 'tolerance': {'rtol': RTOL_PRIMARY, 'atol': 1e-30},
                'cases': [{'id': 'w2', 'parameters': params, 'overrides': {}, 'initial': dict(zip(W2['states'], y0)),
                           'doses': W2_DOSES, 'times': times, 'states': states_dict(W2, sol), 'crossCheck': check}]})
    write_json(os.path.join(HERE, 'checkpoint-w2.json'), obj)
    return params, y0, times, sol, check


# --------------------------------------------------------------------------------------------------
# One-compartment PK, closed form
# --------------------------------------------------------------------------------------------------

def pk1_closed(t, k, doses):
    a = 0.0
    for (td, _, amt, dur) in expand_doses(doses):
        if t < td:
            continue
        if not dur:
            a += amt * math.exp(-k * (t - td))
        else:
            r = amt / dur
            if t <= td + dur:
                a += r / k * (1 - math.exp(-k * (t - td)))
            else:
                a += r / k * (1 - math.exp(-k * dur)) * math.exp(-k * (t - td - dur))
    return a


def make_pk1():
    print('One-compartment PK (closed form)')
    params = param_values(PK1)
    k = params['CL'] / params['V']
    times = grid(0, 40, 0.5)
    A = [pk1_closed(t, k, PK1_DOSES) for t in times]
    num = solve_case(PK1, params, [0.0], times, PK1_DOSES, 'DOP853', 1e-13, 1e-30)
    d = max_rel_diff(np.array([A]), num.Y, 1e-12)
    print(f'  closed form vs DOP853 piecewise 1e-13: max rel diff {d:.2e}')
    obj = header('One-compartment PK with repeated IV boluses (100 mg at 0, 7, 14, 21) and two zero-order infusions '
                 '(200 mg over 2 days from t = 13 and t = 27; the first overlaps the bolus at 14). Closed form by '
                 'superposition; values at a bolus time are post-dose.')
    obj.update({'model': PK1, 'tolerance': {'closedForm': True},
                'cases': [{'id': 'bolus-infusion', 'parameters': params, 'overrides': {}, 'initial': {'A': 0.0},
                           'doses': PK1_DOSES, 'times': times, 'states': {'A': A},
                           'outputs': {'C': [a / params['V'] for a in A]},
                           'closedForm': 'A(t) = sum_bolus D exp(-k(t-td)) + sum_inf R/k (1-exp(-k min(t-td,dur))) exp(-k max(0,t-td-dur)), k = CL/V',
                           'crossCheck': {'check': 'scipy DOP853 rtol 1e-13 piecewise', 'maxRelDiff': d}}]})
    write_json(os.path.join(HERE, 'pk-one-compartment.json'), obj)


# --------------------------------------------------------------------------------------------------
# Bench references
# --------------------------------------------------------------------------------------------------

def bench_header(workload, description, model, tol, extra=None):
    o = header(description)
    o.update({'workload': workload, 'model': model, 'benchTolerance': tol,
              'errorMetric': 'max over output rows and states of |y - y_ref| / max(|y_ref|, atol), atol = benchTolerance.atol'})
    o.update(extra or {})
    return o


def make_bench(w2_result, quick=False):
    print('Bench references (bench/reference)')
    # W1
    params = param_values(KP98, {'c': 0.02})
    times = grid(0, 1000, 1)
    sol, check = cross_checked(KP98, params, initial_vector(KP98), times, (), ('E', 'T', 'IL'), ('E', 'T', 'IL'), label='W1 daily')
    o = bench_header('W1', 'Kirschner-Panetta 1998, c = 0.02, (E,T,IL)(0) = (1,1e5,1), daily 0..1000',
                     KP98, {'rtol': 1e-6, 'atol': 1e-6},
                     {'parameters': params, 'initial': dict(zip(KP98['states'], initial_vector(KP98))), 'doses': [],
                      'times': times, 'states': states_dict(KP98, sol), 'crossCheck': check})
    write_json(os.path.join(BENCH_REF, 'w1.json'), o)
    # W2
    params, y0, times, sol, check = w2_result
    o = bench_header('W2', 'W2 checkpoint scenario, 18 boluses of 200 mg into Ac every 21 days from 0, daily 0..365, post-dose rows',
                     W2, {'rtol': 1e-6, 'atol': 1e-6},
                     {'parameters': params, 'initial': dict(zip(W2['states'], y0)), 'doses': W2_DOSES,
                      'times': times, 'states': states_dict(W2, sol), 'crossCheck': check})
    write_json(os.path.join(BENCH_REF, 'w2.json'), o)
    # W3 etas
    seed = 20261129
    n = 10000
    rng = np.random.default_rng(seed)
    etas = rng.normal(0.0, 0.3, size=(n, 4))
    names = ['c', 'kex', 'EC50', 'r2']
    write_json(os.path.join(BENCH_REF, 'w3_etas.json'), {
        'description': 'W3 virtual population: subject i has parameter q = q_typical * exp(eta[i][j]) for q = names[j]; '
                       'eta ~ N(0, 0.3^2) independent, drawn once with numpy.random.default_rng(seed).normal(0, 0.3, (n, 4)).',
        'command': COMMAND, 'seed': seed, 'n': n, 'names': names,
        'typical': {k: W2['parameters'][k]['value'] for k in names},
        'etas': [[float('%.17g' % v) for v in row] for row in etas]})
    if quick:
        return
    # W3 reference: the first N_REF subjects at every 28 days and 365
    n_ref = 100
    tref = grid(0, 364, 28) + [365]
    ref_states = []
    diffs = []
    t_start = _time.time()
    for i in range(n_ref):
        over = {k: W2['parameters'][k]['value'] * math.exp(etas[i][j]) for j, k in enumerate(names)}
        p = param_values(W2, over)
        a = solve_case(W2, p, initial_vector(W2), tref, W2_DOSES, 'DOP853', 1e-12, 1e-30)
        if i < 10:
            b = solve_case(W2, p, initial_vector(W2), tref, W2_DOSES, 'Radau', 1e-11, 1e-22)
            diffs.append(max_rel_diff(a.Y, b.Y, 1e-12))
        ref_states.append({s: [float(v) for v in a.Y[k]] for k, s in enumerate(W2['states'])})
    print(f'  W3 reference: {n_ref} subjects in {_time.time() - t_start:.1f} s; DOP853 1e-12 vs Radau 1e-11 '
          f'(plain, atol 1e-22) on the first 10: max rel diff {max(diffs):.2e}')
    o = bench_header('W3', f'W3 population reference: subjects 0..{n_ref - 1} of w3_etas.json, all states at days {tref}',
                     W2, {'rtol': 1e-6, 'atol': 1e-6},
                     {'doses': W2_DOSES, 'initial': dict(zip(W2['states'], initial_vector(W2))), 'subjects': n_ref,
                      'times': tref, 'states': ref_states,
                      'crossCheck': {'primary': 'scipy DOP853 rtol 1e-12 atol 1e-30 (plain variables)',
                                     'check': 'scipy Radau rtol 1e-11 atol 1e-22 (plain variables), first 10 subjects; values below 1e-12 compared absolutely',
                                     'maxRelDiff': max(diffs)}})
    write_json(os.path.join(BENCH_REF, 'w3_reference.json'), o)


def make_w4():
    print('W4 stiff references')
    out = {}
    for tend, key in [(1e5, 'robertson_1e5'), (4e10, 'robertson_4e10')]:
        times = [0.0] + [0.4 * 10 ** k for k in range(0, 40) if 0.4 * 10 ** k < tend] + [tend]
        p = param_values(ROBER)
        f = make_rhs(ROBER, p)
        jac = lambda t, y: np.array([[-p['k1'], p['k3'] * y[2], p['k3'] * y[1]],
                                     [p['k1'], -p['k3'] * y[2] - 2 * p['k2'] * y[1], -p['k3'] * y[1]],
                                     [0.0, 2 * p['k2'] * y[1], 0.0]])
        res = {}
        for m, rtol, atol in [('Radau', 1e-13, 1e-22), ('BDF', 1e-11, 1e-22)]:
            # restart at every output time: stored values are step end points
            Y = [np.array([1.0, 0.0, 0.0])]
            y = Y[0]
            for a_, b_ in zip(times[:-1], times[1:]):
                s = solve_ivp(f, (a_, b_), y, method=m, rtol=rtol, atol=atol, jac=jac)
                assert s.success, s.message
                y = s.y[:, -1]
                Y.append(y)
            res[m] = np.array(Y).T
        d = max_rel_diff(res['Radau'], res['BDF'], 1e-20)
        print(f'  {key}: Radau 1e-13 (atol 1e-22) vs BDF 1e-11 (atol 1e-22): max rel diff {d:.2e}')
        out[key] = (times, res['Radau'], d)
        o = bench_header('W4', f'Robertson to t = {tend:g}', ROBER, {'rtol': 1e-6, 'atol': 1e-10},
                         {'parameters': p, 'initial': {'y1': 1.0, 'y2': 0.0, 'y3': 0.0}, 'times': times,
                          'states': {s: [float(v) for v in res['Radau'][i]] for i, s in enumerate(ROBER['states'])},
                          'crossCheck': {'primary': 'scipy Radau rtol 1e-13 atol 1e-22, analytic Jacobian, restarted at each output time',
                                         'check': 'scipy BDF rtol 1e-11 atol 1e-22 (LSODA at atol 1e-20 stalls here)', 'maxRelDiff': d}})
        write_json(os.path.join(BENCH_REF, f'{key}.json'), o)
    p = param_values(VDP)
    f = make_rhs(VDP, p)
    jac = lambda t, y: np.array([[0.0, 1.0], [-2 * p['mu'] * y[0] * y[1] - 1.0, p['mu'] * (1 - y[0] ** 2)]])
    times = grid(0, 3000, 500)
    res = {}
    for m, rtol in [('Radau', 1e-12), ('DOP853', 1e-12)]:
        Y = [np.array([2.0, 0.0])]
        y = Y[0]
        for a_, b_ in zip(times[:-1], times[1:]):
            kw = {'jac': jac} if m == 'Radau' else {}
            s = solve_ivp(f, (a_, b_), y, method=m, rtol=rtol, atol=1e-12, **kw)
            assert s.success, s.message
            y = s.y[:, -1]
            Y.append(y)
        res[m] = np.array(Y).T
    d = max_rel_diff(res['Radau'], res['DOP853'], 1e-6)
    print(f'  vanderpol: Radau 1e-12 vs DOP853 1e-12 (atol 1e-12, ~1e7 f-evals): max rel diff {d:.2e} (floor 1e-6)')
    o = bench_header('W4', 'Van der Pol mu = 1000 on [0, 3000]', VDP, {'rtol': 1e-6, 'atol': 1e-6},
                     {'parameters': p, 'initial': {'y1': 2.0, 'y2': 0.0}, 'times': times,
                      'states': {s: [float(v) for v in res['Radau'][i]] for i, s in enumerate(VDP['states'])},
                      'crossCheck': {'primary': 'scipy Radau rtol 1e-12 atol 1e-12, analytic Jacobian, restarted at each output time',
                                     'check': 'scipy DOP853 rtol 1e-12 atol 1e-12 (explicit, ~1e7 RHS calls)', 'maxRelDiff': d}})
    write_json(os.path.join(BENCH_REF, 'vanderpol.json'), o)


def main():
    warnings.filterwarnings('ignore', message='xtol=')
    ap = argparse.ArgumentParser()
    ap.add_argument('--quick', action='store_true', help='skip the W3 population reference (slow)')
    ap.add_argument('--only', choices=['kp', 'kuz', 'w2', 'pk', 'bench', 'w4'], action='append')
    args = ap.parse_args()
    only = set(args.only or ['kp', 'kuz', 'w2', 'pk', 'bench', 'w4'])
    t0 = _time.time()
    if 'kuz' in only:
        make_kuz()
    if 'pk' in only:
        make_pk1()
    if 'kp' in only:
        make_kp()
    w2r = None
    if 'w2' in only or 'bench' in only:
        w2r = make_w2_fixture()
    if 'bench' in only:
        make_bench(w2r, args.quick)
    if 'w4' in only:
        make_w4()
    if LIT and {'kp', 'kuz', 'w2'} <= only:  # a partial run (--only) does not overwrite the full list
        write_json(os.path.join(HERE, 'literature-checks.json'),
                   dict(header('Agreement of these reference solutions with the published numbers of the papers'),
                        checks=LIT))
        bad = [c for c in LIT if not c['pass']]
        print(f'literature checks: {len(LIT) - len(bad)}/{len(LIT)} pass' + (f'; FAILED: {[c["id"] + " " + c["quantity"] for c in bad]}' if bad else ''))
    print(f'total {_time.time() - t0:.0f} s')
    return 1 if any(not c['pass'] for c in LIT) else 0


if __name__ == '__main__':
    sys.exit(main())
