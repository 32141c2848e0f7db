import { runLocal } from '../src/jobs/local.ts';
for (const n of [2000, 20000]) {
  const request: any = { model: 'tgi-gompertz', times: { start: 0, end: 60, step: 10 }, population: { n, seed: 7, omega: Object.fromEntries(process.argv.slice(2).map((k) => [k, 0.3])) } };
  const t0 = performance.now();
  try { const r = await runLocal('population', request) as any;
  console.log((performance.now() - t0).toFixed(0), 'ms for', n, r.stats.solved); } catch (e) { console.log(String(e)); }
}
