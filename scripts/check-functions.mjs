#!/usr/bin/env node
// `npm run lint` step: no function in src/ or server/ longer than MAX_LINES lines (declaration to closing
// brace), so that each one can be read as one stage. Functions are found with TypeScript's parser:
// declarations, methods, constructors, accessors, arrow functions and function expressions. A function's
// length counts its nested functions too (they are part of reading it). The steppers' step() methods are
// allowed to be longer (ALLOWED): one step of a Runge–Kutta / Rosenbrock method is read against the
// published tableau as one piece, and splitting it costs speed in the innermost loop.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { isSource, repoRoot, walkFiles } from './repo-files.mjs';

const root = repoRoot();
export const MAX_LINES = 120;
/** file:function name allowed over MAX_LINES, and why (see the header). */
export const ALLOWED = new Set(['src/solve/dopri5.ts:step', 'src/solve/rodas.ts:step']);

function nameOf(node, sf) {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  // const f = () => ...; x: function () {...}; f(() => ...): the variable, property or "(anonymous)".
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name)
    return p.name.getText(sf);
  return '(anonymous)';
}

/** Functions of one file longer than max lines: [{ name, line, lines }]. */
export function longFunctions(file, text, max = MAX_LINES) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) out.push({ name: nameOf(node, sf), line: start + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

export function checkFunctions(dirs = ['src', 'server']) {
  const problems = [];
  for (const file of dirs.flatMap((d) => walkFiles(path.join(root, d), isSource))) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    for (const f of longFunctions(file, readFileSync(file, 'utf8'))) {
      if (!ALLOWED.has(`${rel}:${f.name}`))
        problems.push(`${rel}:${f.line}: ${f.name} is ${f.lines} lines (at most ${MAX_LINES})`);
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkFunctions();
  if (problems.length) {
    console.error(
      `check-functions: ${problems.length} function(s) over ${MAX_LINES} lines (split them into named stages):\n${problems.join('\n')}`,
    );
    process.exit(1);
  }
  console.log(
    `check-functions: no function over ${MAX_LINES} lines in src/ and server/ (allowed: ${[...ALLOWED].join(', ')})`,
  );
}
