// NONMEM-style datasets: a dataset mixing oral doses with lag and F, IV boluses, infusions by RATE and by
// DUR, ADDL/II, SS=1, RATE -1/-2, EVID 2/4 and a time-varying weight on an allometric clearance reproduces
// closed-form values (tests/helpers/linear-pk.ts) to 1e-8 relative at every observation record.
import { describe, expect, it } from 'vitest';
import { simulateDataset, formatDatasetSimulation } from '../src/simulate-dataset.ts';
import { readCsv } from '../src/data/read.ts';
import { simulate1, steadyState1, oral1, type Event1 } from './helpers/linear-pk.ts';

const solver = { rtol: 1e-12, atol: 1e-14 };
const ka = 1.2,
  V = 30;
const kOf = (wt: number) => (4 * Math.pow(wt / 70, 0.75)) / V;

const csv = `ID,TIME,EVID,AMT,CMT,RATE,DUR,II,ADDL,SS,DV,MDV,WT
# subject 1: oral q12 x4 (F and ALAG from the model), IV bolus with observations before and after it,
# infusions by RATE and by DUR, RATE -1 and -2, weight changing at 10 (EVID 2) and 26 (on an observation)
1,0,1,100,depot,0,.,12,3,0,.,1,60
1,0.5,0,.,CP,.,.,.,.,.,1.1,0,60
1,1,0,.,2,.,.,.,.,.,2.2,0,60
1,2,0,.,CP,.,.,.,.,.,.,0,60
1,6,0,.,CP,.,.,.,.,.,3,0,60
1,6,1,50,central,0,.,.,.,.,.,1,60
1,6,0,.,CP,.,.,.,.,.,3,0,60
1,7.9,0,.,CP,.,.,.,.,.,3,0,60
1,10,2,.,.,.,.,.,.,.,.,1,85
1,14,1,40,central,20,.,.,.,.,.,1,85
1,15,0,.,CP,.,.,.,.,.,3,0,85
1,21,1,30,central,0,3,.,.,.,.,1,85
1,24.7,0,.,CP,.,.,.,.,.,3,0,85
1,26,0,.,CP,.,.,.,.,.,3,0,72
1,30,0,.,depot,.,.,.,.,.,3,0,72
1,33,1,60,central,-1,.,.,.,.,.,1,72
1,36,0,.,CP,.,.,.,.,.,3,0,72
1,40,1,45,central,-2,.,.,.,.,.,1,72
1,41,0,.,CP,.,.,.,.,.,3,0,72
1,47.5,0,.,CP,.,.,.,.,.,3,0,72
# subject 2: SS=1 bolus q12 with one additional dose; a trough listed before the next explicit dose
2,0,1,100,central,0,.,12,1,1,.,1,70
2,0.5,0,.,CP,.,.,.,.,.,1,0,70
2,11.5,0,.,CP,.,.,.,.,.,1,0,70
2,12.5,0,.,CP,.,.,.,.,.,1,0,70
2,24,0,.,CP,.,.,.,.,.,1,0,70
2,24,1,100,central,0,.,.,.,.,.,1,70
2,30,0,.,CP,.,.,.,.,.,1,0,70
# subject 3: oral dose, then EVID 4 (reset and dose) at 24
3,0,1,100,depot,0,.,.,.,.,.,1,70
3,5,0,.,CP,.,.,.,.,.,1,0,70
3,24,4,80,central,0,.,.,.,.,.,1,70
3,25,0,.,CP,.,.,.,.,.,1,0,70
# subject 4: a constant infusion at steady state (AMT 0, RATE 10, SS 1) into central, oral SS=1 with DUR
4,0,1,0,central,10,.,.,.,1,.,1,70
4,5,0,.,CP,.,.,.,.,.,1,0,70
`;

function rel(got: number, want: number) {
  return Math.abs(got - want) / Math.abs(want);
}

describe('dataset-driven simulation against closed forms', () => {
  const sim = simulateDataset({ model: oral1, dataset: csv, solver });
  const preds = new Map(sim.result.subjects.map((s) => [s.id, s.predictions]));
  const check = (id: string, want: (time: number, observable: string, k: number) => number) => {
    const p = preds.get(id)!;
    expect(p.length).toBeGreaterThan(0);
    p.forEach((r, k) => {
      const w = want(r.time, r.observable, k);
      if (!(rel(r.pred, w) <= 1e-8))
        throw new Error(`ID ${id} line ${r.line} (t = ${r.time}, ${r.observable}): ${r.pred} vs closed form ${w}`);
    });
  };

  it('subject 1: oral with lag and F, IV bolus, RATE, DUR, RATE -1/-2, ADDL/II, time-varying weight', () => {
    const ev: Event1[] = [
      { t: 10, k: kOf(85) },
      { t: 26, k: kOf(72) },
    ];
    for (let j = 0; j < 4; j++) ev.push({ t: 12 * j + 0.4, bolus: { cmt: 'd', amount: 70 } });
    ev.push({ t: 6, bolus: { cmt: 'c', amount: 50 } });
    const inf = (t: number, R: number, T: number) =>
      ev.push({ t, rate: { cmt: 'c', delta: R } }, { t: t + T, rate: { cmt: 'c', delta: -R } });
    inf(14, 20, 2);
    inf(21, 10, 3);
    inf(33, 25, 60 / 25);
    inf(40, 30, 1.5);
    const p = preds.get('1')!;
    // The observation at 6 listed before the bolus sees the value before it; the one after, after it.
    const at6 = p.filter((r) => r.time === 6);
    expect(at6[1].pred - at6[0].pred).toBeCloseTo(50 / V, 10);
    check('1', (t, obs, k) => {
      const before = t === 6 && k === p.indexOf(at6[0]);
      const [ad, ac] = simulate1(before ? ev.filter((e) => e.t !== 6) : ev, ka, kOf(60), [t])[0];
      return obs === 'CP' ? ac / V : obs === 'central' ? ac : ad;
    });
    expect(p.map((r) => r.observable)).toContain('depot');
    expect(p.map((r) => r.observable)).toContain('central');
  });

  it('subject 2: SS=1 with ADDL, and a trough before the next dose', () => {
    const k = kOf(70);
    const pre = steadyState1(ka, k, 12, [{ t: 0, bolus: { cmt: 'c', amount: 100 } }]);
    const ev: Event1[] = [0, 12, 24].map((t) => ({ t, bolus: { cmt: 'c', amount: 100 } }));
    check('2', (t, _o, kk) => {
      const trough = t === 24 && kk === 3;
      return simulate1(trough ? ev.filter((e) => e.t !== 24) : ev, ka, k, [t], 0, pre)[0][1] / V;
    });
  });

  it('subject 3: EVID 4 resets and doses', () => {
    const k = kOf(70);
    check('3', (t) =>
      t < 24
        ? simulate1([{ t: 0.4, bolus: { cmt: 'd', amount: 70 } }], ka, k, [t])[0][1] / V
        : (80 * Math.exp(-k * (t - 24))) / V,
    );
  });

  it('subject 4: a constant infusion at steady state', () => {
    check('4', () => 10 / kOf(70) / V);
  });

  it('--format nonmem writes the layout back with DV = prediction on observation records', () => {
    const out = formatDatasetSimulation(sim, 'nonmem');
    const t = readCsv(out);
    const orig = readCsv(csv);
    expect(t.columns).toEqual(orig.columns);
    expect(t.rows.length).toBe(orig.rows.length);
    const dv = t.upper.indexOf('DV');
    const evid = t.upper.indexOf('EVID');
    const all = sim.result.subjects.flatMap((s) => s.predictions);
    let k = 0;
    t.rows.forEach((r, i) => {
      if (r.cells[evid] === '0') expect(Number(r.cells[dv])).toBe(all[k++].pred);
      else expect(r.cells[dv]).toBe(orig.rows[i].cells[dv]);
    });
    expect(k).toBe(all.length);
    const c = formatDatasetSimulation(sim, 'csv').split('\n');
    expect(c[0]).toBe('ID,TIME,observable,DV,PRED,line');
    expect(c.length - 2).toBe(all.length);
  });

  it('JSON rows work as CSV text does', () => {
    const rows = readCsv(csv).rows.map((r) =>
      Object.fromEntries(readCsv(csv).columns.map((c, j) => [c.toLowerCase(), r.cells[j]])),
    );
    const again = simulateDataset({ model: oral1, dataset: rows, solver });
    expect(again.result.subjects.flatMap((s) => s.predictions.map((p) => p.pred))).toEqual(
      sim.result.subjects.flatMap((s) => s.predictions.map((p) => p.pred)),
    );
  });
});

describe('the worked example of docs/datasets.md', () => {
  it('prints what the page shows, and agrees with the SciPy reference to 1e-8', async () => {
    const { readFileSync } = await import('node:fs');
    const { main } = await import('../src/cli/main.ts');
    let out = '';
    const code = await main(
      ['simulate', 'docs/examples/scenario.json', '--dataset', 'docs/examples/trial.csv', '--format', 'nonmem'],
      { out: (s) => (out += s), err: () => {} },
    );
    expect(code).toBe(0);
    const page = readFileSync('docs/datasets.md', 'utf8');
    const shown = /--format nonmem\n([\s\S]*?)```/.exec(page)![1];
    expect(out).toBe(shown);
    const ref = JSON.parse(readFileSync('tests/reference/dataset-example.json', 'utf8')) as Record<string, number[]>;
    const t = readCsv(out);
    const got: Record<string, number[]> = {};
    for (const r of t.rows) if (r.cells[2] === '0') (got[r.cells[0]] ??= []).push(Number(r.cells[9]));
    for (const id of Object.keys(ref)) ref[id].forEach((v, k) => expect(rel(got[id][k], v)).toBeLessThan(1e-8));
  });
});

describe('what an observation measures, and resets in file order', () => {
  const model = { ...oral1, id: 'oral-observe' };
  const text =
    'ID,TIME,EVID,AMT,CMT,DV\n1,0,1,100,2,.\n1,2,0,.,2,1\n1,2,0,.,central,1\n1,3,0,.,.,1\n1,4,0,.,depot,1\n1,4,3,.,.,.\n1,4,0,.,central,1\n';
  const k = kOf(70);
  it('observe: one output for every observation', () => {
    const s = simulateDataset({ model, dataset: text, observe: 'CP', solver }).result.subjects[0].predictions;
    expect(s.map((p) => p.observable)).toEqual(['CP', 'CP', 'CP', 'CP', 'CP']);
    expect(rel(s[0].pred, (100 / V) * Math.exp(-k * 2))).toBeLessThan(1e-8);
    // Listed before the reset at 4 it sees the value before it; after it, the initial state.
    expect(rel(s[3].pred, (100 / V) * Math.exp(-k * 4))).toBeLessThan(1e-8);
    expect(s[4].pred).toBe(0);
  });
  it('observe per CMT value; without it a CMT names the state observed; no CMT and no observe is an error', () => {
    const s = simulateDataset({ model, dataset: text.replace('1,3,0,.,.,1\n', ''), observe: { 2: 'CP' }, solver })
      .result.subjects[0].predictions;
    expect(s.map((p) => p.observable)).toEqual(['CP', 'central', 'depot', 'central']);
    expect(rel(s[1].pred, 100 * Math.exp(-k * 2))).toBeLessThan(1e-8);
    expect(() => simulateDataset({ model, dataset: text, solver })).toThrow(
      /line 5, column 5 \(CMT\): an observation record needs a CMT/,
    );
    expect(() => simulateDataset({ model, dataset: text, observe: 'AUC', solver })).toThrow(
      /'AUC' \(from observe\) is neither a state nor an output/,
    );
  });
});
