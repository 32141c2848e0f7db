// The load test's clients (bench/load.ts runs this in its own process, so the clients never share an event
// loop with the in-process measurement or the server). One phase: `clients` cheap clients loop a POST of the
// typical simulate, beside `heavy` clients looping heavy analyses (even ones POST /api/population, odd ones
// submit a population job and poll it). Light and fair: one keep-alive http.Agent, bodies are counted, not
// decoded or parsed (status and Content-Length are checked); only the few job-status replies are parsed.
// Input: one JSON argument (PhaseConfig); output: one JSON line on stdout (PhaseResult).
import { Agent, request } from 'node:http';

export interface PhaseConfig {
  base: string;
  seconds: number;
  clients: number;
  heavy: number;
  cheapBody: unknown;
  heavyBody: unknown;
  /** Accept-Encoding of the cheap requests ('gzip' as browsers and fetch send it, or 'identity'). */
  encoding: 'gzip' | 'identity';
}

export interface PhaseStats { requests: number; errors: number; bytes: number; latencies: number[]; statuses: Record<string, number> }
export interface PhaseResult { cheap: PhaseStats; heavy: PhaseStats; cheapSeconds: number }

const newStats = (): PhaseStats => ({ requests: 0, errors: 0, bytes: 0, latencies: [], statuses: {} });

interface Answer { status: string; bytes: number; text?: string }

/** One request on the keep-alive agent; the body is counted (or kept as text when `keep`), never decoded. */
function send(agent: Agent, url: string, method: string, payload: string | undefined, headers: Record<string, string>, keep: boolean, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, headers: payload === undefined ? headers : { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) }, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) chunks.push(c);
      });
      res.on('end', () => {
        const declared = res.headers['content-length'];
        const status = declared !== undefined && Number(declared) !== bytes ? 'short body' : String(res.statusCode);
        resolve({ status, bytes, text: keep ? Buffer.concat(chunks).toString('utf8') : undefined });
      });
      res.on('error', (e: Error & { code?: string }) => resolve({ status: `network ${e.code ?? e.name}`, bytes }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: Error & { code?: string }) => resolve({ status: `network ${e.code ?? e.name}`, bytes: 0 }));
    req.end(payload);
  });
}

function record(st: PhaseStats, a: Answer, t0: number, ok: boolean) {
  st.requests++;
  st.bytes += a.bytes;
  st.statuses[a.status] = (st.statuses[a.status] ?? 0) + 1;
  st.latencies.push(performance.now() - t0);
  if (!ok) st.errors++;
}

async function cheapClient(agent: Agent, c: PhaseConfig, until: number, st: PhaseStats) {
  const payload = JSON.stringify(c.cheapBody);
  const headers = { 'Accept-Encoding': c.encoding };
  while (Date.now() < until) {
    const t0 = performance.now();
    const a = await send(agent, `${c.base}/api/simulate`, 'POST', payload, headers, false, until - Date.now() + 30_000);
    record(st, a, t0, /^2\d\d$/.test(a.status));
  }
}

async function heavyPopulationClient(agent: Agent, c: PhaseConfig, until: number, st: PhaseStats) {
  const payload = JSON.stringify(c.heavyBody);
  while (Date.now() < until) {
    const t0 = performance.now();
    const a = await send(agent, `${c.base}/api/population`, 'POST', payload, { 'Accept-Encoding': 'gzip' }, false, until - Date.now() + 60_000);
    record(st, a, t0, /^2\d\d$/.test(a.status) || a.status === '503');
    if (a.status === '503') await new Promise((r) => setTimeout(r, 1000)); // honour Retry-After
  }
}

async function heavyJobClient(agent: Agent, c: PhaseConfig, until: number, st: PhaseStats) {
  const payload = JSON.stringify({ kind: 'population', request: c.heavyBody });
  while (Date.now() < until) {
    const t0 = performance.now();
    let status = 'network';
    let bytes = 0;
    const sub = await send(agent, `${c.base}/api/jobs`, 'POST', payload, {}, true, 30_000);
    if (/^2\d\d$/.test(sub.status)) {
      const id = (JSON.parse(sub.text!) as { id: string }).id;
      for (;;) {
        const g = await send(agent, `${c.base}/api/jobs/${id}`, 'GET', undefined, {}, true, 30_000);
        const j = g.text && /^2\d\d$/.test(g.status) ? (JSON.parse(g.text) as { status: string }) : { status: g.status };
        bytes += g.bytes;
        if (j.status !== 'queued' && j.status !== 'running') {
          status = j.status === 'succeeded' ? '200' : j.status;
          break;
        }
        if (Date.now() > until + 60_000) {
          await send(agent, `${c.base}/api/jobs/${id}`, 'DELETE', undefined, {}, false, 30_000);
          status = 'cancelled-at-end';
          break;
        }
        await new Promise((res) => setTimeout(res, 250));
      }
    } else status = sub.status;
    record(st, { status, bytes }, t0, status === '200' || status === 'cancelled-at-end');
  }
}

export async function runPhase(c: PhaseConfig): Promise<PhaseResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: c.clients + 2 * c.heavy + 2 });
  const until = Date.now() + c.seconds * 1000;
  const cheap = newStats();
  const heavy = newStats();
  const t0 = performance.now();
  const heavyRuns = Array.from({ length: c.heavy }, (_, i) => (i % 2 === 0 ? heavyPopulationClient : heavyJobClient)(agent, c, until, heavy));
  await Promise.all(Array.from({ length: c.clients }, () => cheapClient(agent, c, until, cheap)));
  const cheapSeconds = (performance.now() - t0) / 1000;
  await Promise.all(heavyRuns);
  agent.destroy();
  return { cheap, heavy, cheapSeconds };
}

if (process.argv[2]) {
  const result = await runPhase(JSON.parse(process.argv[2]) as PhaseConfig);
  process.stdout.write(JSON.stringify(result) + '\n');
}
