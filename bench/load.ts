// `npm run load`: a bounded load test of the HTTP API on loopback. Starts `immunopd serve` on a free port
// (its own process, so its RSS is measured apart from the clients), then:
//   1. `--clients` (default 50) concurrent clients POST a typical /api/simulate for `--seconds` (default 30);
//   2. the same, mixed with `--heavy` (default 6) clients looping heavy analyses (virtual populations of
//      `--heavy-n` subjects through POST /api/population, and as jobs through POST /api/jobs).
// Prints req/s, p50/p95/p99 latency, errors (non-2xx other than a heavy request's 503, and network errors)
// and the server's peak RSS, beside the in-process rate of the same simulate measured here in the same run.
// Bounded: at most 200 clients, 120 s a phase; loopback only.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { simulate } from '../src/simulate.ts';
import { rssMb } from './processes.ts';

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

const TYPICAL = { model: 'immunotherapy', therapies: ['pembrolizumab-200mg-q3w'], times: { start: 0, end: 180, step: 1 } };
const HEAVY_REQ = { model: 'immunotherapy', therapies: ['pembrolizumab-200mg-q3w'], times: { start: 0, end: 180, step: 30 }, population: { n: HEAVY_N, seed: 1, omega: { r: 0.3, kKill: 0.3 } } };
const BIN = fileURLToPath(new URL('../src/cli/bin.mjs', import.meta.url));

const pct = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);

interface PhaseStats { requests: number; errors: number; latencies: number[]; statuses: Record<string, number> }
const newStats = (): PhaseStats => ({ requests: 0, errors: 0, latencies: [], statuses: {} });

async function client(url: string, body: unknown, until: number, st: PhaseStats, heavy: boolean) {
  const payload = JSON.stringify(body);
  while (Date.now() < until) {
    const t0 = performance.now();
    let status = 'network';
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: payload, signal: AbortSignal.timeout(Math.max(1000, until - Date.now() + 30_000)) });
      await r.arrayBuffer();
      status = String(r.status);
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      status = `network ${err.cause?.code ?? err.name}`;
    }
    st.requests++;
    st.statuses[status] = (st.statuses[status] ?? 0) + 1;
    st.latencies.push(performance.now() - t0);
    const ok = /^2\d\d$/.test(status) || (heavy && status === '503');
    if (!ok) st.errors++;
    if (heavy && status === '503') await new Promise((r) => setTimeout(r, 1000)); // honour Retry-After
  }
}

async function heavyJobClient(base: string, until: number, st: PhaseStats) {
  while (Date.now() < until) {
    const t0 = performance.now();
    let status = 'network';
    try {
      const r = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ kind: 'population', request: HEAVY_REQ }) });
      const { id } = (await r.json()) as { id: string };
      for (;;) {
        const j = (await (await fetch(`${base}/api/jobs/${id}`)).json()) as { status: string };
        if (j.status !== 'queued' && j.status !== 'running') {
          status = j.status === 'succeeded' ? '200' : j.status;
          break;
        }
        if (Date.now() > until + 60_000) {
          await fetch(`${base}/api/jobs/${id}`, { method: 'DELETE' });
          status = 'cancelled-at-end';
          break;
        }
        await new Promise((res) => setTimeout(res, 250));
      }
    } catch {
      /* network */
    }
    st.requests++;
    st.statuses[status] = (st.statuses[status] ?? 0) + 1;
    st.latencies.push(performance.now() - t0);
    if (status !== '200' && status !== 'cancelled-at-end') st.errors++;
  }
}

function inProcessRate(seconds: number): number {
  for (let i = 0; i < 20; i++) simulate(TYPICAL); // warm the JIT
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    simulate(TYPICAL);
    n++;
  }
  return n / seconds;
}

async function main() {
  const server = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env: { ...process.env, IMMUNOPD_LOG: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
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
    // Warm the server's threads (a first solve is much slower than a warm one).
    await Promise.all(Array.from({ length: 4 * workers }, () => fetch(`${base}/api/simulate`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(TYPICAL) }).then((r) => r.arrayBuffer())));
    const inProc = inProcessRate(Math.min(5, Math.max(1, SECONDS / 6)));

    const rows: string[] = [];
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(server.pid!))), 200);
    const phase = async (label: string, heavy: number) => {
      peak = rssMb(server.pid!);
      const until = Date.now() + SECONDS * 1000;
      const cheap = newStats();
      const hv = newStats();
      const t0 = performance.now();
      const running = [
        ...Array.from({ length: CLIENTS }, () => client(`${base}/api/simulate`, TYPICAL, until, cheap, false)),
        ...Array.from({ length: heavy }, (_, i) => (i % 2 === 0 ? client(`${base}/api/population`, HEAVY_REQ, until, hv, true) : heavyJobClient(base, until, hv))),
      ];
      await Promise.all(running.slice(0, CLIENTS));
      const cheapSeconds = (performance.now() - t0) / 1000;
      await Promise.all(running.slice(CLIENTS));
      const lat = cheap.latencies.sort((a, b) => a - b);
      rows.push(`| ${label} | ${CLIENTS}${heavy ? ` + ${heavy} heavy` : ''} | ${(cheap.requests / cheapSeconds).toFixed(1)} | ${pct(lat, 0.5).toFixed(0)} | ${pct(lat, 0.95).toFixed(0)} | ${pct(lat, 0.99).toFixed(0)} | ${cheap.errors}${cheap.errors ? ` (${Object.entries(cheap.statuses).filter(([k]) => !/^2\d\d$/.test(k)).map(([k, v]) => `${v} × ${k}`).join(', ')})` : ''} | ${heavy ? `${hv.statuses['200'] ?? 0} done, ${hv.statuses['503'] ?? 0} × 503, ${hv.errors} errors` : '-'} | ${peak.toFixed(0)} |`);
      return cheap.requests / cheapSeconds;
    };
    const alone = await phase('simulate alone', 0);
    const mixed = HEAVY ? await phase('simulate + heavy', HEAVY) : NaN;
    clearInterval(sampler);
    console.log(`\nimmunopd load test: ${new Date().toISOString().slice(0, 10)}, ${SECONDS} s a phase, loopback, server threads: ${workers}, node ${process.version}`);
    console.log(`typical request: POST /api/simulate ${JSON.stringify(TYPICAL)}; heavy: populations of ${HEAVY_N} subjects (half POST /api/population, half POST /api/jobs)\n`);
    console.log('| phase | clients | cheap req/s | p50 ms | p95 ms | p99 ms | cheap errors | heavy | server RSS peak MB |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) console.log(r);
    console.log(`\nin-process rate of the same simulate (this process, one thread, warm): ${inProc.toFixed(1)}/s; x ${workers} threads = ${(inProc * workers).toFixed(1)}/s`);
    console.log(`HTTP alone / (in-process x threads) = ${(100 * alone / (inProc * workers)).toFixed(0)} %${HEAVY ? `; with heavy work the cheap rate keeps ${(100 * mixed / alone).toFixed(0)} % of its alone rate` : ''}`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
}

await main();
