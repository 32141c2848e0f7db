// Profiling aid for the W3 population: simulatePopulation from the compiled dist/ on the first N
// subjects of bench/reference/w3_etas.json, single thread, after a warm-up; prints ms/subject and RHS
// evaluations. `chunk` as 5th argument runs the job path instead (simulatePopulationChunk of the W3 request,
// as a pool thread does). Run under the profiler:
//   npm run build && node --cpu-prof --cpu-prof-dir=/tmp/w3prof src/cli/run-ts.mjs bench/w3-profile.ts 1000 auto 2 [chunk]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHECKPOINT, w2Scenario, w3Request } from './workloads.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 1000);
const method = (process.argv[3] ?? 'auto') as 'auto';
const { simulatePopulation } = await import(
  pathToFileURL(path.join(HERE, '..', 'dist', 'src', 'analysis', 'population.js')).href
);
const E = JSON.parse(readFileSync(path.join(HERE, 'reference', 'w3_etas.json'), 'utf8')) as {
  names: string[];
  etas: number[][];
};
const typical = Object.fromEntries(Object.entries(CHECKPOINT.parameters).map(([k, v]) => [k, v.value]));
const subjects = E.etas
  .slice(0, n)
  .map((eta) => ({ parameters: Object.fromEntries(E.names.map((k, j) => [k, typical[k] * Math.exp(eta[j])])) }));
if (process.argv[5] === 'chunk') {
  const { simulatePopulationChunk } = await import(
    pathToFileURL(path.join(HERE, '..', 'dist', 'src', 'analysis', 'population-request.js')).href
  );
  const request = w3Request(method, E, n);
  simulatePopulationChunk(request, 0, Math.min(n, 200), { backend: 'embedded', progress: () => {} });
  for (let r = 0; r < Number(process.argv[4] ?? 1); r++) {
    const t0 = performance.now();
    const part = simulatePopulationChunk(request, 0, n, { backend: 'embedded', progress: () => {} });
    const ms = performance.now() - t0;
    console.log(
      `chunk of ${n} subjects: ${(ms / n).toFixed(3)} ms/subject, ${(part.rhsEvaluations / n).toFixed(0)} RHS/subject, ${(part.steps / n).toFixed(0)} steps/subject, ${part.arms[0].failures.length} failed`,
    );
  }
  process.exit(0);
}
simulatePopulation({ scenario: w2Scenario(method), subjects: subjects.slice(0, 200), keepSubjects: 0 });
for (let r = 0; r < Number(process.argv[4] ?? 1); r++) {
  const pop = simulatePopulation({ scenario: w2Scenario(method), subjects, keepSubjects: 0 });
  console.log(
    `${n} subjects: ${(pop.stats.ms / n).toFixed(3)} ms/subject, ${(pop.stats.rhsEvaluations / n).toFixed(0)} RHS/subject, ${(pop.stats.steps / n).toFixed(0)} steps/subject, ${pop.failures.length} failed`,
  );
}
