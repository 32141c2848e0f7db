// `npm run bench`: immunopd's workloads in-process, then each installed peer (SUNDIALS CVODE in C, SciPy
// solve_ivp, R deSolve lsoda) on the same workloads and tolerances, in one table with the ratio to immunopd.
// Errors of every tool are computed here, the same way, against bench/reference/*.json (made by
// tests/reference/make_references.py). No peer is required: a missing one is skipped with a note.
//
//   npm run bench                      # full run (immunopd repeats 15, peers 3, W3 on 10,000 subjects)
//   npm run bench -- --quick           # repeats 3, smaller populations (development)
//   npm run bench -- --peers none      # immunopd only; --peers cvode,scipy,desolve to choose
//   npm run bench -- --json out.json   # also write all rows as JSON
//   npm run bench -- --no-fit          # skip W5 (the fit workload, bench/fit.ts)
//   npm run bench -- --no-nlme         # skip the population fit (bench/nlme.ts)
//   npm run bench -- --no-startup      # skip the start-up timings (compiled CLI and worker vs node -e 0)
// The C Dormand–Prince yardstick (bench/peers/dopri5_bench.c, compiled with cc) runs W2 and W3 always
// (skipped with a note when cc is missing).
//   npm run bench -- --no-redis        # skip the 100,000-subject population job on Redis (bench/jobs-redis.ts)
import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { prepareScenario, solvePrepared, simulate } from '../src/simulate.ts';
import type { PopulationPartial } from '../src/analysis/population.ts';
import { availableParallelism } from 'node:os';
import {
  w1Scenario,
  w2Scenario,
  w3Request,
  STIFF_CASES,
  CHECKPOINT,
  W2_DOSES,
  type Method,
  type W3Etas,
} from './workloads.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const REF = path.join(HERE, 'reference');

// ---------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
};
const quick = flag('--quick');
const repeats = Number(opt('--repeats', quick ? '3' : '15'));
const peerRepeats = Number(opt('--peer-repeats', quick ? '1' : '3'));
const w3Subjects = Number(opt('--w3-subjects', quick ? '1000' : '10000'));
const peerW3 = {
  cvode: Number(opt('--cvode-w3-subjects', quick ? '100' : '1000')),
  scipy: Number(opt('--scipy-w3-subjects', quick ? '10' : '50')),
  desolve: Number(opt('--desolve-w3-subjects', quick ? '10' : '50')),
};
const peers = opt('--peers', 'cvode,scipy,desolve')
  .split(',')
  .filter((s) => s && s !== 'none');
const methods = opt('--methods', 'auto,dopri5,odex,rodas').split(',') as Method[];
const jsonOut = opt('--json', '');

// ---------------------------------------------------------------------------------------------------------
// References and the error metric
// ---------------------------------------------------------------------------------------------------------
interface Ref {
  times: number[];
  states: Record<string, number[]>;
  benchTolerance: { rtol: number; atol: number };
}
const refCache = new Map<string, unknown>();
function loadRef<T = Ref>(name: string): T | undefined {
  if (!refCache.has(name)) {
    const f = path.join(REF, `${name}.json`);
    refCache.set(name, existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined);
  }
  return refCache.get(name) as T | undefined;
}
const REF_OF: Record<string, string> = { kp98: 'w1', checkpoint: 'w2' };

interface Err {
  /** max |y - ref| / |ref| over entries with |ref| >= atol (pure relative error where the value is resolved). */
  rel: number;
  /** max |y - ref| / (atol + rtol·|ref|): the error in units of the requested tolerance. */
  tol: number;
}

/** Errors against a reference, rows matched by time; a non-finite value counts as an infinite error. */
function maxError(
  times: number[],
  states: Record<string, ArrayLike<number>>,
  ref: { times: number[]; states: Record<string, number[]> },
  tol: { rtol: number; atol: number },
): Err {
  const row = new Map(times.map((t, k) => [t, k]));
  const e: Err = { rel: 0, tol: 0 };
  for (const [name, rv] of Object.entries(ref.states)) {
    const v = states[name];
    if (!v) continue;
    ref.times.forEach((t, k) => {
      const j = row.get(t);
      if (j === undefined) return;
      const y = v[j];
      const d = Number.isFinite(y) ? Math.abs(y - rv[k]) : Infinity;
      const r = Math.abs(rv[k]);
      if (r >= tol.atol) e.rel = Math.max(e.rel, d / r);
      e.tol = Math.max(e.tol, d / (tol.atol + tol.rtol * r));
    });
  }
  return e;
}

interface W3Ref {
  times: number[];
  states: Record<string, number[]>[];
  benchTolerance: { rtol: number; atol: number };
}
const NO_ERR: Err = { rel: NaN, tol: NaN };
function w3Error(times: number[], subjects: Record<string, ArrayLike<number>>[]): Err {
  const ref = loadRef<W3Ref>('w3_reference');
  if (!ref) return NO_ERR;
  const e: Err = { rel: 0, tol: 0 };
  subjects.slice(0, ref.states.length).forEach((s, i) => {
    const x = maxError(times, s, { times: ref.times, states: ref.states[i] }, ref.benchTolerance);
    e.rel = Math.max(e.rel, x.rel);
    e.tol = Math.max(e.tol, x.tol);
  });
  return e;
}

// ---------------------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------------------
interface Row {
  workload: string;
  case: string;
  tool: string;
  method: string;
  medianMs: number;
  rhsEvaluations: number;
  maxError: Err;
  subjects?: number;
  note?: string;
  failed?: string;
}
const rows: Row[] = [];
/** The row of a run that failed: what was run, and why. */
function failedRow(what: Pick<Row, 'workload' | 'case' | 'tool' | 'method' | 'subjects'>, why: string): Row {
  return { ...what, medianMs: NaN, rhsEvaluations: NaN, maxError: NO_ERR, failed: why };
}
const notes: string[] = [];

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** 'auto' with the methods it used (switch sequence shortened). */
function autoLabel(m: string, sol: { switches: { method: string }[] }): string {
  if (m !== 'auto') return m;
  const seq = sol.switches.map((s) => s.method);
  if (!seq.length) return 'auto';
  const uniq = [...new Set(seq)];
  return seq.length <= 3 ? `auto (${seq.join('→')})` : `auto (${uniq.join('/')}, ${seq.length - 1} switches)`;
}
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 160);

function timeIt<T>(fn: () => T, n: number): { ms: number; last: T; all: number[] } {
  // warm-up (JIT tiers, caches): at least 10 runs and 1 s, so that the first workload is not penalised
  let last = fn();
  const w0 = performance.now();
  for (let k = 1; k < 10 || performance.now() - w0 < 1000; k++) {
    last = fn();
    if (k > 1000) break;
  }
  const all: number[] = [];
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    last = fn();
    all.push(performance.now() - t0);
  }
  return { ms: median(all), last, all };
}

// ---------------------------------------------------------------------------------------------------------
// immunopd in-process
// ---------------------------------------------------------------------------------------------------------
function runScenarioWorkload(workload: string, kase: string, make: (m: Method) => unknown) {
  const ref = loadRef(REF_OF[kase])!;
  for (const m of methods) {
    try {
      const prep = prepareScenario(make(m));
      const n = prep.model.stateNames.length;
      const { ms, last } = timeIt(() => solvePrepared(prep), repeats);
      const states: Record<string, number[]> = {};
      prep.model.stateNames.forEach((s, i) => (states[s] = Array.from(prep.times, (_, k) => last.y[k * n + i])));
      rows.push({
        workload,
        case: kase,
        tool: 'immunopd',
        method: autoLabel(m, last),
        medianMs: ms,
        rhsEvaluations: last.counters.rhsEvaluations,
        maxError: maxError(Array.from(prep.times), states, ref, ref.benchTolerance),
      });
    } catch (e) {
      rows.push(failedRow({ workload, case: kase, tool: 'immunopd', method: m }, errMsg(e)));
    }
  }
}

/** The hand-written Dormand-Prince yardstick (bench/handwritten-dopri5.ts), when present: same process, same tolerances. */
async function runYardstick() {
  let mod: { handW1: () => { y: Float64Array; nfev: number }; handW2: () => { y: Float64Array; nfev: number } };
  try {
    mod = await import('./handwritten-dopri5.ts');
  } catch (e) {
    notes.push(`hand-written dopri5 yardstick: not run (${errMsg(e)})`);
    return;
  }
  for (const [kase, workload, fn, names] of [
    ['kp98', 'W1', mod.handW1, ['E', 'T', 'IL']],
    ['checkpoint', 'W2', mod.handW2, ['E', 'X', 'T', 'IL', 'Ac', 'Ap']],
  ] as const) {
    const ref = loadRef(REF_OF[kase])!;
    try {
      const { ms, last } = timeIt(fn, repeats);
      const n = names.length;
      const states: Record<string, number[]> = {};
      names.forEach((s, i) => (states[s] = ref.times.map((_, k) => last.y[k * n + i])));
      rows.push({
        workload,
        case: kase,
        tool: 'hand-written',
        method: 'dopri5 (plain JS yardstick)',
        medianMs: ms,
        rhsEvaluations: last.nfev,
        maxError: maxError(ref.times, states, ref, ref.benchTolerance),
      });
    } catch (e) {
      rows.push(
        failedRow({ workload, case: kase, tool: 'hand-written', method: 'dopri5 (plain JS yardstick)' }, errMsg(e)),
      );
    }
  }
}

function runStiff() {
  for (const c of STIFF_CASES) {
    const ref = loadRef(c.id);
    for (const m of methods) {
      try {
        // The same path as W1/W2: validated once, then solvePrepared per repeat (bound RHS, analytic
        // Jacobian, autonomous model).
        const prep = prepareScenario({
          model: c.model,
          times: c.times,
          metrics: false,
          solver: { method: m, rtol: c.rtol, atol: c.atol, maxSteps: 500_000 },
        });
        const n = prep.model.stateNames.length;
        const { ms, last } = timeIt(() => solvePrepared(prep), repeats);
        const states: Record<string, number[]> = {};
        prep.model.stateNames.forEach((s, i) => (states[s] = c.times.map((_, k) => last.y[k * n + i])));
        rows.push({
          workload: 'W4',
          case: c.id,
          tool: 'immunopd',
          method: autoLabel(m, last),
          medianMs: ms,
          rhsEvaluations: last.counters.rhsEvaluations,
          maxError: ref ? maxError(c.times, states, ref, { rtol: c.rtol, atol: c.atol }) : NO_ERR,
        });
      } catch (e) {
        rows.push(failedRow({ workload: 'W4', case: c.id, tool: 'immunopd', method: m }, errMsg(e)));
      }
    }
  }
}

/** The method immunopd uses for a workload in the ratio column: auto when it works, else the fastest that worked. */
function immunopdBaseline(kase: string): Row | undefined {
  const mine = rows.filter((r) => r.case === kase && r.tool === 'immunopd' && !r.failed);
  return mine.find((r) => r.method.startsWith('auto')) ?? mine.sort((a, b) => a.medianMs - b.medianMs)[0];
}

/** The compiled dist/ (built first, as users run it); undefined with a note when the build fails. */
function buildDist(): boolean {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (build.status === 0) return true;
  notes.push(`W3: npm run build failed (${build.stderr.split('\n')[0]}): the W3 rows were not run`);
  return false;
}
const dist = (rel: string) => import(pathToFileURL(path.join(ROOT, 'dist', rel)).href);

/** Each subject's states over `times` from a W3 partial's columns (its series are every state, in model order). */
function partialStates(p: PopulationPartial, times: number[]): Record<string, Float64Array>[] {
  const names = Object.keys(CHECKPOINT.states);
  const nT = times.length;
  return Array.from({ length: p.count }, (_, j) =>
    Object.fromEntries(
      names.map((s, q) => {
        const d = p.arms[0].series[q]; // time-major: subject j at time k at [k·count + j]
        return [s, Float64Array.from({ length: nT }, (_, k) => d[k * p.count + j] ?? NaN)];
      }),
    ),
  );
}

/** The C DOPRI5 yardstick compiled (cc -O2) once; undefined (with a note) when cc fails. */
let cExe: string | null | undefined = null;
function buildC(): string | undefined {
  if (cExe !== null) return cExe;
  const src = path.join(HERE, 'peers', 'dopri5_bench.c');
  const exe = path.join(HERE, 'peers', 'build', 'dopri5_bench');
  mkdirSync(path.dirname(exe), { recursive: true });
  const r = spawnSync('cc', ['-O2', '-o', exe, src, '-lm', '-lpthread'], { encoding: 'utf8' });
  if (r.status !== 0)
    notes.push(
      `C DOPRI5 yardstick: skipped (cc -O2 bench/peers/dopri5_bench.c failed: ${r.error?.message ?? r.stderr.split('\n')[0]})`,
    );
  cExe = r.status === 0 ? exe : undefined;
  return cExe;
}

/** One W3 run of the C program: the first `subjects` subjects on `threads` POSIX threads. */
function runCW3(exe: string, threads: number, subjects: number): { ms: number; rhs: number; err: Err; failed: number } {
  const r = spawnSync(
    exe,
    [
      '--repeats',
      '1',
      '--w3-subjects',
      String(subjects),
      '--etas',
      path.join(REF, 'w3_etas.json'),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  if (r.status !== 0) throw new Error(`dopri5_bench exited with ${r.status}: ${(r.stderr ?? '').split('\n')[0]}`);
  const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { results: PeerResult[] };
  const w3 = doc.results.find((x) => x.workload === 'W3');
  if (!w3 || w3.failed) throw new Error(`dopri5_bench W3: ${w3?.failed ?? 'no result'}`);
  return {
    ms: w3.medianMs!,
    rhs: w3.rhsEvaluations!,
    err: w3Error(w3.times ?? [], w3.subjectStates ?? []),
    failed: w3.failedSubjects ?? 0,
  };
}

/** The W3 comparison, immunopd and C measured alternately (the machine is shared: a pair sees the same load). */
interface W3Pair {
  label: string;
  perSubject: boolean;
  subjects: number;
  immunopd: number[];
  c: number[];
  rhs: [number, number];
  err: [Err, Err];
}
const w3Pairs: W3Pair[] = [];

/**
 * W3 as users run it, from the compiled dist/, summarising the tumour T (quantiles and mean at every day, as a
 * model declaring roles.tumor does by default; the solve is the same whatever is summarised), each immunopd
 * run followed by a run of the C program on as many threads (so that each pair sees the same machine load):
 *  - per core: the population chunk API (what a pool thread runs for a job) on the first subjects in this
 *    thread, warmed up (ms/subject/thread), against the C program on one thread;
 *  - the whole population as a job on the embedded job system (src/jobs: a pool of worker threads sized to
 *    the cores, the population split into chunks and merged): wall time from creating the pool (threads
 *    start inside the timing, as in `immunopd population`) and submitting to the merged result, against the
 *    C program on as many POSIX threads; once more summarising all six states (the merge then handles 6×
 *    more values).
 * Medians of 3 pairs (1 with --quick, and for the six-state job). All solve the stored subjects
 * (population.etas) on the daily grid at rtol = atol = 1e-6; the error is over the first 100 subjects' six
 * states, immunopd's recomputed through the chunk API with the same request (as GET /api/jobs/:id/subjects
 * does).
 */
async function runW3() {
  const base = immunopdBaseline('checkpoint');
  const method = (base?.method.split(' ')[0] ?? 'auto') as Method;
  const E = loadRef<W3Etas>('w3_etas');
  if (!E) throw new Error('bench/reference/w3_etas.json is missing (run tests/reference/make_references.py)');
  if (!buildDist()) return;
  const exe = buildC();
  const { simulatePopulationChunk } = (await dist(
    'src/analysis/population-request.js',
  )) as typeof import('../src/analysis/population-request.ts');
  const days = Array.from({ length: 366 }, (_, k) => k); // the W2 grid: daily on [0, 365]
  const w3err = w3Error(
    days,
    partialStates(simulatePopulationChunk(w3Request(method, E, 100), 0, 100, { backend: 'embedded' }), days),
  );
  const T = ['T'];
  const pairs = quick ? 1 : 3;
  const record = (
    label: string,
    perSubject: boolean,
    subjects: number,
    mine: { ms: number; rhs: number }[],
    c: ReturnType<typeof runCW3>[],
    cLabel: string,
  ) => {
    rows.push({
      workload: 'W3',
      case: 'population',
      tool: 'C DOPRI5',
      method: cLabel,
      medianMs: median(c.map((x) => x.ms)),
      rhsEvaluations: c[0].rhs,
      maxError: c[0].err,
      subjects,
      note: `median of ${c.length}, alternating with immunopd${c[0].failed ? `; ${c[0].failed} subjects failed` : ''}`,
    });
    w3Pairs.push({
      label,
      perSubject,
      subjects,
      immunopd: mine.map((x) => x.ms),
      c: c.map((x) => x.ms),
      rhs: [mine[0].rhs, c[0].rhs],
      err: [w3err, c[0].err],
    });
  };
  // Per core, in this thread.
  const n1 = Math.min(w3Subjects, quick ? 200 : 1000);
  try {
    const request = w3Request(method, E, n1, T);
    simulatePopulationChunk(request, 0, Math.min(n1, 200), { backend: 'embedded' }); // warm-up (JIT)
    const mine: { ms: number; rhs: number; failed: number }[] = [];
    const c: ReturnType<typeof runCW3>[] = [];
    for (let r = 0; r < pairs; r++) {
      const t0 = performance.now();
      const part = simulatePopulationChunk(request, 0, n1, { backend: 'embedded' });
      mine.push({ ms: performance.now() - t0, rhs: part.rhsEvaluations, failed: part.arms[0].failures.length });
      if (exe) c.push(runCW3(exe, 1, n1));
    }
    const ms = median(mine.map((x) => x.ms));
    rows.push({
      workload: 'W3',
      case: 'population',
      tool: 'immunopd',
      method: `${method}, 1 thread`,
      medianMs: ms,
      rhsEvaluations: mine[0].rhs,
      maxError: w3err,
      subjects: n1,
      note: `${(ms / n1).toFixed(3)} ms/subject/thread, chunk API, warm, median of ${pairs}${mine[0].failed ? `; ${mine[0].failed} subjects failed` : ''}`,
    });
    if (c.length)
      record('1 thread: ms per subject per thread (warm)', true, n1, mine, c, 'DOPRI5 (C yardstick), 1 thread');
  } catch (e) {
    rows.push(
      failedRow(
        { workload: 'W3', case: 'population', tool: 'immunopd', method: `${method}, 1 thread`, subjects: n1 },
        errMsg(e),
      ),
    );
  }
  // The whole population as a job on the embedded job system.
  const threads = availableParallelism();
  const { WorkerPool } = (await dist('src/jobs/pool.js')) as typeof import('../src/jobs/pool.ts');
  const { JobManager, MemoryStore } = (await dist('src/jobs/manager.js')) as typeof import('../src/jobs/manager.ts');
  const { embeddedBackend } = (await dist('src/jobs/embedded.js')) as typeof import('../src/jobs/embedded.ts');
  for (const [series, repeatsHere, what] of [
    [T, pairs, 'T summarised'],
    [Object.keys(CHECKPOINT.states), 1, 'all 6 states summarised'],
  ] as const) {
    const label = `${method}, job on ${threads} worker threads, ${what}`;
    try {
      const request = w3Request(method, E, w3Subjects, [...series]);
      const runs: { ms: number; rhs: number; readyMs: number; failed: number; chunks: number }[] = [];
      // The same job again on the pool the first one warmed (threads started, JIT warm: a server or a
      // long-running `immunopd worker`), T only.
      const warm: { ms: number; rhs: number }[] = [];
      const c: ReturnType<typeof runCW3>[] = [];
      for (let r = 0; r < repeatsHere; r++) {
        const t0 = performance.now();
        // As `immunopd population` does (src/cli/job.ts): every thread may take job chunks.
        const pool = new WorkerPool({ size: threads, heavySlots: threads, queueLength: 1, killGraceMs: 2_000 });
        let readyMs = NaN;
        void pool.ready().then(() => (readyMs = performance.now() - t0));
        const jobs = new JobManager({ pool, backend: embeddedBackend(pool), store: new MemoryStore() });
        try {
          const rec = jobs.submit('population', request);
          const done = await jobs.wait(rec.id);
          const ms = performance.now() - t0;
          if (done.status !== 'succeeded') throw new Error(`the job ${done.status}: ${done.error?.message}`);
          const result = JSON.parse(done.resultJson!) as { stats: { failed: number; rhsEvaluations: number } };
          runs.push({
            ms,
            rhs: result.stats.rhsEvaluations,
            readyMs,
            failed: result.stats.failed,
            chunks: done.progress.chunks,
          });
          if (series.length === 1) {
            const t1 = performance.now();
            const again = await jobs.wait(jobs.submit('population', request).id);
            if (again.status !== 'succeeded') throw new Error(`the job ${again.status}: ${again.error?.message}`);
            warm.push({ ms: performance.now() - t1, rhs: result.stats.rhsEvaluations });
          }
        } finally {
          await jobs.close();
          await pool.close();
        }
        if (exe) c.push(runCW3(exe, threads, w3Subjects));
      }
      const mid = [...runs].sort((a, b) => a.ms - b.ms)[runs.length >> 1];
      rows.push({
        workload: 'W3',
        case: 'population',
        tool: 'immunopd',
        method: label,
        medianMs: mid.ms,
        rhsEvaluations: mid.rhs,
        maxError: w3err,
        subjects: w3Subjects,
        note: `wall time from starting the pool to the merged summary${repeatsHere > 1 ? `, median of ${repeatsHere}` : ''}; threads ready after ${mid.readyMs.toFixed(0)} ms; ${mid.chunks} chunks${mid.failed ? `; ${mid.failed} subjects failed` : ''}`,
      });
      if (c.length) {
        const wallLabel = `${w3Subjects.toLocaleString('en')} subjects on ${threads} threads, wall time, s: immunopd job (embedded job system, ${what}) / C on POSIX threads`;
        record(
          wallLabel,
          false,
          w3Subjects,
          runs,
          c,
          `DOPRI5 (C yardstick), ${threads} threads${series.length > 1 ? ' (paired with the 6-state job)' : ''}`,
        );
        if (warm.length) {
          w3Pairs.push({
            label: `the same on a pool already running (threads started and warm: a server, \`immunopd worker\`), T summarised`,
            perSubject: false,
            subjects: w3Subjects,
            immunopd: warm.map((x) => x.ms),
            c: c.map((x) => x.ms),
            rhs: [warm[0].rhs, c[0].rhs],
            err: [w3err, c[0].err],
          });
        }
      }
      if (warm.length) {
        rows.push({
          workload: 'W3',
          case: 'population',
          tool: 'immunopd',
          method: `${method}, job on ${threads} worker threads already running, T summarised`,
          medianMs: median(warm.map((x) => x.ms)),
          rhsEvaluations: warm[0].rhs,
          maxError: w3err,
          subjects: w3Subjects,
          note: `the same job again on the pool the first one started and warmed${warm.length > 1 ? `, median of ${warm.length}` : ''}`,
        });
      }
    } catch (e) {
      rows.push(
        failedRow(
          { workload: 'W3', case: 'population', tool: 'immunopd', method: label, subjects: w3Subjects },
          errMsg(e),
        ),
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Peers
// ---------------------------------------------------------------------------------------------------------
interface PeerResult {
  workload: string;
  case: string;
  method: string;
  medianMs?: number;
  rhsEvaluations?: number;
  times?: number[];
  states?: Record<string, number[]>;
  subjects?: number;
  subjectStates?: Record<string, number[]>[];
  failed?: string;
  failedSubjects?: number;
}

function have(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 60_000 });
  return r.status === 0;
}

function runPeer(tool: string, cmd: string, args: string[], keep: (r: PeerResult) => boolean = () => true): void {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 1_800_000 });
  if (r.status !== 0 || !r.stdout) {
    notes.push(
      `${tool}: run failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').split('\n').slice(-3).join(' ')}`,
    );
    return;
  }
  let doc: { version: string; results: PeerResult[] };
  try {
    doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  } catch (e) {
    notes.push(`${tool}: could not parse its output (${errMsg(e)})`);
    return;
  }
  notes.push(`${tool}: ${doc.version} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  for (const res of doc.results.filter(keep)) {
    const base = { workload: res.workload, case: res.case, tool, method: res.method };
    if (res.failed && res.workload !== 'W3') {
      rows.push(failedRow(base, res.failed));
      continue;
    }
    let err = NO_ERR;
    if (res.workload === 'W3') err = w3Error(res.times ?? [], res.subjectStates ?? []);
    else {
      const ref = loadRef(REF_OF[res.case] ?? res.case);
      if (ref && res.times && res.states) err = maxError(res.times, res.states, ref, ref.benchTolerance);
    }
    const noteParts = [];
    if (res.failedSubjects) noteParts.push(`${res.failedSubjects} subjects failed`);
    if (res.failed && res.workload === 'W3') noteParts.push(`stopped: ${res.failed}`);
    rows.push({
      ...base,
      medianMs: res.medianMs ?? NaN,
      rhsEvaluations: res.rhsEvaluations ?? NaN,
      maxError: err,
      subjects: res.subjects,
      ...(noteParts.length ? { note: noteParts.join('; ') } : {}),
    });
  }
}

function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** The C DOPRI5 yardstick on W2 (its W3 runs alternate with immunopd's in runW3). */
function runCDopri5() {
  const exe = buildC();
  if (!exe) return;
  runPeer(
    'C DOPRI5',
    exe,
    ['--repeats', String(repeats), '--w3-subjects', '1', '--etas', path.join(REF, 'w3_etas.json'), '--threads', '1'],
    (r) => r.workload === 'W2',
  );
}

/**
 * The W3 yardstick side by side, from the alternating runs of runW3: medians of each tool and the median of
 * the per-pair ratios (each pair ran back to back, under the same machine load).
 */
function w3Table(): string {
  const lines = [
    '| W3 population | immunopd | C DOPRI5 | immunopd / C (median of pairs) | RHS evals per subject (immunopd / C) | max error / tol, first 100 subjects (immunopd / C) |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const p of w3Pairs) {
    const scale = (ms: number) => (p.perSubject ? ms / p.subjects : ms / 1000);
    const digits = p.perSubject ? 3 : 2;
    const ratios = p.immunopd.map((x, k) => x / p.c[Math.min(k, p.c.length - 1)]);
    lines.push(
      `| ${p.label} | ${scale(median(p.immunopd)).toFixed(digits)} | ${scale(median(p.c)).toFixed(digits)} | ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}) | ${fmtN(p.rhs[0] / p.subjects)} / ${fmtN(p.rhs[1] / p.subjects)} | ${fmtE(p.err[0].tol)} / ${fmtE(p.err[1].tol)} |`,
    );
  }
  return lines.join('\n');
}

interface StartupRow {
  what: string;
  medianMs: number;
  limitMs?: number;
}
const startupRows: StartupRow[] = [];

/**
 * Start-up as a user sees it, beside `node -e 0` in the same run: the compiled CLI (`immunopd models`, a
 * small simulate) and a worker thread until ready (bench/startup-worker.mjs). Builds dist/ first.
 */
function runStartup() {
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { encoding: 'utf8' });
  if (build.status !== 0) {
    notes.push(`start-up: skipped (npm run build failed: ${build.stderr.split('\n')[0]})`);
    return;
  }
  const bin = path.join(ROOT, 'src', 'cli', 'bin.mjs');
  const scenarioFile = path.join(os.tmpdir(), `immunopd-bench-${process.pid}.json`);
  writeFileSync(
    scenarioFile,
    JSON.stringify({
      model: 'immunotherapy',
      preset: 'hot',
      therapies: ['pembrolizumab-200mg-q3w'],
      times: { start: 0, end: 360, step: 60 },
    }),
  );
  const n = quick ? 3 : 7;
  const wall = (args: string[]): number => {
    const ms: number[] = [];
    for (let k = 0; k < n; k++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0)
        throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${String(r.stderr).split('\n')[0]}`);
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b)[n >> 1];
  };
  try {
    startupRows.push({ what: '`node -e 0`', medianMs: wall(['-e', '0']) });
    startupRows.push({ what: '`immunopd models`', medianMs: wall([bin, 'models']), limitMs: 300 });
    startupRows.push({
      what: '`immunopd simulate` (6 states, 1 therapy, 360 days)',
      medianMs: wall([bin, 'simulate', scenarioFile]),
      limitMs: 500,
    });
    const ready: number[] = [];
    for (let k = 0; k < n; k++) {
      const r = spawnSync(process.execPath, [path.join(HERE, 'startup-worker.mjs')], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`startup-worker.mjs: ${r.stderr.split('\n')[0]}`);
      ready.push(Number(r.stdout.trim()));
    }
    startupRows.push({
      what: 'a solver thread of the job pool, start to ready',
      medianMs: ready.sort((a, b) => a - b)[n >> 1],
      limitMs: 300,
    });
  } catch (e) {
    notes.push(`start-up: ${errMsg(e)}`);
  }
}

function startupTable(): string {
  const base = startupRows[0]?.medianMs ?? NaN;
  const lines = [
    '| start-up (compiled dist/, median wall time) | ms | × `node -e 0` | target |',
    '|---|---:|---:|---:|',
  ];
  for (const r of startupRows)
    lines.push(
      `| ${r.what} | ${r.medianMs.toFixed(0)} | ${(r.medianMs / base).toFixed(1)} | ${r.limitMs ? `≤ ${r.limitMs} ms${r.medianMs > r.limitMs ? ' (over)' : ''}` : ''} |`,
    );
  return lines.join('\n');
}

function runPeers() {
  if (peers.includes('cvode')) {
    const src = path.join(HERE, 'peers', 'cvode_bench.c');
    const exe = path.join(HERE, 'peers', 'build', 'cvode_bench');
    if (!existsSync('/usr/include/cvode/cvode.h'))
      notes.push('cvode: skipped (no /usr/include/cvode/cvode.h; apt-get install libsundials-dev)');
    else {
      mkdirSync(path.dirname(exe), { recursive: true });
      const libs = [
        '-lsundials_cvode',
        '-lsundials_nvecserial',
        '-lsundials_sunmatrixdense',
        '-lsundials_sunlinsoldense',
        '-lm',
      ];
      let ok = false;
      for (const extra of [[], ['-lsundials_core']]) {
        const r = spawnSync('cc', ['-O2', '-o', exe, src, ...libs, ...extra], { encoding: 'utf8' });
        if (r.status === 0) {
          ok = true;
          break;
        }
      }
      if (!ok) notes.push('cvode: skipped (compiling bench/peers/cvode_bench.c failed)');
      else
        runPeer('CVODE', exe, [
          '--repeats',
          String(peerRepeats),
          '--w3-subjects',
          String(peerW3.cvode),
          '--etas',
          path.join(REF, 'w3_etas.json'),
        ]);
    }
  }
  if (peers.includes('scipy')) {
    if (!have(python(), ['-c', 'import scipy']))
      notes.push('scipy: skipped (python3 -c "import scipy" fails; apt-get install python3-scipy)');
    else
      runPeer('SciPy', python(), [
        path.join(HERE, 'peers', 'scipy_bench.py'),
        '--repeats',
        String(peerRepeats),
        '--w3-subjects',
        String(peerW3.scipy),
      ]);
  }
  if (peers.includes('desolve')) {
    if (!have('Rscript', ['-e', 'suppressPackageStartupMessages(library(deSolve))']))
      notes.push('deSolve: skipped (Rscript or deSolve missing; apt-get install r-cran-desolve)');
    else
      runPeer('deSolve', 'Rscript', [
        path.join(HERE, 'peers', 'desolve_bench.R'),
        '--repeats',
        String(peerRepeats),
        '--w3-subjects',
        String(peerW3.desolve),
      ]);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------------------
const fmtMs = (v: number) =>
  !Number.isFinite(v) ? '—' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
const fmtE = (v: number) => (Number.isNaN(v) ? '—' : !Number.isFinite(v) ? 'inf' : v.toExponential(1));
const fmtN = (v: number) => (Number.isFinite(v) ? String(Math.round(v)) : '—');

function table(): string {
  const order = ['W1', 'W2', 'W3', 'W4'];
  const caseOrder = ['kp98', 'checkpoint', 'population', 'robertson_1e5', 'robertson_4e10', 'vanderpol'];
  const sorted = [...rows].sort(
    (a, b) =>
      order.indexOf(a.workload) - order.indexOf(b.workload) || caseOrder.indexOf(a.case) - caseOrder.indexOf(b.case),
  );
  const lines = [
    '| workload | tool / method | median ms | RHS evals | max rel. error | max error / tol | × immunopd time |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of sorted) {
    const perTenK = (x: Row) => (x.subjects ? x.medianMs * (10_000 / x.subjects) : x.medianMs);
    const base =
      r.case === 'population'
        ? rows
            .filter((x) => x.case === 'population' && x.tool === 'immunopd' && !x.failed)
            .sort((a, b) => perTenK(a) - perTenK(b))[0]
        : immunopdBaseline(r.case);
    let ms = r.medianMs;
    let msText = fmtMs(ms);
    let evals = r.rhsEvaluations;
    if (r.case === 'population' && r.subjects) {
      // per 10,000 subjects, scaled from the subjects actually run
      const scale = 10_000 / r.subjects;
      ms = r.medianMs * scale;
      evals = r.rhsEvaluations * scale;
      msText = `${fmtMs(ms)}${r.subjects !== 10_000 ? ` (${r.subjects} run, scaled)` : ''}`;
    }
    let baseMs = base?.medianMs ?? NaN;
    if (r.case === 'population' && base?.subjects) baseMs = base.medianMs * (10_000 / base.subjects);
    const ratio = r.failed || !Number.isFinite(baseMs) ? '—' : (ms / baseMs).toFixed(ms / baseMs >= 10 ? 0 : 2);
    const what = `${r.tool} ${r.method}${r.failed ? ` — FAILED: ${r.failed}` : ''}${r.note ? ` (${r.note})` : ''}`;
    lines.push(
      `| ${r.workload} ${r.case} | ${what} | ${r.failed ? '—' : msText} | ${r.failed ? '—' : fmtN(evals)} | ${r.failed ? '—' : fmtE(r.maxError.rel)} | ${r.failed ? '—' : fmtE(r.maxError.tol)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

function baseline(): string {
  const out = [
    'Solves per second (immunopd, compiled model reused; simulate() also validates and compiles each call):',
    '',
    '```',
  ];
  for (const [kase, label, make] of [
    ['kp98', 'KP98 1000 days daily', w1Scenario],
    ['checkpoint', '6-state 18-dose scenario', w2Scenario],
  ] as const) {
    for (const r of rows.filter((x) => x.case === kase && x.tool === 'immunopd' && !x.failed)) {
      out.push(
        `  ${label.padEnd(26)} ${r.method.padEnd(24)} ${(1000 / r.medianMs).toFixed(0).padStart(7)} solves/s  ${fmtN(r.rhsEvaluations).padStart(7)} RHS evals`,
      );
    }
    const b = immunopdBaseline(kase);
    if (b) {
      const m = b.method.split(' ')[0] as Method;
      try {
        const { ms } = timeIt(() => simulate(make(m)), repeats);
        out.push(
          `  ${label.padEnd(26)} ${`simulate() ${m}`.padEnd(24)} ${(1000 / ms).toFixed(0).padStart(7)} solves/s  (incl. validation + model compilation)`,
        );
      } catch (e) {
        out.push(`  ${label}: simulate() failed: ${errMsg(e)}`);
      }
    }
  }
  out.push('```');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
/** Runs one of the bench's own scripts (bench/<file>) under its heading, its output straight through; its exit status. */
function runBenchScript(title: string, file: string, args: string[]): number | null {
  console.log(`\n## ${title}\n`);
  return spawnSync(process.execPath, [path.join(ROOT, 'src', 'cli', 'run-ts.mjs'), path.join(HERE, file), ...args], {
    stdio: 'inherit',
  }).status;
}

async function main() {
  const started = Date.now();
  console.error(
    `immunopd bench: repeats ${repeats}, peers [${peers.join(', ') || 'none'}], methods [${methods.join(', ')}]`,
  );
  runScenarioWorkload('W1', 'kp98', w1Scenario);
  runScenarioWorkload('W2', 'checkpoint', w2Scenario);
  await runYardstick();
  runStiff();
  await runW3();
  runCDopri5();
  runPeers();
  if (!flag('--no-startup')) runStartup();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.release()}; load average at the end ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')} (the machine is shared)`;
  console.log(`\n## immunopd bench — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n`);
  console.log(
    `Machine: ${machine}. Command: \`npm run bench -- ${argv.join(' ')}\`. immunopd repeats ${repeats}, peers ${peerRepeats} (median).`,
  );
  console.log(
    'Tolerances as in bench/workloads.ts. Errors against bench/reference (SciPy DOP853/Radau at rtol 1e-12..1e-13), over all output rows and states: ' +
      'max rel. error = max |y − ref| / |ref| where |ref| ≥ atol; max error / tol = max |y − ref| / (atol + rtol·|ref|) (1 = at the requested tolerance). ' +
      'Ratio = row time / immunopd time (auto, else its fastest working method; W3: the faster immunopd row) on the same workload: > 1 means immunopd is faster. ' +
      'W3 times are per 10,000 subjects, scaled linearly when a tool ran fewer; W3 error is over the first 100 subjects at days 0, 28, …, 364, 365.\n',
  );
  console.log(table());
  console.log('');
  console.log(`${w3Table()}\n`);
  if (startupRows.length) console.log(`${startupTable()}\n`);
  console.log(baseline());
  if (notes.length) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (jsonOut)
    writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), machine, argv, rows, notes }, null, 1));
  // W5, the fit workload, has its own script (bench/fit.ts); run it too unless --no-fit.
  if (!flag('--no-fit')) {
    const fitArgs = [
      '--repeats',
      quick ? '2' : '5',
      '--peers',
      peers.some((p) => p === 'scipy' || p === 'desolve')
        ? ['scipy', 'r'].filter((p) => peers.includes(p === 'r' ? 'desolve' : p)).join(',') || 'none'
        : 'none',
    ];
    const status = runBenchScript('W5 fit', 'fit.ts', fitArgs);
    if (status !== 0) notes.push(`bench/fit.ts exited with ${status}`);
  }
  // The population fit (FOCE-I on Theoph beside R's nlme) has its own script too (bench/nlme.ts); --no-nlme skips it.
  if (!flag('--no-nlme')) {
    runBenchScript('Population fit (FOCE-I vs nlme)', 'nlme.ts', [
      '--repeats',
      quick ? '2' : '5',
      '--peers',
      peers.includes('desolve') ? 'r' : 'none',
    ]);
  }
  // A 100,000-subject population job through Redis with two local immunopd workers (bench/jobs-redis.ts).
  if (!flag('--no-redis')) {
    runBenchScript('Population job on Redis, two immunopd workers', 'jobs-redis.ts', [
      '--subjects',
      quick ? '10000' : '100000',
    ]);
  }
}

await main();
void W2_DOSES;
