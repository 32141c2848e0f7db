"""Independent reference for nivolumab's time-varying clearance counted from the first dose (tfd).

Two-compartment model of models/immunotherapy.json (CL0 0.2256 L/day, V1 3.63 L, Q 0.7704 L/day, V2 2.78 L;
CL = CL0 exp(Emax tau^g / (T50^g + tau^g)), Emax -0.295, T50 58.75 day, g 3.15, tau = time since the
first dose), 240 mg as 30-min infusions every 14 days. Troughs (just before the 2nd and 5th dose) for a
course started on day 0 and on day 100, with SciPy's Radau at rtol 1e-11: they must agree, and the day-0
values are the model's troughs.
Run: python3 tests/reference/nivolumab_tfd.py > tests/reference/nivolumab-tfd.json
"""
import json
import numpy as np
from scipy.integrate import solve_ivp

CL0, V1, Q, V2, EMAX, T50, G = 0.2256, 3.63, 0.7704, 2.78, -0.295, 58.75, 3.15
DOSE, DUR, EVERY = 240.0, 30.0 / 1440.0, 14.0


def troughs(start, n_doses=5):
    def rhs(t, x, rate):
        tau = max(t - start, 0.0)
        cl = CL0 * np.exp(EMAX * tau**G / (T50**G + tau**G))
        a, b = x
        return [rate - (cl + Q) / V1 * a + Q / V2 * b, Q / V1 * a - Q / V2 * b]
    x = np.zeros(2)
    out = []
    for k in range(n_doses):
        t_dose = start + k * EVERY
        if k > 0:
            out.append(x[0] / V1)  # trough just before dose k
        s = solve_ivp(rhs, (t_dose, t_dose + DUR), x, args=(DOSE / DUR,), method='Radau', rtol=1e-11, atol=1e-12)
        x = s.y[:, -1]
        s = solve_ivp(rhs, (t_dose + DUR, t_dose + EVERY), x, args=(0.0,), method='Radau', rtol=1e-11, atol=1e-12)
        x = s.y[:, -1]
    return out


print(json.dumps({"start0": troughs(0.0), "start100": troughs(100.0)}, indent=2))
