# The population-fit worked example (docs/examples/pop-trial.csv): a simulated one-compartment oral trial,
# 24 subjects, 100 mg at t = 0 into the depot, 8 samples (0.5-24 h), body weight WT uniform in [50, 100] kg,
# CL_i = CL (WT/70)^0.75 exp(eta_CL), V_i = V exp(eta_V), ka_i = ka exp(eta_ka), 10 % proportional error.
# Concentrations from the closed form C = D ka / (V (ka - k)) (exp(-k t) - exp(-ka t)), k = CL/V.
# Writes docs/examples/pop-trial.csv and tests/reference/nlme/pop-trial-truth.json.
#   python3 tests/reference/nlme/pop_trial.py
import json, os
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TRUTH = {"ka": 1.0, "CL": 4.0, "V": 30.0, "beta_WT": 0.75, "omega_ka": 0.09, "omega_CL": 0.09, "omega_V": 0.04, "sigmaProp": 0.1}
TIMES = [0.5, 1, 2, 4, 6, 8, 12, 24]
rng = np.random.default_rng(20261201)
lines = ["ID,TIME,AMT,CMT,EVID,DV,MDV,WT"]
for i in range(1, 25):
    wt = round(float(rng.uniform(50, 100)), 1)
    ka = TRUTH["ka"] * np.exp(np.sqrt(TRUTH["omega_ka"]) * rng.standard_normal())
    cl = TRUTH["CL"] * (wt / 70) ** TRUTH["beta_WT"] * np.exp(np.sqrt(TRUTH["omega_CL"]) * rng.standard_normal())
    v = TRUTH["V"] * np.exp(np.sqrt(TRUTH["omega_V"]) * rng.standard_normal())
    k = cl / v
    lines.append(f"{i},0,100,depot,1,.,1,{wt}")
    for t in TIMES:
        c = 100 * ka / (v * (ka - k)) * (np.exp(-k * t) - np.exp(-ka * t))
        y = c * (1 + TRUTH["sigmaProp"] * rng.standard_normal())
        lines.append(f"{i},{t},.,CP,0,{y:.5g},0,{wt}")
with open(os.path.join(ROOT, "docs", "examples", "pop-trial.csv"), "w") as f:
    f.write("\n".join(lines) + "\n")
with open(os.path.join(ROOT, "tests", "reference", "nlme", "pop-trial-truth.json"), "w") as f:
    json.dump({"truth": TRUTH, "subjects": 24, "times": TIMES, "seed": 20261201}, f, indent=1)
    f.write("\n")
