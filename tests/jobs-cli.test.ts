// `immunopd population` runs the population job on the embedded pool: the same summary as in-process, quiet
// when its output is not a terminal; the progress bar itself (a fake terminal) rewrites one line in place.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLocal } from '../src/jobs/local.ts';
import { progressBar } from '../src/cli/progress.ts';

const BIN = fileURLToPath(new URL('../src/cli/bin.mjs', import.meta.url));
const request = {
  model: 'tgi-gompertz',
  times: { start: 0, end: 60, step: 20 },
  population: { n: 400, seed: 5, omega: { r: 0.3 } },
};

describe('immunopd population', () => {
  it('prints the job result (the in-process summary) and nothing on stderr when piped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'immunopd-pop-'));
    const file = path.join(dir, 'pop.json');
    writeFileSync(file, JSON.stringify(request));
    const r = spawnSync(process.execPath, [BIN, 'population', file, '--threads', '1'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    const local = (await runLocal('population', request)) as any;
    expect(out.summary).toEqual(local.summary);
    writeFileSync(file, JSON.stringify({ ...request, population: { ...request.population, omega: { nope: 0.3 } } }));
    const bad = spawnSync(process.execPath, [BIN, 'population', file, '--threads', '1'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error: population\.omega\.nope: 'nope' is not a parameter/);
  }, 240_000); // two CLI runs, each starting a process and a thread

  it('the progress bar draws on a terminal only', () => {
    const written: string[] = [];
    const tty = { isTTY: true, columns: 80, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const bar = progressBar('population', tty);
    bar.update(0, 10);
    bar.update(10, 10);
    bar.stop();
    expect(written[0]).toMatch(/^\rpopulation \[-+\] {3}0% 0\/10/);
    expect(written[1]).toMatch(/^\rpopulation \[#+\] 100% 10\/10/);
    expect(written.at(-1)).toBe('\n');
    const piped: string[] = [];
    const quiet = progressBar('population', {
      isTTY: false,
      write: (s: string) => piped.push(s),
    } as unknown as NodeJS.WriteStream);
    quiet.update(5, 10);
    quiet.stop();
    expect(piped).toEqual([]);
  });
});
