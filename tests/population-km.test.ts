// Kaplan–Meier (trial.ts) against SciPy's (tests/reference/population/km_scipy.py → km_scipy.json): a
// censored sample of 60 with ties; survival to 1e-12, Greenwood SE to 1e-10, the median exactly.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { kaplanMeier, kmMedian } from '../src/analysis/trial.ts';

const ref = JSON.parse(readFileSync(new URL('./reference/population/km_scipy.json', import.meta.url), 'utf8')) as {
  time: number[];
  event: boolean[];
  eventTimes: number[];
  survival: number[];
  se: (number | null)[];
  median: number | null;
};

describe('Kaplan–Meier vs SciPy', () => {
  it('survival, Greenwood SE and median', () => {
    const km = kaplanMeier(ref.time, ref.event);
    expect(km.map((p) => p.time)).toEqual(ref.eventTimes);
    let compared = 0;
    km.forEach((p, k) => {
      expect(Math.abs(p.survival - ref.survival[k])).toBeLessThan(1e-12);
      const se = ref.se[k];
      if (se !== null) {
        expect(Math.abs(p.se - se)).toBeLessThan(1e-10);
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(30);
    expect(kmMedian(ref.time, ref.event)).toBe(ref.median);
  });
});
