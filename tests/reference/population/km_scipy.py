"""Kaplan-Meier reference for tests/population-km.test.ts: survival and Greenwood standard errors of a
censored sample with ties, from SciPy (scipy.stats.ecdf on CensoredData; the SE from the 'linear'
confidence interval, which is S +/- z * Greenwood SE). Run: python3 tests/reference/population/km_scipy.py"""
import json
import numpy as np
from scipy import stats

rng = np.random.default_rng(20261130)
n = 60
t_event = np.round(rng.exponential(100.0, n), 0) + 1  # whole days: ties
t_cens = np.round(rng.uniform(20.0, 250.0, n), 0) + 1
time = np.minimum(t_event, t_cens)
event = t_event <= t_cens
data = stats.CensoredData(uncensored=time[event], right=time[~event])
res = stats.ecdf(data)
z = stats.norm.ppf(0.975)
ci = res.sf.confidence_interval(0.95, method='linear')
q = res.sf.quantiles
p = res.sf.probabilities
se = (ci.high.probabilities - ci.low.probabilities) / (2 * z)
# the interval is clipped to [0, 1]: keep the SE only where it was not
se[(ci.low.probabilities <= 0) | (ci.high.probabilities >= 1)] = np.nan
# median: first event time at which S <= 0.5
median = next((float(t) for t, s in zip(q, p) if s <= 0.5), None)
out = {
    'source': f'scipy {__import__("scipy").__version__} stats.ecdf (Kaplan-Meier), Greenwood SE from the linear 95% CI',
    'time': time.tolist(), 'event': event.tolist(),
    'eventTimes': q.tolist(), 'survival': p.tolist(), 'se': [None if np.isnan(v) else float(v) for v in se],
    'median': median,
}
with open(__file__.replace('km_scipy.py', 'km_scipy.json'), 'w') as f:
    json.dump(out, f, indent=1)
print(json.dumps({k: out[k] for k in ('source', 'median')}), len(q), 'event times')
