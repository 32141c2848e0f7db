// The hostile-input reproducers (tests/helpers/hostile.ts) against a fresh server (2 workers, loopback, random port): status, answer
// time and body size of each, printed as a table. `node src/cli/run-ts.mjs bench/reproducers.ts`.
// Timing lives here, not in the tests (tests/reliability.test.ts asserts the statuses and bodies).
import { startServer } from '../server/app.ts';
import { chainModel } from '../tests/helpers/hostile.ts';

const srv = await startServer(0, '127.0.0.1', { workers: 2 });
const post = async (path: string, body: string) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Connection: 'close' },
    body,
  });
  const text = await res.text();
  const c = process.cpuUsage(c0);
  // CPU of the whole process (server and its worker threads): the answer time on an idle machine.
  return {
    status: res.status,
    ms: performance.now() - t0,
    cpuMs: (c.user + c.system) / 1000,
    bytes: text.length,
    text,
  };
};
const J = JSON.stringify;
const cases: [string, string, string][] = [
  [
    'preset constructor (simulate)',
    '/api/simulate',
    '{"model":"immunotherapy","preset":"constructor","times":{"end":10}}',
  ],
  [
    'preset __proto__ (compare)',
    '/api/compare',
    '{"model":"immunotherapy","preset":"__proto__","times":{"end":10},"arms":[{"name":"a"}]}',
  ],
  [
    'preset toString (population)',
    '/api/population',
    '{"model":"immunotherapy","preset":"toString","times":{"end":10},"population":{"n":2,"omega":{}}}',
  ],
  [
    'preset valueOf (sensitivity)',
    '/api/sensitivity',
    '{"model":"immunotherapy","preset":"valueOf","times":{"end":10}}',
  ],
  [
    'preset hasOwnProperty (simulate)',
    '/api/simulate',
    '{"model":"immunotherapy","preset":"hasOwnProperty","times":{"end":10}}',
  ],
  [
    'sensitivity series constructor',
    '/api/sensitivity',
    '{"model":"immunotherapy","times":{"end":10},"sensitivity":{"response":{"series":"constructor"}}}',
  ],
  [
    'fit subject constructor',
    '/api/fit',
    J({
      model: 'tgi-exponential',
      data: [{ time: 1, observable: 'V', value: 1, subject: 'constructor' }],
      subjects: { a: {} },
      estimate: { r: {} },
    }),
  ],
  [
    'state toString without ODE',
    '/api/simulate',
    J({
      model: { id: 'm', states: { x: { initial: 1 }, toString: { initial: 1 } }, odes: { x: '-x' } },
      times: { end: 1 },
    }),
  ],
  [
    'ODE under __proto__',
    '/api/simulate',
    '{"model":{"id":"m","states":{"x":{"initial":1}},"odes":{"x":"-x","__proto__":"1"}},"times":{"end":1}}',
  ],
  ['1,000 assignments x 140 forward refs', '/api/simulate', J({ model: chainModel(1000, 140), times: { end: 1 } })],
  [
    'population 20 series x 10 cols x 100,000 pts',
    '/api/population',
    J({
      model: 'immunotherapy',
      times: { end: 100, points: 100000 },
      population: {
        n: 10,
        omega: {},
        series: Array(20).fill('tumor'),
        quantiles: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
      },
    }),
  ],
  [
    'population n 5,000 x 100,000 pts',
    '/api/population',
    J({
      model: 'immunotherapy',
      times: { end: 100, points: 100000 },
      population: { n: 5000, omega: {}, series: ['tumor'] },
    }),
  ],
  ['times.end 1e15', '/api/simulate', '{"model":"immunotherapy","times":{"end":1e15}}'],
];
try {
  // Warm-up: both workers load and compile the default model first.
  await Promise.all([1, 2].map(() => post('/api/simulate', '{"model":"immunotherapy","times":{"end":10}}')));
  // Two passes: the first may meet a worker that is still starting (loading the sources); the second is
  // the steady state.
  const first = [];
  for (const [, path, body] of cases) first.push(await post(path, body));
  console.log(
    '| reproducer | request bytes | status | wall ms (1st / 2nd) | CPU ms (1st / 2nd) | body bytes |\n| --- | --- | --- | --- | --- | --- |',
  );
  for (const [k, [name, path, body]] of cases.entries()) {
    const r = await post(path, body);
    const f = first[k];
    console.log(
      `| ${name} | ${body.length} | ${r.status} | ${f.ms.toFixed(0)} / ${r.ms.toFixed(0)} | ${f.cpuMs.toFixed(0)} / ${r.cpuMs.toFixed(0)} | ${r.bytes} |`,
    );
  }
} finally {
  await srv.close();
}
