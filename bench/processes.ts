// Child processes for the benchmarks and the tests that start real servers (fuzz, load, the Redis job test
// and bench): a free loopback port, a process started and awaited until its output says it is ready, and a
// process's resident memory from /proc. One copy, shared by bench/ and tests/.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Start a process and resolve when its output (stdout or stderr) matches `ready`; reject if it exits first or after `timeoutMs`. */
export function startUntil(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`${cmd} ${args.join(' ')} did not start: ${out.slice(-500)}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(p);
      }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code}): ${out.slice(-500)}`));
    });
  });
}

/** Resident set size of a process in MB (Linux /proc), NaN when it cannot be read. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system, ms) of each thread of a process, by thread id, from /proc (empty where there is no /proc). */
export function threadCpuMs(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  for (const tid of tids) {
    try {
      // Fields after the command name "(...)": state is the 1st, utime the 12th, stime the 13th.
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * tick);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/** Per-thread CPU spent between two threadCpuMs samples, ms (threads new in `after` count from zero). */
export function cpuDelta(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [tid, ms] of after) d.set(tid, ms - (before.get(tid) ?? 0));
  return d;
}
