#!/usr/bin/python3
"""Independent reference for docs/examples (trial.csv with oral-1cpt.json): SciPy's solve_ivp (Radau,
rtol 1e-12, atol 1e-14), restarted at every dose, infusion start/stop and weight change, with the steady
state of subject 2 obtained by simulating 400 dosing intervals (a different method from immunopd's Newton
solve). Writes tests/reference/dataset-example.json: the CP predictions at the observation records.

Run: /usr/bin/python3 tests/reference/dataset_example.py
"""
import json
import numpy as np
from scipy.integrate import solve_ivp

ka, CL, V, F1, ALAG1, D1 = 1.2, 4.0, 30.0, 0.7, 0.4, 1.5


def rhs(wt, rate):
    k = CL * (wt / 70) ** 0.75 / V
    return lambda t, y: [-ka * y[0], ka * y[0] - k * y[1] + rate]


def piecewise(y, t0, t1, wt, rate):
    if t1 <= t0:
        return np.array(y, float)
    s = solve_ivp(rhs(wt, rate), (t0, t1), y, method='Radau', rtol=1e-12, atol=1e-14)
    return s.y[:, -1]


def run(y, t, events, t_end):
    """events: (time, kind, value) sorted; kind 'bolus_d', 'bolus_c', 'rate', 'wt'."""
    wt, rate = None, 0.0
    for (te, kind, v) in events:
        if te > t_end:
            break
        if wt is not None:
            y = piecewise(y, t, te, wt, rate)
            t = te
        if kind == 'bolus_d':
            y = y + np.array([v, 0])
        elif kind == 'bolus_c':
            y = y + np.array([0, v])
        elif kind == 'rate':
            rate += v
        elif kind == 'wt':
            wt = v
    return piecewise(y, t, t_end, wt, rate)


out = {}
# Subject 1: 100 mg oral at 0, 12, 24 (F 0.7, lag 0.4); WT 62, then 80 from t = 24; 200 mg IV over D1 = 1.5 h at 24.
ev1 = [(0, 'wt', 62.0)] + [(12 * j + ALAG1, 'bolus_d', 100 * F1) for j in range(3)]
ev1 += [(24, 'wt', 80.0), (24, 'rate', 200 / D1), (24 + D1, 'rate', -200 / D1)]
ev1.sort(key=lambda e: (e[0], e[1] != 'wt'))
s1 = []
for t in [1, 11.5, 24, 26]:
    # The observation at 24 is listed before the IV dose: the infusion has not started (no jump either way).
    evs = [e for e in ev1 if not (t == 24 and e[0] == 24 and e[1] == 'rate')]
    s1.append(run(np.zeros(2), 0.0, evs, t)[1] / V)
out['1'] = s1
# Subject 2: 100 mg IV at 50 mg/h (2 h) every 12 h at steady state from t = 0 (SS = 1), WT 95.
y = np.zeros(2)
for _ in range(400):
    y = run(y, 0.0, [(0, 'wt', 95.0), (0, 'rate', 50.0), (2, 'rate', -50.0)], 12.0)
ev2 = [(0, 'wt', 95.0), (0, 'rate', 50.0), (2, 'rate', -50.0)]
out['2'] = [run(y.copy(), 0.0, ev2, t)[1] / V for t in [6, 12]]
with open('tests/reference/dataset-example.json', 'w') as f:
    json.dump({k: [float(v) for v in vs] for k, vs in out.items()}, f, indent=1)
print(json.dumps(out, default=float))
