// src/dosing/schedule.ts directly: dose entries → one record per administration → a timeline of
// discontinuities (bolus jumps, infusion rate on/off), merged by time.
import { describe, expect, it } from 'vitest';
import { expandDoses, doseTimeline } from '../src/dosing/schedule.ts';
import { Dose } from '../src/scenario/schema.ts';
import { InputError } from '../src/errors.ts';
import { compileModel } from '../src/model/compile.ts';

// Two states (Ac, T) and nothing else: the expansion reads the state index and the dose modifiers (none).
const model = compileModel({
  id: 'two-states',
  states: { Ac: { initial: 0, unit: 'mg' }, T: { initial: 0, unit: 'cells' } },
  odes: { Ac: '0', T: '0' },
});
const ctx = { weight: 70, paramsAt: () => model.defaultParams };
const path = (i: number) => ['doses', i];

describe('expandDoses', () => {
  it('expands repeats, scales amountPerKg by weight and sorts by time then state', () => {
    const doses = [
      Dose.parse({ target: 'T', amount: 1, start: 5 }),
      Dose.parse({ target: 'Ac', amountPerKg: 3, every: 21, count: 3 }),
    ];
    const r = expandDoses(doses, model, ctx, path);
    expect(r.map((d) => [d.time, d.target, d.amount])).toEqual([
      [0, 'Ac', 210],
      [5, 'T', 1],
      [21, 'Ac', 210],
      [42, 'Ac', 210],
    ]);
  });
  it('names the entry and field of an unknown target', () => {
    try {
      expandDoses([Dose.parse({ target: 'Z', amount: 1 })], model, ctx, path);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).issues[0].path).toEqual(['doses', 0, 'target']);
    }
  });
});

describe('doseTimeline', () => {
  it('turns an infusion into a rate switched on and off, and adds doses at the same time', () => {
    const recs = expandDoses(
      [
        Dose.parse({ target: 'Ac', amount: 100, start: 0, duration: 2 }),
        Dose.parse({ target: 'T', amount: 1, start: 2 }),
        Dose.parse({ target: 'T', amount: 2, start: 2 }),
      ],
      model,
      ctx,
      path,
    );
    const tl = doseTimeline(recs);
    expect(tl.map((d) => d.t)).toEqual([0, 2]);
    expect(tl[0].rateChanges).toEqual([{ index: 0, delta: 50 }]);
    expect(tl[1].rateChanges).toEqual([{ index: 0, delta: -50 }]);
    expect(tl[1].jumps).toEqual([
      { index: 1, amount: 1 },
      { index: 1, amount: 2 },
    ]);
  });
  it('drops zero doses (no discontinuity to stop at)', () => {
    expect(doseTimeline(expandDoses([Dose.parse({ target: 'T', amount: 0, start: 3 })], model, ctx, path))).toEqual([]);
  });
});
