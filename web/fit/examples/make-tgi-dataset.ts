// Generates the fit page's example (web/fit/examples/tgi-logistic.csv): a NONMEM-style dataset of 24
// subjects simulated from the library model tgi-logistic (logistic growth, drug kill kKill·Cd·V, drug
// elimination kel), half of them treated (10 mg into Cd on day 10, then every 7 days, 5 doses: II 7,
// ADDL 4), 5 tumor sizes each (CMT V). Truth: r = 0.1 /day, kKill = 0.02, between-subject variances
// ω²(r) = 0.04, ω²(kKill) = 0.09 (log-normal), residual error 10 % log-normal (σ = 0.1 on log V), a body
// weight column WT (no effect in the truth: a covariate to try). Seeded: the file is reproducible.
// Run: node src/cli/run-ts.mjs web/fit/examples/make-tgi-dataset.ts > web/fit/examples/tgi-logistic.csv
import { simulate } from '../../../src/simulate.ts';
import { mulberry32, normalSampler } from '../../../src/numerics/random.ts';

const TRUTH = { r: 0.1, kKill: 0.02, omega_r: 0.04, omega_kKill: 0.09, sigma: 0.1 };
const FIXED = { V0: 5e7, kel: 0.2 };
const z = normalSampler(mulberry32(20261201));
const lines = ['ID,TIME,EVID,AMT,CMT,II,ADDL,DV,MDV,WT,ARM'];
for (let i = 0; i < 24; i++) {
  const id = i + 1;
  const treated = i % 2 === 1;
  const wt = Math.round(70 * Math.exp(0.15 * z()));
  const r = TRUTH.r * Math.exp(Math.sqrt(TRUTH.omega_r) * z());
  const kKill = TRUTH.kKill * Math.exp(Math.sqrt(TRUTH.omega_kKill) * z());
  const times = [0, 7, 21, 35, 49].map((t) => (t === 0 ? 0 : t + (i % 3)));
  const doses = treated ? [{ target: 'Cd', amount: 10, start: 10, every: 7, count: 5 }] : [];
  const sim = simulate({ model: 'tgi-logistic', parameters: { r, kKill, ...FIXED }, doses, times, solver: { rtol: 1e-8 } }) as { times: number[]; states: Record<string, number[]> };
  const arm = treated ? 1 : 0;
  const obs = (k: number) => `${id},${sim.times[k]},0,.,V,.,.,${Number((sim.states.V[k] * Math.exp(TRUTH.sigma * z())).toPrecision(5))},0,${wt},${arm}`;
  // Rows sorted by time; the dose on day 10 comes between the observations on days 7–9 and 21–23.
  lines.push(obs(0), obs(1));
  if (treated) lines.push(`${id},10,1,10,Cd,7,4,.,1,${wt},${arm}`);
  for (let k = 2; k < times.length; k++) lines.push(obs(k));
}
process.stdout.write(`${lines.join('\n')}\n`);
