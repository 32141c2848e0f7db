// Simulation study of the FOCE-I population fit with known truth. Design, fixed before running (no seed or
// replicate selection): R = 500 replicates, replicate r simulated with seed r (simulateStudy in
// tests/helpers/nlme-study.ts), each of N = 60 subjects × 6 samples (0.5, 1, 2, 4, 8, 12 h) after an IV
// bolus of 100 mg, one-compartment ODE model; CL = 5 L/h, V = 50 L, ω²_CL = 0.09, ω²_V = 0.04
// (log-normal), proportional error 10 %; every replicate fitted from initial values 1.5× off.
// Why these sizes: the target is |bias| < 5 % per parameter. ML estimates of a variance are biased by
// about −1/N (−1.7 % at N = 60; −3.3 % at the N = 30 of an earlier 200-replicate version, which gave
// ω²_CL −8.2 % ± 1.7 %), and the Monte-Carlo SE of a mean over R replicates is SD/√R (ω² estimates
// have an SD of ~20 % of the truth at N = 60, so ~0.9 % at R = 500): a bias of 5 % is then resolved.
// Reported per parameter: mean, bias ± Monte-Carlo SE (%), the expected ML bias (−1/N for the variances,
// 0 otherwise), for the variances the "oracle" (the ML variance about their mean of the η actually
// drawn in the same replicates: what an ML fit would approach if the η were observed without error), the
// coverage of the Wald 95 % intervals (R-matrix SEs, symmetric on the log scale for θ, σ and ω²) with its
// binomial SE, and failed / non-converged fits. Replicates run in W worker processes (replicate r on
// worker r mod W); each replicate depends on its seed only and results are gathered in replicate order,
// so the numbers do not depend on W. Writes simulation-study.json (timings are the only run-dependent fields).
// The same replicates fitted by R's nlme: simulation-study-nlme.R on the data --export-csv writes.
//   node src/cli/run-ts.mjs tests/reference/nlme/simulation-study.ts [--replicates 500] [--subjects 60] [--workers 2]
//   node src/cli/run-ts.mjs tests/reference/nlme/simulation-study.ts --export-csv /tmp/study-data.csv
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitPopulation } from '../../../src/analysis/nlme/index.ts';
import { mulberry32, normalSampler } from '../../../src/numerics/random.ts';
import { simulateStudy, STUDY_TRUTH, STUDY_TIMES } from '../../helpers/nlme-study.ts';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../../..');
const argv = process.argv.slice(2);
const opt = (n: string, d: number) => (argv.includes(n) ? Number(argv[argv.indexOf(n) + 1]) : d);
const R = opt('--replicates', 500);
const N = opt('--subjects', 60);
const W = opt('--workers', 2);
const names = ['CL', 'V', 'omega_CL', 'omega_V', 'sigmaProp'] as const;
type Name = (typeof names)[number];

interface Replicate {
  r: number;
  ok: boolean;
  error?: string;
  converged?: boolean;
  ms?: number;
  value?: Record<Name, number>;
  ci?: Record<Name, [number | null, number | null]>;
  oracle: { omega_CL: number; omega_V: number };
}

/** The ML variance (about the sample mean) of the η that simulateStudy(r, N) drew, in its draw order. */
function oracle(r: number): Replicate['oracle'] {
  const z = normalSampler(mulberry32(r));
  const eta = { CL: [] as number[], V: [] as number[] };
  for (let i = 0; i < N; i++) {
    eta.CL.push(Math.sqrt(STUDY_TRUTH.omega_CL) * z());
    eta.V.push(Math.sqrt(STUDY_TRUTH.omega_V) * z());
    for (let k = 0; k < STUDY_TIMES.length; k++) z();
  }
  const mlVar = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
  };
  return { omega_CL: mlVar(eta.CL), omega_V: mlVar(eta.V) };
}

function runReplicate(r: number): Replicate {
  const t0 = Date.now();
  try {
    const res = fitPopulation(simulateStudy(r, N));
    const sp = res.sigma.sigmaProp!;
    return {
      r, ok: true, converged: res.converged, ms: Date.now() - t0,
      value: { CL: res.theta.CL.value, V: res.theta.V.value, omega_CL: res.omega.matrix[0][0], omega_V: res.omega.matrix[1][1], sigmaProp: sp.value },
      ci: { CL: res.theta.CL.ci95, V: res.theta.V.ci95, omega_CL: res.omega.ci95[0], omega_V: res.omega.ci95[1], sigmaProp: sp.ci95 },
      oracle: oracle(r),
    };
  } catch (e) {
    return { r, ok: false, error: (e as Error).message, oracle: oracle(r) };
  }
}

if (argv.includes('--export-csv')) {
  // The simulated data of every replicate (rep,id,time,conc) for the independent fit by R's nlme
  // (simulation-study-nlme.R).
  const lines = ['rep,id,time,conc'];
  for (let r = 1; r <= R; r++) for (const d of simulateStudy(r, N).data) lines.push(`${r},${d.subject},${d.time},${d.value}`);
  writeFileSync(argv[argv.indexOf('--export-csv') + 1], lines.join('\n') + '\n');
} else if (argv.includes('--worker')) {
  // A worker: replicates r ≡ k (mod W), one JSON line each on stdout.
  const k = opt('--worker', 0);
  for (let r = 1 + k; r <= R; r += W) process.stdout.write(JSON.stringify(runReplicate(r)) + '\n');
} else {
  const t0 = Date.now();
  const reps: Replicate[] = [];
  await Promise.all(Array.from({ length: W }, (_, k) => new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'src/cli/run-ts.mjs'), SELF, '--worker', String(k), '--replicates', String(R), '--subjects', String(N), '--workers', String(W)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        reps.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
        if (reps.length % 50 === 0) console.error(`${reps.length}/${R} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${k} exited with ${code}`))));
  })));
  reps.sort((a, b) => a.r - b.r);
  if (reps.length !== R) throw new Error(`expected ${R} replicates, got ${reps.length}`);
  const fits = reps.filter((x) => x.ok);
  const M = fits.length;
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const sd = (v: number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1));
  const pct = (v: number, truth: number) => (100 * (v - truth)) / truth;
  const summary = Object.fromEntries(names.map((n) => {
    const truth = STUDY_TRUTH[n];
    const v = fits.map((x) => x.value![n]);
    const covered = fits.filter((x) => { const [lo, hi] = x.ci![n]; return lo !== null && hi !== null && lo <= truth && truth <= hi; }).length;
    const p = covered / M;
    const row: Record<string, number> = {
      truth, mean: mean(v), biasPercent: pct(mean(v), truth), mcSePercent: (100 * sd(v)) / Math.sqrt(M) / truth,
      sdEstimates: sd(v), expectedMlBiasPercent: n.startsWith('omega') ? -100 / N : 0,
      coveragePercent: 100 * p, coverageSePercent: 100 * Math.sqrt((p * (1 - p)) / M),
    };
    if (n === 'omega_CL' || n === 'omega_V') {
      const o = fits.map((x) => x.oracle[n]);
      const diff = fits.map((x) => x.value![n] - x.oracle[n]);
      Object.assign(row, { oracleMean: mean(o), oracleBiasPercent: pct(mean(o), truth), oracleMcSePercent: (100 * sd(o)) / Math.sqrt(M) / truth,
        foceiMinusOraclePercent: (100 * mean(diff)) / truth, foceiMinusOracleMcSePercent: (100 * sd(diff)) / Math.sqrt(M) / truth });
    }
    return [n, row];
  }));
  const ms = fits.map((x) => x.ms!).sort((a, b) => a - b);
  const out = {
    design: `${N} subjects x 6 samples (0.5,1,2,4,8,12 h), IV bolus 100 mg, 1-cmt ODE, CL 5, V 50, omega2 0.09/0.04 (log-normal), proportional error 0.1; starts 1.5x off; replicate r = seed r`,
    method: 'focei', replicates: R, subjects: N, failed: R - M, notConverged: fits.filter((x) => !x.converged).length,
    failures: reps.filter((x) => !x.ok).map((x) => ({ replicate: x.r, error: x.error })),
    workers: W, seconds: (Date.now() - t0) / 1000, medianFitMs: ms[ms.length >> 1], summary,
  };
  writeFileSync(path.join(path.dirname(SELF), 'simulation-study.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
}
