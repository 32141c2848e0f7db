// The fuzzer (bench/fuzz.ts) as a CI test: 2,000 seeded hostile and malformed requests against a server
// in a child process; no 5xx, every error JSON naming a field, no stack trace or path, server alive, RSS
// bounded. `npm run fuzz -- --count 20000` runs the long version on demand.
import { describe, it, expect } from 'vitest';
import { runFuzz } from '../bench/fuzz.ts';

describe('fuzz', () => {
  it('2,000 hostile requests: no 5xx, every error names a field, no leak, server alive, RSS bounded', async () => {
    // As many clients as workers, so no request waits for a worker (queueing behind heavy work is the
    // scheduler's matter, measured by `npm run load`), and one heavy valid request every 1,000: the run
    // stays near a minute on a 2-core machine.
    const report = await runFuzz({
      count: 2000,
      seed: 1,
      concurrency: 2,
      workers: 2,
      heavyEvery: 1000,
      maxRssMb: 2048,
      timeLimitS: 170,
    });
    expect(report.failures, JSON.stringify(report.failures.slice(0, 5), null, 1)).toEqual([]);
    expect(report.sent).toBe(2000);
    expect(report.alive).toBe(true);
    expect(Object.keys(report.byStatus).filter((s) => Number(s) >= 500)).toEqual([]);
    // Every family of hostile input was sent.
    for (const f of [
      'get',
      'malformed-json',
      'content-type',
      'deep-nesting',
      'prototype-key',
      'prototype-value',
      'hostile-expression',
      'huge',
      'wrong-type',
      'oversize-body',
      'oversize-doses',
      'oversize-model',
    ]) {
      expect(report.byFamily[f] ?? 0, f).toBeGreaterThan(0);
    }
  }, 180_000);
});
