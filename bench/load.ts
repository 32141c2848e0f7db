// `npm run load`: a bounded load test of the HTTP API on loopback. Starts `immunopd serve` on a free port
// (its own process, so its RSS is measured apart from the clients), then, with the clients in a third process
// (bench/load-clients.ts: keep-alive http.Agent, bodies counted, not decoded):
//   1. `--clients` (default 50) concurrent clients POST a typical /api/simulate for `--seconds` (default 30);
//   2. the same, mixed with `--heavy` (default 6) clients looping heavy analyses (virtual populations of
//      `--heavy-n` subjects through POST /api/population, and as jobs through POST /api/jobs).
// Prints req/s, p50/p95/p99 latency, errors (non-2xx other than a heavy request's 503, network errors, a body
// shorter than its Content-Length) and the server's peak RSS, beside the in-process rate of the same
// simulate measured here, in this process (a worker thread with the pool threads' heap limits), just before and
// just after the first phase: the very call a server thread makes for that request (run-task.ts: solve, result assembly, JSON, and gzip when the
// clients accept it, `--encoding`, default gzip), warm, one thread. The ratio reported is
// HTTP req/s ÷ (in-process rate × server threads).
// Bounded: at most 200 clients, 120 s a phase; loopback only.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { poolThreadLimits } from '../src/jobs/pool.ts';
import { startWorker } from '../src/workers/start.ts';
import type { Task } from '../src/jobs/tasks.ts';
import { Scenario } from '../src/scenario/schema.ts';
import { SERVER_LIMITS } from '../server/schemas.ts';
import type { PhaseConfig, PhaseResult } from './load-clients.ts';
import { rssMb, threadCpuMs, cpuDelta } from './processes.ts';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number, max: number) => {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v < 0 || v > max) throw new Error(`${name} must be a number in 0..${max}`);
  return v;
};
const CLIENTS = opt('--clients', 50, 200);
const SECONDS = opt('--seconds', 30, 120);
const HEAVY = opt('--heavy', 6, 50);
const HEAVY_N = opt('--heavy-n', 2000, 5000);
const ei = argv.indexOf('--encoding');
const ENCODING = ei >= 0 ? argv[ei + 1] : 'gzip';
if (ENCODING !== 'gzip' && ENCODING !== 'identity') throw new Error("--encoding must be 'gzip' or 'identity'");

const TYPICAL = {
  model: 'immunotherapy',
  therapies: ['pembrolizumab-200mg-q3w'],
  times: { start: 0, end: 180, step: 1 },
};
const HEAVY_REQ = {
  model: 'immunotherapy',
  therapies: ['pembrolizumab-200mg-q3w'],
  times: { start: 0, end: 180, step: 30 },
  population: { n: HEAVY_N, seed: 1, omega: { r: 0.3, kKill: 0.3 } },
};
const BIN = fileURLToPath(new URL('../src/cli/bin.mjs', import.meta.url));
const CLIENTS_TS = fileURLToPath(new URL('./load-clients.ts', import.meta.url));
const RUN_TS = fileURLToPath(new URL('../src/cli/run-ts.mjs', import.meta.url));

const pct = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;

/** The task a server thread runs for the typical request (server/routes/simulate.ts builds the same). */
function typicalTask(): Task {
  const parsed = Scenario.parse(TYPICAL);
  const scenario = {
    ...parsed,
    solver: { ...parsed.solver, timeBudgetMs: Math.min(parsed.solver.timeBudgetMs, SERVER_LIMITS.requestBudgetMs) },
  };
  return {
    type: 'simulate',
    scenario,
    format: 'json',
    maxValues: SERVER_LIMITS.outputValues,
    encoding: ENCODING as 'gzip' | 'identity',
  };
}

/** CPU of the in-process calls, ms per call: the calling thread and the other threads (V8's GC and compiler helpers). */
let inProcCpu = { thread: 0, helpers: 0, calls: 0 };

/**
 * Calls per second of the thread's call for the typical request, warm, on a worker thread of this process
 * started with the pool threads' heap limits (bench/load-inprocess.ts). Its thread's CPU is the busiest
 * thread's in the interval (this main thread only waits).
 */
async function inProcessRate(seconds: number): Promise<number> {
  const worker = startWorker(new URL('./load-inprocess.ts', import.meta.url), undefined, {
    resourceLimits: poolThreadLimits(),
  });
  try {
    // The thread's next message ({ started } after its warm-up, then { calls }, or { error }); its crash rejects.
    const next = () =>
      new Promise<{ started?: boolean; calls?: number; error?: string }>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        worker.once('error', onError);
        worker.once('message', (m) => {
          worker.off('error', onError);
          resolve(m);
        });
      });
    const firstAnswer = next();
    worker.postMessage({ task: typicalTask(), warm: 200, seconds });
    const started = await firstAnswer;
    if (started.error) throw new Error(started.error);
    const cpu0 = threadCpuMs('self');
    const done = await next();
    if (done.error || done.calls === undefined) throw new Error(done.error ?? 'no answer from the in-process thread');
    const d = cpuDelta(cpu0, threadCpuMs('self'));
    const own = Math.max(...d.values());
    const all = [...d.values()].reduce((x, y) => x + y, 0);
    inProcCpu = {
      thread: inProcCpu.thread + own,
      helpers: inProcCpu.helpers + all - own,
      calls: inProcCpu.calls + done.calls,
    };
    return done.calls / seconds;
  } finally {
    await worker.terminate();
  }
}

/**
 * Where a request's CPU goes (from /proc, Linux): the server's main thread (HTTP, express, validation), its
 * solver threads (taken as the `workers` busiest other threads), its other threads (V8's GC and compiler
 * helpers, libuv) and the clients' process.
 */
function cpuPerRequest(
  d: Map<string, number>,
  mainTid: string,
  workers: number,
  clientMs: number,
  requests: number,
): string {
  if (!d.size || !requests) return 'not measured (no /proc)';
  const main = d.get(mainTid) ?? 0;
  const others = [...d]
    .filter(([tid]) => tid !== mainTid)
    .map(([, ms]) => ms)
    .sort((a, b) => b - a);
  const solver = others.slice(0, workers).reduce((a, b) => a + b, 0);
  const rest = others.slice(workers).reduce((a, b) => a + b, 0);
  const per = (ms: number) => (ms / requests).toFixed(2);
  return `server main thread ${per(main)}, solver threads ${per(solver)}, other server threads ${per(rest)}, clients ${per(clientMs)}, total ${per(main + solver + rest + clientMs)}`;
}

/** One phase in the clients' own process (bench/load-clients.ts). */
function clientsPhase(config: PhaseConfig): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_TS, CLIENTS_TS, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!) as PhaseResult)
        : reject(new Error(`the load clients exited with ${code}`)),
    );
  });
}

async function main() {
  const loadBefore = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    env: { ...process.env, IMMUNOPD_LOG: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  server.stdout!.on('data', (d) => (out += d));
  try {
    while (!/serving the API and web client at (http:\S+?)\//.test(out)) {
      if (server.exitCode !== null) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    const base = /at (http:\S+?)\/ /.exec(out)![1];
    let workers = 0;
    for (;;) {
      const h = (await (await fetch(`${base}/healthz`)).json()) as { workers: number; ready: number };
      workers = h.workers;
      if (h.ready === h.workers) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Warm the server's threads (a first solve is much slower than a warm one; the JIT needs a few hundred).
    for (let i = 0; i < 50; i++)
      await Promise.all(
        Array.from({ length: 2 * workers }, () =>
          fetch(`${base}/api/simulate`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(TYPICAL),
          }).then((r) => r.arrayBuffer()),
        ),
      );
    const inProcSeconds = Math.min(5, Math.max(1, SECONDS / 6));
    const inProcBefore = await inProcessRate(inProcSeconds);

    const rows: string[] = [];
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 200);
    let cpuLine = '';
    const phase = async (label: string, heavy: number) => {
      peak = rssMb(server.pid!);
      const cpu0 = threadCpuMs(server.pid!);
      const {
        cheap,
        heavy: hv,
        cheapSeconds,
        cpuMs,
      } = await clientsPhase({
        base,
        seconds: SECONDS,
        clients: CLIENTS,
        heavy,
        cheapBody: TYPICAL,
        heavyBody: HEAVY_REQ,
        encoding: ENCODING as 'gzip' | 'identity',
      });
      if (!heavy)
        cpuLine = cpuPerRequest(
          cpuDelta(cpu0, threadCpuMs(server.pid!)),
          String(server.pid),
          workers,
          cpuMs,
          cheap.requests,
        );
      const lat = cheap.latencies.sort((a, b) => a - b);
      rows.push(
        `| ${label} | ${CLIENTS}${heavy ? ` + ${heavy} heavy` : ''} | ${(cheap.requests / cheapSeconds).toFixed(1)} | ${pct(lat, 0.5).toFixed(0)} | ${pct(lat, 0.95).toFixed(0)} | ${pct(lat, 0.99).toFixed(0)} | ${cheap.errors}${
          cheap.errors
            ? ` (${Object.entries(cheap.statuses)
                .filter(([k]) => !/^2\d\d$/.test(k))
                .map(([k, v]) => `${v} × ${k}`)
                .join(', ')})`
            : ''
        } | ${heavy ? `${hv.statuses['200'] ?? 0} done, ${hv.statuses['503'] ?? 0} × 503, ${hv.errors} errors` : '-'} | ${peak.toFixed(0)} |`,
      );
      return { rate: cheap.requests / cheapSeconds, bytesPerRequest: cheap.bytes / Math.max(1, cheap.requests) };
    };
    const alone = await phase('simulate alone', 0);
    const inProcAfter = await inProcessRate(inProcSeconds);
    const mixed = HEAVY ? await phase('simulate + heavy', HEAVY) : undefined;
    clearInterval(sampler);
    const inProc = (inProcBefore + inProcAfter) / 2;
    console.log(
      `\nimmunopd load test: ${new Date().toISOString().slice(0, 16)}Z, ${SECONDS} s a phase, loopback, server threads: ${workers}, node ${process.version}, load average before: ${loadBefore}`,
    );
    console.log(
      `typical request: POST /api/simulate ${JSON.stringify(TYPICAL)}, Accept-Encoding: ${ENCODING} (${(alone.bytesPerRequest / 1024).toFixed(1)} KB a response); heavy: populations of ${HEAVY_N} subjects (half POST /api/population, half POST /api/jobs)\n`,
    );
    console.log(
      '| phase | clients | cheap req/s | p50 ms | p95 ms | p99 ms | cheap errors | heavy | server RSS peak MB |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) console.log(r);
    console.log(
      `\nin-process rate of the thread's call for the same request (a worker thread of this process with the pool threads' heap limits, warm; solve + result + JSON${ENCODING === 'gzip' ? ' + gzip' : ''}): ${inProcBefore.toFixed(1)}/s before the first phase, ${inProcAfter.toFixed(1)}/s after it, mean ${inProc.toFixed(1)}/s; x ${workers} threads = ${(inProc * workers).toFixed(1)}/s`,
    );
    if (cpuLine)
      console.log(
        `CPU per request in the first phase, ms: ${cpuLine}; the in-process call: ${(inProcCpu.thread / inProcCpu.calls).toFixed(2)} on its thread + ${(inProcCpu.helpers / inProcCpu.calls).toFixed(2)} on V8's helper threads`,
      );
    console.log(
      `HTTP alone / (in-process x threads) = ${alone.rate.toFixed(1)} / ${(inProc * workers).toFixed(1)} = ${((100 * alone.rate) / (inProc * workers)).toFixed(0)} %${mixed ? `; with heavy work the cheap rate keeps ${((100 * mixed.rate) / alone.rate).toFixed(0)} % of its alone rate` : ''}`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

await main();
