// The load test's clients (bench/load.ts runs this in its own process, so the clients never share an event
// loop with the in-process measurement or the server). One phase: `clients` cheap clients loop a POST of the
// typical simulate, beside `heavy` clients looping heavy analyses (even ones POST /api/population, odd ones
// submit a population job and poll it). Light and fair: cheap clients on raw keep-alive connections
// (RawConnection), heavy ones on a keep-alive http.Agent; bodies are counted, not decoded or parsed (status
// and Content-Length are checked); only the few job-status replies are parsed.
// Input: one JSON argument (PhaseConfig); output: one JSON line on stdout (PhaseResult).
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

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

export interface PhaseStats {
  requests: number;
  errors: number;
  bytes: number;
  latencies: number[];
  statuses: Record<string, number>;
}
export interface PhaseResult {
  cheap: PhaseStats;
  heavy: PhaseStats;
  cheapSeconds: number;
  /** CPU of this process during the cheap clients' run (ms). */ cpuMs: number;
}

const newStats = (): PhaseStats => ({ requests: 0, errors: 0, bytes: 0, latencies: [], statuses: {} });

interface Answer {
  status: string;
  bytes: number;
  text?: string;
}

/** One request on the keep-alive agent; the body is counted (or kept as text when `keep`), never decoded. */
function send(
  agent: Agent,
  url: string,
  method: string,
  payload: string | undefined,
  headers: Record<string, string>,
  keep: boolean,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers:
          payload === undefined
            ? headers
            : { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) },
        timeout: timeoutMs,
      },
      (res) => {
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
      },
    );
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

/**
 * A cheap client: one keep-alive connection, one request at a time, on a raw socket. The answer is read
 * as HTTP/1.1 bytes: the status line and headers are parsed, the body is counted (Content-Length, or
 * chunked), never decoded. The lightest honest client: node's http client costs the load about a
 * millisecond a request on the shared cores, the server's own work being ~4 ms.
 */
async function cheapClient(c: PhaseConfig, until: number, st: PhaseStats) {
  const url = new URL(`${c.base}/api/simulate`);
  const payload = Buffer.from(JSON.stringify(c.cheapBody));
  const head = Buffer.from(
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept-Encoding: ${c.encoding}\r\nConnection: keep-alive\r\nContent-Length: ${payload.length}\r\n\r\n`,
  );
  const request = Buffer.concat([head, payload]);
  let conn: RawConnection | undefined;
  while (Date.now() < until) {
    const t0 = performance.now();
    conn ??= new RawConnection(url.hostname, Number(url.port));
    const a = await conn.exchange(request, until - Date.now() + 30_000);
    if (a.closed) {
      conn.destroy();
      conn = undefined;
    }
    record(st, a, t0, /^2\d\d$/.test(a.status));
  }
  conn?.destroy();
}

/** One HTTP/1.1 keep-alive connection that sends a request and counts the answer's bytes. */
class RawConnection {
  private socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiting?: (a: Answer & { closed: boolean }) => void;
  private failed?: string;

  constructor(host: string, port: number) {
    this.socket = connect({ host, port, noDelay: true });
    this.socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.parse();
    });
    const fail = (why: string) => {
      this.failed ??= why;
      this.waiting?.({ status: `network ${why}`, bytes: 0, closed: true });
      this.waiting = undefined;
    };
    this.socket.on('error', (e: Error & { code?: string }) => fail(e.code ?? e.name));
    this.socket.on('close', () => fail('closed'));
  }

  exchange(request: Buffer, timeoutMs: number): Promise<Answer & { closed: boolean }> {
    if (this.failed) return Promise.resolve({ status: `network ${this.failed}`, bytes: 0, closed: true });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve({ status: 'network TIMEOUT', bytes: 0, closed: true });
      }, timeoutMs);
      this.waiting = (a) => {
        clearTimeout(timer);
        resolve(a);
      };
      this.socket.write(request);
    });
  }

  /** A whole answer in the buffer: status, body length (Content-Length or chunked), keep-alive or not. */
  private parse() {
    if (!this.waiting) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const headText = this.buf.toString('latin1', 0, end);
    const status = headText.slice(9, 12);
    const length = /\r\ncontent-length: *(\d+)/i.exec(headText);
    const closed = /\r\nconnection: *close/i.test(headText);
    let bodyEnd: number;
    let bytes: number;
    if (length) {
      bytes = Number(length[1]);
      bodyEnd = end + 4 + bytes;
      if (this.buf.length < bodyEnd) return;
    } else if (/\r\ntransfer-encoding: *chunked/i.test(headText)) {
      // Chunk sizes, until the last (zero) chunk and its blank line.
      let at = end + 4;
      bytes = 0;
      for (;;) {
        const eol = this.buf.indexOf('\r\n', at);
        if (eol < 0) return;
        const size = parseInt(this.buf.toString('latin1', at, eol), 16);
        if (!Number.isFinite(size)) return this.finish({ status: 'bad chunk', bytes, closed: true }, this.buf.length);
        if (size === 0) {
          if (this.buf.length < eol + 4) return;
          bodyEnd = eol + 4;
          break;
        }
        if (this.buf.length < eol + 2 + size + 2) return;
        bytes += size;
        at = eol + 2 + size + 2;
      }
    } else return this.finish({ status: 'no length', bytes: 0, closed: true }, this.buf.length);
    this.finish({ status, bytes, closed }, bodyEnd);
  }

  private finish(a: Answer & { closed: boolean }, consumed: number) {
    this.buf = this.buf.subarray(consumed);
    const w = this.waiting;
    this.waiting = undefined;
    w?.(a);
  }

  destroy() {
    this.socket.destroy();
  }
}

async function heavyPopulationClient(agent: Agent, c: PhaseConfig, until: number, st: PhaseStats) {
  const payload = JSON.stringify(c.heavyBody);
  while (Date.now() < until) {
    const t0 = performance.now();
    const a = await send(
      agent,
      `${c.base}/api/population`,
      'POST',
      payload,
      { 'Accept-Encoding': 'gzip' },
      false,
      until - Date.now() + 60_000,
    );
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
        const j =
          g.text && /^2\d\d$/.test(g.status) ? (JSON.parse(g.text) as { status: string }) : { status: g.status };
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
  const cpu0 = process.cpuUsage();
  const heavyRuns = Array.from({ length: c.heavy }, (_, i) =>
    (i % 2 === 0 ? heavyPopulationClient : heavyJobClient)(agent, c, until, heavy),
  );
  await Promise.all(Array.from({ length: c.clients }, () => cheapClient(c, until, cheap)));
  const cheapSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await Promise.all(heavyRuns);
  agent.destroy();
  return { cheap, heavy, cheapSeconds, cpuMs: (cpu.user + cpu.system) / 1000 };
}

if (process.argv[2]) {
  const result = await runPhase(JSON.parse(process.argv[2]) as PhaseConfig);
  process.stdout.write(JSON.stringify(result) + '\n');
}
