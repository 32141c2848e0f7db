#!/usr/bin/env node
// `npm run lint` step: no module imports from a higher layer (the table in docs/architecture.md, "Layers").
// Every import of src/, server/ and web/ is read with TypeScript's parser (static and dynamic imports,
// re-exports, and `new URL('./x.ts', import.meta.url)` module paths, which is how workers are started);
// an import of a file in a higher layer is listed as file:line and the check fails. Imports within one
// layer are allowed. Type-only imports count too: a type from a higher layer ties the code to it all the same.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { isSource, repoRoot, walkFiles } from './repo-files.mjs';

const root = repoRoot();

// [layer, path prefix relative to the root]; the longest matching prefix wins. Keep in step with
// docs/architecture.md.
export const LAYERS = [
  [0, 'src/errors.ts'],
  [0, 'src/package-info.ts'],
  [0, 'src/keys.ts'],
  [0, 'src/zod-fields.ts'],
  [0, 'src/types/'],
  // The ODE solvers are numerics: they know nothing of models, doses or scenarios (they import errors.ts
  // only), and dosing builds their input (the discontinuity timeline).
  [1, 'src/model/'],
  [1, 'src/numerics/'],
  [1, 'src/solve/'],
  [2, 'src/dosing/'],
  [2, 'src/scenario/'],
  [2, 'src/data/'],
  // limits.ts is the request budget: it reads the scenario limits and the model library.
  [3, 'src/simulate.ts'],
  [3, 'src/simulate-dataset.ts'],
  [3, 'src/simulation/'],
  [3, 'src/results/'],
  [3, 'src/limits.ts'],
  [4, 'src/analysis/'],
  [5, 'src/workers/'],
  [5, 'src/jobs/'],
  [6, 'src/cli/'],
  [7, 'server/'],
  [7, 'web/'],
  // The installed entry point: the composition root above every layer (it runs dist/server/cli.js).
  [8, 'src/cli/bin.mjs'],
];

export function layerOf(rel) {
  let best = null;
  for (const [layer, prefix] of LAYERS) {
    if (
      (rel === prefix || (prefix.endsWith('/') && rel.startsWith(prefix))) &&
      (!best || prefix.length > best[1].length)
    )
      best = [layer, prefix];
  }
  return best ? best[0] : null;
}

/** Every relative module specifier in a file, with its line. */
export function importsOf(file, text) {
  const sf = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith('ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );
  const found = [];
  const add = (lit) => {
    if (lit && ts.isStringLiteralLike(lit) && lit.text.startsWith('.'))
      found.push({ spec: lit.text, line: sf.getLineAndCharacterOfPosition(lit.getStart(sf)).line + 1 });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL' &&
      node.arguments?.length === 2 &&
      /import\.meta\.url$/.test(node.arguments[1].getText(sf)) &&
      /\.(ts|js|mjs)$/.test(ts.isStringLiteralLike(node.arguments[0]) ? node.arguments[0].text : '')
    ) {
      add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  // JSDoc `import('...')` types in plain JavaScript (web/) live in comments the parser keeps as text.
  if (!file.endsWith('ts')) {
    const re = /import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
    for (const m of text.matchAll(re)) {
      const line = text.slice(0, m.index).split('\n').length;
      if (!found.some((f) => f.line === line && f.spec === m[1])) found.push({ spec: m[1], line });
    }
  }
  return found;
}

export function checkLayers(files = ['src', 'server', 'web'].flatMap((d) => walkFiles(path.join(root, d), isSource))) {
  const problems = [];
  for (const file of files) {
    const rel = path.relative(root, file).split(path.sep).join('/');
    const from = layerOf(rel);
    if (from === null) {
      problems.push(
        `${rel}:1: not in any layer (add it to LAYERS in scripts/check-layers.mjs and to docs/architecture.md)`,
      );
      continue;
    }
    for (const { spec, line } of importsOf(file, readFileSync(file, 'utf8'))) {
      const target = path
        .relative(root, path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/');
      const to = layerOf(target);
      if (to !== null && to > from) problems.push(`${rel}:${line}: imports ${spec} (layer ${to}) from layer ${from}`);
    }
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkLayers();
  if (problems.length) {
    console.error(
      `check-layers: ${problems.length} import(s) from a lower layer to a higher one:\n${problems.join('\n')}`,
    );
    process.exit(1);
  }
  console.log('check-layers: no import from a lower layer to a higher one');
}
