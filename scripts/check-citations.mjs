#!/usr/bin/env node
// `npm run lint` step: the repository cites no file it does not contain. Reads the Markdown docs (README.md,
// CHANGELOG.md, docs/, server/ and bench/ READMEs) and the comments of the code (src/ server/ tests/ bench/
// scripts/ web/, comments found with TypeScript's parser so strings and URLs in code are not read), finds
// every repository path cited there (`docs/models.md`, `src/solve/base.ts`, `model/compile.ts`,
// `models/*.json`, ...) and fails when none of the places it can mean holds the file. A path is looked up
// from the root, from the citing file's folder and its parents, and under src/ (code comments name modules
// as "analysis/fit/fit.ts"); a path under dist/ is the compiled copy of its source; `./name` in a quoted
// example is also looked up beside the other files the same text cites. A path in another project's tree
// ("scipy's integrate/_ivp/base.py") is not this repository's, and placeholder names (x.ts, module.ts) are
// examples. It also flags what points outside the repository (the design notes file, the shared folder,
// issue numbers): cite papers and labels directly. This file itself is not scanned (it names all of them).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { repoRoot, walkFiles } from './repo-files.mjs';

const root = repoRoot();

const DOCS = ['README.md', 'CHANGELOG.md', 'server/README.md', 'bench/README.md'];
const CODE_DIRS = ['src', 'server', 'tests', 'bench', 'scripts', 'web'];
// A cited path: folders and a file name with one of these extensions (a trailing `*` glob allowed).
const EXT = 'ts|mts|js|mjs|cjs|json|md|css|html|csv|R|py|c|h|sh|txt|yml|yaml|png';
const PATH_RE = new RegExp(`(?<![\\w./@-])(\\.{1,2}/)?((?:[\\w.*-]+/)+[\\w.*-]*\\.(?:${EXT}))(?![\\w/])`, 'g');
// A bare Markdown file name ("biology.md"): it must be somewhere in the repository.
const BARE_MD_RE = /(?<![\w./@-])([\w-]+\.md)(?![\w/])/g;
// Paths preceded by another project's name or a possessive are that project's.
const EXTERNAL_BEFORE =
  /(?:\b\w+'s|\b(?:scipy|nlmixr2lib|nlmixr2|mrgsolve|deSolve|PKNCA|NONMEM|odex|Hairer))\s*[(`"']?$/i;
const EXTERNAL_ROOT = /^(?:scipy|nlmixr2lib|mrgsolve|deSolve|PKNCA)\//;
const PLACEHOLDER = /^(?:x|y|module|file|name|foo)\.\w+$/i;
const SELF = fileURLToPath(import.meta.url);
const OUTSIDE = [
  [/DESIGN\.md/g, 'cites DESIGN.md, which is not in the repository (cite docs/architecture.md)'],
  [/\.\.\/shared\b/g, 'cites ../shared, outside the repository'],
  [/\bissues? #?\d+\b/gi, 'cites an issue number (say what and why instead)'],
];

let mdNames = null;
function markdownNames() {
  mdNames ??= new Set(walkFiles(root, (n) => n.endsWith('.md')).map((p) => path.basename(p)));
  return mdNames;
}

/** Does the glob-free path or the `*` glob name an existing file? */
function present(abs) {
  if (!abs.includes('*')) return existsSync(abs);
  const dir = path.dirname(abs);
  if (dir.includes('*') || !existsSync(dir)) return false;
  const re = new RegExp(
    `^${path
      .basename(abs)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  return readdirSync(dir).some((n) => re.test(n));
}

/** Whether a path cited in `file` names a file of the repository (or of an installed package). */
export function resolves(cited, file) {
  const rel = cited.replace(/^dist\/(.*)\.js$/, '$1.ts');
  const candidates = [path.join(root, rel), path.join(root, 'src', rel), path.join(root, 'node_modules', rel)];
  for (let dir = path.dirname(file); dir.startsWith(root); dir = path.dirname(dir))
    candidates.push(path.join(dir, rel));
  if (rel !== cited) candidates.push(path.join(root, cited.replace(/\.js$/, '.mjs').replace(/^dist\//, '')));
  return candidates.some(present);
}

/** The comments of a source file, as [text, line] (strings, templates and regexes are not comments). */
export function commentsOf(file, text) {
  const sf = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    /\.m?ts$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );
  const seen = new Map();
  const take = (ranges) => {
    for (const r of ranges ?? [])
      if (!seen.has(r.pos))
        seen.set(r.pos, [text.slice(r.pos, r.end), sf.getLineAndCharacterOfPosition(r.pos).line + 1]);
  };
  const visit = (node) => {
    take(ts.getLeadingCommentRanges(text, node.getFullStart()));
    take(ts.getTrailingCommentRanges(text, node.getEnd()));
    ts.forEachChild(node, visit);
  };
  take(ts.getLeadingCommentRanges(text, 0));
  visit(sf);
  return [...seen.values()];
}

/** Problems in one piece of text (a comment or a Markdown file) of `file`, starting at `line`. */
export function citationProblems(file, text, line = 1) {
  const rel = path.relative(root, file);
  const problems = [];
  const at = (index) => `${rel}:${line + text.slice(0, index).split('\n').length - 1}`;
  // URLs cite other sites, not this repository.
  const plain = text.replace(/https?:\/\/[^\s)>\]`'"]+/g, (u) => ' '.repeat(u.length));
  const unresolved = [];
  const dirs = new Set();
  for (const m of plain.matchAll(PATH_RE)) {
    const cited = (m[1] ?? '') + m[2];
    if (
      PLACEHOLDER.test(path.basename(cited)) ||
      EXTERNAL_ROOT.test(cited) ||
      EXTERNAL_BEFORE.test(plain.slice(Math.max(0, m.index - 30), m.index))
    )
      continue;
    if (resolves(cited, file)) dirs.add(path.dirname(cited));
    else unresolved.push([cited, m.index]);
  }
  for (const [cited, index] of unresolved) {
    const beside = cited.startsWith('./') && [...dirs].some((d) => present(path.join(root, d, cited)));
    if (!beside) problems.push(`${at(index)}: cites ${cited}, which the repository does not contain`);
  }
  for (const m of plain.matchAll(BARE_MD_RE)) {
    if (!markdownNames().has(m[1]) && m[1] !== 'DESIGN.md')
      problems.push(`${at(m.index)}: cites ${m[1]}, which the repository does not contain`);
  }
  for (const [re, why] of OUTSIDE) for (const m of plain.matchAll(re)) problems.push(`${at(m.index)}: ${why}`);
  return problems;
}

export function checkCitations() {
  const problems = [];
  const docs = [
    ...DOCS.map((d) => path.join(root, d)),
    ...walkFiles(path.join(root, 'docs'), (n) => n.endsWith('.md')),
  ];
  for (const f of docs) if (existsSync(f)) problems.push(...citationProblems(f, readFileSync(f, 'utf8')));
  const code = CODE_DIRS.flatMap((d) => walkFiles(path.join(root, d), (n) => /\.(ts|mts|js|mjs)$/.test(n))).filter(
    (f) => f !== SELF,
  );
  for (const f of code) {
    for (const [comment, line] of commentsOf(f, readFileSync(f, 'utf8')))
      problems.push(...citationProblems(f, comment, line));
  }
  return problems;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = checkCitations();
  if (problems.length) {
    console.error(
      `check-citations: ${problems.length} citation(s) of what the repository does not contain:\n${problems.join('\n')}`,
    );
    process.exit(1);
  }
  console.log('check-citations: every cited repository path exists; no DESIGN.md, ../shared or issue numbers');
}
