// The ω² bias of the simulation study (simulation-study.ts): is it maximum likelihood's small-sample bias
// or the FOCE-I approximation? For the same 200 seeds, the "oracle" estimate of each replicate is the ML
// variance (around the sample mean) of the η actually drawn, E = (N − 1)/N ω² for N subjects: what any
// ML fit would approach with these 30 subjects if the η were observed without error. Its mean over the
// same seeds, next to the study's FOCE-I mean, separates the seeds' sampling and ML's −1/N from the
// approximation. Writes omega-oracle.json.
//   node src/cli/run-ts.mjs tests/reference/nlme/omega-oracle.ts
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32, normalSampler } from '../../../src/numerics/random.ts';
import { STUDY_TRUTH, STUDY_TIMES } from '../../helpers/nlme-study.ts';

const DIR = path.dirname(fileURLToPath(import.meta.url));
const study = JSON.parse(readFileSync(path.join(DIR, 'simulation-study.json'), 'utf8'));
const R = study.replicates as number;
const N = 30;
const oracle = { CL: [] as number[], V: [] as number[] };
for (let r = 1; r <= R; r++) {
  // The draws of simulateStudy(r) in its order: η_CL, η_V, then one ε per sampling time, subject by subject.
  const z = normalSampler(mulberry32(r));
  const eta = { CL: [] as number[], V: [] as number[] };
  for (let i = 0; i < N; i++) {
    eta.CL.push(Math.sqrt(STUDY_TRUTH.omega_CL) * z());
    eta.V.push(Math.sqrt(STUDY_TRUTH.omega_V) * z());
    for (let k = 0; k < STUDY_TIMES.length; k++) z();
  }
  for (const p of ['CL', 'V'] as const) {
    const m = eta[p].reduce((a, b) => a + b, 0) / N;
    oracle[p].push(eta[p].reduce((a, b) => a + (b - m) ** 2, 0) / N);
  }
}
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1));
const rows = (['CL', 'V'] as const).map((p) => {
  const truth = STUDY_TRUTH[`omega_${p}`];
  const o = oracle[p];
  const focei = study.summary[`omega_${p}`];
  return {
    parameter: `omega_${p}`, truth,
    expectedMlBiasPercent: -100 / N,
    oracleMean: mean(o), oracleBiasPercent: (100 * (mean(o) - truth)) / truth, oracleMcSePercent: (100 * sd(o)) / Math.sqrt(R) / truth,
    foceiMean: focei.mean, foceiBiasPercent: focei.biasPercent, foceiMcSePercent: (100 * focei.sdEstimates) / Math.sqrt(R) / truth,
    foceiMinusOraclePercent: (100 * (focei.mean - mean(o))) / truth,
  };
});
writeFileSync(path.join(DIR, 'omega-oracle.json'), JSON.stringify({ replicates: R, subjects: N, rows }, null, 2) + '\n');
console.log(JSON.stringify(rows, null, 2));
