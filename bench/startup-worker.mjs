// Part of `npm run bench` (start-up): time from starting a population worker thread (compiled dist/, the
// same startWorker path as the server and populations) to its 'ready' message (modules loaded, scenario
// validated and model compiled). Prints the milliseconds on stdout.
const t0 = performance.now();
const { startWorker } = await import('../dist/src/workers/start.js');
const population = new URL('../dist/src/analysis/population.js', import.meta.url);
const scenario = { model: 'immunotherapy', times: { start: 0, end: 30, step: 1 } };
const w = startWorker(population, { kind: 'immunopd-population', scenario });
w.on('message', (m) => {
  if (m.type !== 'ready') throw new Error(`worker: ${JSON.stringify(m)}`);
  console.log((performance.now() - t0).toFixed(1));
  void w.terminate();
});
