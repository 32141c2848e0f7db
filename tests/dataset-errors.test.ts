// Malformed NONMEM-style datasets: each kind is refused with its line and column (table-driven).
import { describe, expect, it } from 'vitest';
import { simulateDataset } from '../src/simulate-dataset.ts';
import { InputError } from '../src/errors.ts';
import { oral1 } from './helpers/linear-pk.ts';

const H = 'ID,TIME,EVID,AMT,CMT,RATE,DUR,II,ADDL,SS,DV,MDV,WT';
const COLS = H.split(',');
const dose = (over: Partial<Record<string, string>> = {}) =>
  row({ ID: '1', TIME: '0', EVID: '1', AMT: '100', CMT: 'depot', RATE: '0', MDV: '1', WT: '70', ...over });
const obs = (over: Partial<Record<string, string>> = {}) =>
  row({ ID: '1', TIME: '1', EVID: '0', CMT: 'CP', DV: '1.5', MDV: '0', WT: '70', ...over });
function row(v: Record<string, string | undefined>) {
  return COLS.map((c) => v[c] ?? '.').join(',');
}

/** [what, body rows (line 2 on), expected line, expected column name or null, message pattern] */
const CASES: [string, string[], number, string | null, RegExp][] = [
  ['ID missing', [dose({ ID: '.' })], 2, 'ID', /ID is missing/],
  ['TIME missing', [dose({ TIME: '.' })], 2, 'TIME', /TIME is missing/],
  ['TIME not a number', [dose({ TIME: 'abc' })], 2, 'TIME', /not a number/],
  ['TIME overflows', [dose({ TIME: '1e400' })], 2, 'TIME', /not a number/],
  ['TIME out of range', [dose({ TIME: '1e16' })], 2, 'TIME', /out of range/],
  ['unsorted times', [dose(), obs({ TIME: '5' }), obs({ TIME: '3' })], 4, 'TIME', /sort/],
  ['subject split in two', [dose(), dose({ ID: '2' }), obs({ ID: '1', TIME: '5' })], 4, 'ID', /appears again/],
  ['EVID not a number', [dose({ EVID: 'x' })], 2, 'EVID', /not a number/],
  ['EVID 5', [dose({ EVID: '5' })], 2, 'EVID', /not allowed/],
  ['EVID 1.5', [dose({ EVID: '1.5' })], 2, 'EVID', /not allowed/],
  ['EVID -1', [dose({ EVID: '-1' })], 2, 'EVID', /not allowed/],
  ['AMT not a number', [dose({ AMT: 'ten' })], 2, 'AMT', /not a number/],
  ['AMT negative', [dose({ AMT: '-5' })], 2, 'AMT', />= 0/],
  ['dose without AMT', [dose({ AMT: '.' })], 2, 'AMT', /needs AMT/],
  ['dose into an unknown compartment', [dose({ CMT: 'gut' })], 2, 'CMT', /unknown compartment 'gut'/],
  ['CMT index 0', [dose({ CMT: '0' })], 2, 'CMT', /not a state index/],
  ['CMT index too large', [dose({ CMT: '3' })], 2, 'CMT', /not a state index/],
  ['dose into an output', [dose({ CMT: 'CP' })], 2, 'CMT', /is an output/],
  ['dose without CMT', [dose({ CMT: '.' })], 2, 'CMT', /needs a CMT/],
  ['RATE not a number', [dose({ RATE: 'fast' })], 2, 'RATE', /not a number/],
  ['RATE -3', [dose({ RATE: '-3' })], 2, 'RATE', /RATE -3 is not allowed/],
  ['RATE -1 without a model rate', [dose({ RATE: '-1' })], 2, 'RATE', /RATE -1 needs a rate/],
  ['RATE -2 without a model duration', [dose({ RATE: '-2' })], 2, 'RATE', /RATE -2 needs a duration/],
  ['RATE and DUR', [dose({ CMT: 'central', RATE: '10', DUR: '2' })], 2, 'DUR', /RATE or DUR/],
  ['DUR negative', [dose({ DUR: '-1' })], 2, 'DUR', />= 0/],
  ['DUR not a number', [dose({ DUR: 'x' })], 2, 'DUR', /not a number/],
  ['II negative', [dose({ II: '-12' })], 2, 'II', />= 0/],
  ['II not a number', [dose({ II: 'q12h' })], 2, 'II', /not a number/],
  ['ADDL negative', [dose({ ADDL: '-1', II: '12' })], 2, 'ADDL', />= 0/],
  ['ADDL not an integer', [dose({ ADDL: '1.5', II: '12' })], 2, 'ADDL', /integer/],
  ['ADDL without II', [dose({ ADDL: '3' })], 2, 'ADDL', /needs II/],
  ['ADDL too large', [dose({ ADDL: '1000000', II: '1' })], 2, 'ADDL', /too large/],
  ['SS 3', [dose({ SS: '3', II: '12' })], 2, 'SS', /not allowed/],
  ['SS without II', [dose({ SS: '1' })], 2, 'SS', /needs II/],
  ['SS on an observation', [dose(), obs({ SS: '1' })], 3, 'SS', /not a dose/],
  ['ADDL on an observation', [dose(), obs({ ADDL: '2' })], 3, 'ADDL', /not a dose/],
  ['RATE on an observation', [dose(), obs({ RATE: '5' })], 3, 'RATE', /not a dose/],
  ['AMT on an observation', [dose(), obs({ AMT: '5' })], 3, 'AMT', /not a dose/],
  ['DUR on an other-event record', [dose(), obs({ EVID: '2', DUR: '2', MDV: '1' })], 3, 'DUR', /not a dose/],
  ['AMT on a reset', [dose(), obs({ EVID: '3', AMT: '5', MDV: '1' })], 3, 'AMT', /not a dose/],
  ['DV not a number', [dose(), obs({ DV: 'abc' })], 3, 'DV', /not a number/],
  ['MDV 2', [dose(), obs({ MDV: '2' })], 3, 'MDV', /not allowed/],
  ['MDV 0 on a dose', [dose({ MDV: '0' })], 2, 'MDV', /MDV 0 on a dose/],
  ['MDV 0 on an other-event record', [dose(), obs({ EVID: '2', MDV: '0' })], 3, 'MDV', /not an observation/],
  ['observation of an unknown series', [dose(), obs({ CMT: 'liver' })], 3, 'CMT', /neither a state nor an output/],
  ['observation CMT index too large', [dose(), obs({ CMT: '9' })], 3, 'CMT', /not a state index/],
  ['observation CMT negative', [dose(), obs({ CMT: '-1' })], 3, 'CMT', /not a state index/],
  ['covariate not a number', [dose(), obs({ WT: 'heavy' })], 3, 'WT', /not a number/],
  ['covariate missing on the first record', [dose({ WT: '.' })], 2, 'WT', /carry forward/],
  ['too many values', [dose() + ',7'], 2, null, /expected 13 values/],
  ['too few values', ['1,0,1,100'], 2, null, /expected 13 values/],
  ['unterminated quote', [dose({ CMT: '"depot' })], 2, null, /unterminated quote/],
  ['constant infusion without SS', [dose({ CMT: 'central', AMT: '0', RATE: '10' })], 2, 'SS', /needs SS = 1/],
  [
    'constant infusion with ADDL',
    [dose({ CMT: 'central', AMT: '0', RATE: '10', SS: '1', ADDL: '2', II: '12' })],
    2,
    'ADDL',
    /no ADDL/,
  ],
  ['dose of nothing', [dose({ AMT: '0' })], 2, 'AMT', /nothing to give/],
  ['EVID 4 without AMT', [dose(), dose({ TIME: '24', EVID: '4', AMT: '.' })], 3, 'AMT', /needs AMT/],
  ['SS 1 with a lag', [dose({ SS: '1', II: '12' })], 2, 'CMT', /steady-state dose with a lag/],
];

describe('malformed datasets are refused with line and column', () => {
  it(`covers at least 50 kinds (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    expect(new Set(CASES.map((c) => c[0])).size).toBe(CASES.length);
  });
  it.each(CASES)('%s', (_what, rows, line, column, pattern) => {
    const text = [H, ...rows].join('\n');
    let err: unknown;
    try {
      simulateDataset({ model: oral1, dataset: text });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const issue = (err as InputError).issues[0];
    const where = column === null ? `line ${line}` : `line ${line}, column ${COLS.indexOf(column) + 1} (${column})`;
    expect(issue.message.startsWith(where), `${issue.message} should start with '${where}'`).toBe(true);
    expect(issue.message).toMatch(pattern);
    expect(issue.path.slice(0, 2)).toEqual(['dataset', `line ${line}`]);
    if (column !== null) expect(issue.path[2]).toBe(column);
  });
  it('header problems: missing TIME, duplicate and malformed column names (line 1)', () => {
    const first = (text: string) => {
      try {
        simulateDataset({ model: oral1, dataset: text });
      } catch (e) {
        return (e as InputError).issues[0].message;
      }
      return '';
    };
    expect(first('ID,AMT,CMT\n1,100,depot')).toMatch(/^line 1: the header needs a TIME column/);
    expect(first('ID,TIME,time\n1,0,0')).toMatch(/^line 1, column 3 \(time\): duplicate column/);
    expect(first('ID,TIME,A-B\n1,0,0')).toMatch(/^line 1, column 3 \(A-B\): 'A-B' is not a column name/);
    expect(first('')).toMatch(/empty/);
    expect(first('ID,TIME\n')).toMatch(/no records/);
  });
});

describe('dataset limits are checked before the work', () => {
  it('administrations after ADDL across the dataset', () => {
    const rows = [H];
    for (let id = 1; id <= 60; id++) rows.push(dose({ ID: String(id), ADDL: '19998', II: '1' }));
    expect(() => simulateDataset({ model: oral1, dataset: rows.join('\n') })).toThrow(
      /expands to 1199940 administrations/,
    );
  });
});
