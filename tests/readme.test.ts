// The README's worked example stays true: its scenario, run now, prints the CSV shown there (to 1e-6).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { simulate } from '../src/simulate.ts';
import { resultToCsv } from '../src/results/csv.ts';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');
  it('starts with the install-and-run command and the test command', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(block).toMatch(/^npm ci && npm start/m);
    expect(block).toMatch(/^npm test/m);
  });
  it('worked example: the scenario gives the CSV shown', () => {
    const scenario = JSON.parse(/```json\n([\s\S]*?)```/.exec(readme)![1]);
    const shown = /\$ npx immunopd simulate scenario\.json --format csv\n([\s\S]*?)```/
      .exec(readme)![1]
      .trim()
      .split('\n');
    const now = resultToCsv(simulate(scenario)).trim().split('\n');
    expect(now[0]).toBe(shown[0]);
    expect(now.length).toBe(shown.length);
    for (let k = 1; k < now.length; k++) {
      const a = now[k].split(',').map(Number);
      const b = shown[k].split(',').map(Number);
      a.forEach((v, j) => expect(Math.abs(v - b[j])).toBeLessThanOrEqual(1e-6 * Math.abs(b[j]) + 1e-12));
    }
  });
});
