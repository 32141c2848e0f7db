// Population-fit benchmark: FOCE-I on Theoph (12 subjects × 11 concentrations, one-compartment
// first-order absorption as an ODE model, random effects on ka and Cl, additive error) in-process, beside
// R's nlme on the same data (closed-form SSfol model, ML, Lindstrom-Bates) timed by Rscript in the same run.
// Reports the median wall time of a fit with and without the covariance step (and at solver rtol 1e-6, which
// gives the same estimates and SEs to 5 digits), ODE solves per fit, and the largest relative difference of
// θ from nlme's. Target: ≤ 1 s per fit (estimation and covariance). Then one replicate of the simulation
// study's design (60 subjects × 6 samples, IV bolus), the fit the study repeats 500 times.
//
//   node src/cli/run-ts.mjs bench/nlme.ts [--repeats 5] [--peers r|none] [--json out.json]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { fitPopulation } from '../src/analysis/nlme/index.ts';
import { theophRef, theophRequest } from '../tests/helpers/nlme-theoph.ts';
import { simulateStudy } from '../tests/helpers/nlme-study.ts';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const opt = (n: string, d: string) =>
  argv.includes(n) && argv.indexOf(n) + 1 < argv.length ? argv[argv.indexOf(n) + 1] : d;
const repeats = Number(opt('--repeats', '5'));
const peers = opt('--peers', 'r')
  .split(',')
  .filter((s) => s && s !== 'none');
const jsonOut = opt('--json', '');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** One fit for the result, then `repeats` more timed (ms each). */
function timedFits(req: Parameters<typeof fitPopulation>[0]) {
  const r0 = fitPopulation(req);
  const ms: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t = performance.now();
    fitPopulation(req);
    ms.push(performance.now() - t);
  }
  return { r0, ms };
}

const ref = theophRef();
const nl = ref.diag2.fixed;
interface Row {
  tool: string;
  medianMs: number;
  odeSolves?: number;
  iterations?: number;
  maxRelDiffTheta?: number;
  note?: string;
}
const rows: Row[] = [];
for (const [covariance, rtol] of [
  ['R', 1e-8],
  ['none', 1e-8],
  ['R', 1e-6],
] as const) {
  const req = { ...theophRequest(ref, { ka: 0.2, Cl: 0.1 }, { covariance }), solver: { rtol } };
  const { r0, ms } = timedFits(req);
  const diff = Math.max(
    rel(r0.theta.ka.value, Math.exp(nl.lKa)),
    rel(r0.theta.ke.value, Math.exp(nl.lKe)),
    rel(r0.theta.Cl.value, Math.exp(nl.lCl)),
  );
  rows.push({
    tool: `immunopd FOCE-I, ODE rtol ${rtol} (covariance ${covariance})`,
    medianMs: median(ms),
    odeSolves: r0.odeSolves,
    iterations: r0.iterations,
    maxRelDiffTheta: diff,
  });
}
// The design of the simulation study (tests/reference/nlme/simulation-study.ts): 60 subjects × 6 samples of
// a one-compartment IV bolus model, seed 1, starts 1.5× off, with the covariance step.
{
  const req = simulateStudy(1, 60);
  const { r0, ms } = timedFits(req);
  rows.push({
    tool: 'immunopd FOCE-I, simulated 60 × 6 IV bolus (study design)',
    medianMs: median(ms),
    odeSolves: r0.odeSolves,
    iterations: r0.iterations,
  });
}
function rel(a: number, b: number) {
  return Math.abs(a - b) / Math.abs(b);
}
if (peers.includes('r')) {
  const r = spawnSync(
    'Rscript',
    [path.join(ROOT, 'tests', 'reference', 'nlme', 'nlme_time.R'), String(Math.min(repeats, 5))],
    { encoding: 'utf8', timeout: 600_000 },
  );
  if (r.status === 0 && r.stdout.includes('{')) {
    const o = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { ms: number };
    rows.push({ tool: 'R nlme (closed-form SSfol, ML)', medianMs: o.ms });
  } else
    rows.push({
      tool: 'R nlme (closed-form SSfol, ML)',
      medianMs: NaN,
      note: `skipped: ${(r.stderr || r.error?.message || 'failed').trim().split('\n').pop()}`,
    });
}
const base = rows[0].medianMs;
console.log(
  `Population fit benchmark: Theoph, 12 subjects × 11 points (median of ${repeats}); ratio = row ms / first row ms`,
);
for (const r of rows) {
  if (r.note) console.log(`${r.tool.padEnd(56)} ${r.note}`);
  else
    console.log(
      `${r.tool.padEnd(56)} ${r.medianMs.toFixed(1).padStart(9)} ms ${(r.medianMs / base).toFixed(2).padStart(6)} ${r.odeSolves !== undefined ? `${r.odeSolves} solves, ${r.iterations} iterations${r.maxRelDiffTheta !== undefined ? `, θ vs nlme ${(100 * r.maxRelDiffTheta).toFixed(2)} %` : ''}` : ''}`,
    );
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ workload: 'nlme-theoph', repeats, rows }, null, 1) + '\n');
