// Part of `npm run bench` (start-up): time from starting a solver thread of the job pool (compiled dist/, the
// same startWorker path as the server, the CLI and `immunopd worker`) to its 'ready' message (the library
// loaded and the JIT warmed by its first small solve). Prints the milliseconds on stdout.
const t0 = performance.now();
const { startWorker } = await import('../dist/src/workers/start.js');
const thread = new URL('../dist/src/jobs/thread.js', import.meta.url);
const w = startWorker(thread, { cancel: new SharedArrayBuffer(4) });
w.on('message', (m) => {
  if (!m || m.ready !== true) return;
  console.log((performance.now() - t0).toFixed(1));
  void w.terminate();
});
w.on('error', (e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
