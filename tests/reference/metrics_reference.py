"""Independent references for the exposure metrics (tests/metrics-models.test.ts), with SciPy.

Atezolizumab 1200 mg as a 60-min infusion into the linear two-compartment model of models/immunotherapy.json
(CL 0.2 L/day, V1 3.28 L, Q 0.546 L/day, V2 3.63 L; PD-L1 occupancy C/(C + 0.316 mg/L)), over days 0-21:
AUC of C (mg*day/L), mean occupancy (integral of RO / 21 days) and the time with RO >= 0.9. The linear
system is solved in closed form (matrix exponential of the compartment matrix) and integrated with
scipy.integrate.quad at tight tolerances, so nothing is shared with the TypeScript solver.
Run: python3 tests/reference/metrics_reference.py > tests/reference/metrics-reference.json
"""
import json
import numpy as np
from scipy.integrate import quad
from scipy.linalg import expm
from scipy.optimize import brentq

CL, V1, Q, V2, EC50 = 0.2, 3.28, 0.546, 3.63, 0.316
DOSE, TINF, TEND = 1200.0, 1.0 / 24.0, 21.0
K = np.array([[-(CL + Q) / V1, Q / V2], [Q / V1, -Q / V2]])
R = np.array([DOSE / TINF, 0.0])
Kinv = np.linalg.inv(K)


def amounts(t):
    if t <= TINF:
        # x' = K x + R, x(0) = 0  =>  x = K^-1 (e^{Kt} - I) R
        return Kinv @ (expm(K * t) - np.eye(2)) @ R
    x1 = Kinv @ (expm(K * TINF) - np.eye(2)) @ R
    return expm(K * (t - TINF)) @ x1


def conc(t):
    return amounts(t)[0] / V1


def ro(t):
    c = conc(t)
    return c / (c + EC50)


opts = dict(epsabs=1e-13, epsrel=1e-13, limit=500)
auc = quad(conc, 0, TINF, **opts)[0] + quad(conc, TINF, TEND, **opts)[0]
ro_int = quad(ro, 0, TINF, **opts)[0] + quad(ro, TINF, TEND, **opts)[0]
# RO >= 0.9 <=> C >= 9 * EC50: rises early in the infusion, never falls below within 21 days (checked).
t_up = brentq(lambda t: ro(t) - 0.9, 1e-12, TINF, xtol=1e-15)
assert ro(TEND) > 0.9
print(json.dumps({
    "atezolizumab_1200mg_60min_21d": {
        "AUC": auc,
        "meanOccupancy": ro_int / TEND,
        "timeOccupancyAbove90": TEND - t_up,
        "Cmax": conc(TINF),
    }
}, indent=2))
