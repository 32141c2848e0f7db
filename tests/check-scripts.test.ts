// The repository checks of `npm run lint` (scripts/check-layers.mjs, check-functions.mjs,
// check-citations.mjs), each run on a small fixture tree (--root) with one violation it must report as
// file:line, and on the same tree without it, where it must pass.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const scripts = path.resolve(import.meta.dirname, '..', 'scripts');
let root = '';
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'immunopd-checks-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function put(file: string, text: string) {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
}
function check(name: string) {
  const r = spawnSync(process.execPath, [path.join(scripts, `check-${name}.mjs`), '--root', root], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('check-layers', () => {
  it('lists an import from a lower layer to a higher one (static, dynamic, type, worker URL) as file:line', () => {
    put('src/errors.ts', 'export class InputError extends Error {}\n');
    put('src/solve/a.ts', "import { InputError } from '../errors.ts';\nexport const a = InputError;\n");
    put('server/main.ts', "import { a } from '../src/solve/a.ts';\nexport const m = a;\n");
    expect(check('layers').code).toBe(0);
    put(
      'src/solve/b.ts',
      [
        "import type { x } from '../analysis/fit.ts';",
        "export const m = () => import('../../server/main.ts');",
        "export const w = new URL('../jobs/worker.ts', import.meta.url);",
        "export type T = import('../simulate.ts').R;",
      ].join('\n'),
    );
    const r = check('layers');
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/solve/b.ts:1: imports ../analysis/fit.ts (layer 4) from layer 1');
    expect(r.out).toContain('src/solve/b.ts:2: imports ../../server/main.ts (layer 7) from layer 1');
    expect(r.out).toContain('src/solve/b.ts:3: imports ../jobs/worker.ts (layer 5) from layer 1');
    expect(r.out).toContain('src/solve/b.ts:4: imports ../simulate.ts (layer 3) from layer 1');
  });

  it('refuses a module that is in no layer', () => {
    put('src/newthing/x.ts', 'export const x = 1;\n');
    const r = check('layers');
    expect(r.code).toBe(1);
    expect(r.out).toContain('src/newthing/x.ts:1: not in any layer');
  });
});

describe('check-functions', () => {
  const fn = (name: string, lines: number) => `export function ${name}() {\n${'  void 0;\n'.repeat(lines - 2)}}\n`;
  it('lists a function over 120 lines (nested arrow functions too) and passes one of 120', () => {
    put('src/a.ts', fn('fine', 120));
    expect(check('functions').code).toBe(0);
    put('server/b.ts', `const x = 1;\n${fn('tooLong', 121)}export const g = () => {\n${'  void 0;\n'.repeat(125)}};\n`);
    const r = check('functions');
    expect(r.code).toBe(1);
    expect(r.out).toContain('server/b.ts:2: tooLong is 121 lines');
    expect(r.out).toContain('server/b.ts:123: g is 127 lines');
  });

  it("allows only the steppers' step() by name", () => {
    put('src/solve/dopri5.ts', `export class D {\n  step() {\n${'    void 0;\n'.repeat(130)}  }\n}\n`);
    expect(check('functions').code).toBe(0);
    put('src/solve/other.ts', `export class D {\n  step() {\n${'    void 0;\n'.repeat(130)}  }\n}\n`);
    expect(check('functions').out).toContain('src/solve/other.ts:2: step is 132 lines');
  });
});

describe('check-citations', () => {
  it('passes cited files that exist (from the root, beside the file, under src/, globs, other projects)', () => {
    put('docs/models.md', "# Models\nSee `src/model/compile.ts`, models/*.json and scipy's integrate/_ivp/base.py.\n");
    put(
      'src/model/compile.ts',
      '// Stages in compile/stage.ts (docs/models.md); the solver is solve/base.ts.\nexport const s = "docs/none.md";\n',
    );
    put('src/model/compile/stage.ts', 'export {};\n');
    put('src/solve/base.ts', 'export {};\n');
    put('models/a.json', '{}\n');
    put('README.md', 'Read docs/models.md.\n');
    expect(check('citations').out).toContain('every cited repository path exists');
  });

  it('lists a missing file, a bare missing .md, the design notes and issue numbers, in docs and comments', () => {
    put('README.md', 'Read `docs/gone.md` and biology.md.\n');
    put(
      'tests/a.test.ts',
      'const x = 1; // as DESIGN.md says (issue 16)\n/* see src/solve/nothere.ts */\nexport { x };\n',
    );
    const r = check('citations');
    expect(r.code).toBe(1);
    expect(r.out).toContain('README.md:1: cites docs/gone.md, which the repository does not contain');
    expect(r.out).toContain('README.md:1: cites biology.md');
    expect(r.out).toContain('tests/a.test.ts:1: cites DESIGN.md');
    expect(r.out).toContain('tests/a.test.ts:1: cites an issue number');
    expect(r.out).toContain('tests/a.test.ts:2: cites src/solve/nothere.ts');
  });
});
