// Generates docs/models.md from the model files in models/: for each model its description, equations,
// states, parameters (value, unit, range, source), outputs, events, presets, notes and references.
// Run `npx tsx docs/generate.ts` after editing a model; tests/docs-models.test.ts fails when the
// committed docs/models.md differs from what this script generates.
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MODELS_DIR = path.join(ROOT, 'models');
export const DOC_FILE = path.join(ROOT, 'docs', 'models.md');

/** The default model is listed first; the rest by id. */
const FIRST = 'immunotherapy';

interface Param { value: number; unit?: string; description?: string; source?: string; min?: number; max?: number; scale?: string }
interface State { initial?: number | string; unit?: string; description?: string }
type Output = string | { expr: string; unit?: string; description?: string };
interface Event { name?: string; when: string; set: Record<string, number | string>; description?: string }
interface Preset { description?: string; parameters?: Record<string, number>; initial?: Record<string, number> }
interface ModelFile {
  id: string; title?: string; description?: string; reference?: string | string[]; timeUnit?: string;
  parameters?: Record<string, Param>; states: Record<string, State>; assignments?: Record<string, string>;
  odes: Record<string, string>; outputs?: Record<string, Output>; events?: Event[]; notes?: string | string[];
  presets?: Record<string, Preset>;
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
/** A table cell: pipes escaped, newlines flattened. */
const cell = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
const code = (s: string) => '`' + s.replace(/`/g, "'") + '`';
const num = (v: number | undefined) => (v === undefined ? '' : String(v));

export function readModels(dir = MODELS_DIR): ModelFile[] {
  const models = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as ModelFile)
    .filter((m) => typeof m.id === 'string' && m.odes && m.states);
  return models.sort((a, b) => (a.id === FIRST ? -1 : b.id === FIRST ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function modelSection(m: ModelFile): string {
  const out: string[] = [];
  const tu = m.timeUnit ?? 'day';
  out.push(`## ${m.title || m.id}`, '', `Id: ${code(m.id)} · time unit: ${tu}`, '');
  if (m.description) out.push(m.description, '');

  out.push('### Equations', '', '```');
  for (const [name, expr] of Object.entries(m.assignments ?? {})) out.push(`${name} = ${expr}`);
  if (Object.keys(m.assignments ?? {}).length) out.push('');
  for (const s of Object.keys(m.states)) out.push(`d${s}/dt = ${m.odes[s] ?? '0'}`);
  out.push('```', '');
  if (Object.keys(m.assignments ?? {}).length) out.push('Assignments are evaluated in the order listed.', '');

  out.push('### States', '', '| state | unit | initial | description |', '|---|---|---|---|');
  for (const [name, s] of Object.entries(m.states)) {
    out.push(`| ${code(name)} | ${cell(s.unit ?? '1')} | ${cell(typeof s.initial === 'string' ? code(s.initial) : num(s.initial ?? 0))} | ${cell(s.description)} |`);
  }
  out.push('');

  const params = Object.entries(m.parameters ?? {});
  if (params.length) {
    out.push('### Parameters', '', '| parameter | value | unit | range | description | source |', '|---|---|---|---|---|---|');
    for (const [name, p] of params) {
      const range = p.min !== undefined || p.max !== undefined ? `${num(p.min)} – ${num(p.max)}${p.scale ? ` (${p.scale})` : ''}` : '';
      out.push(`| ${code(name)} | ${num(p.value)} | ${cell(p.unit ?? '1')} | ${cell(range)} | ${cell(p.description)} | ${cell(p.source)} |`);
    }
    out.push('');
  }

  const outputs = Object.entries(m.outputs ?? {});
  if (outputs.length) {
    out.push('### Outputs', '', '| output | expression | unit | description |', '|---|---|---|---|');
    for (const [name, o] of outputs) {
      const e = typeof o === 'string' ? { expr: o } : o;
      out.push(`| ${code(name)} | ${cell(code(e.expr))} | ${cell(e.unit)} | ${cell(e.description)} |`);
    }
    out.push('');
  }

  const events = m.events ?? [];
  if (events.length) {
    out.push('### Events', '', 'Located by root finding on the solution; the solver restarts after each.', '');
    out.push('| event | when | set | description |', '|---|---|---|---|');
    for (const ev of events) {
      const set = Object.entries(ev.set).map(([k, v]) => `${k} = ${v}`).join(', ');
      out.push(`| ${cell(ev.name)} | ${cell(code(ev.when))} | ${cell(code(set))} | ${cell(ev.description)} |`);
    }
    out.push('');
  }

  const presets = Object.entries(m.presets ?? {});
  if (presets.length) {
    out.push('### Presets', '', '| preset | values | description |', '|---|---|---|');
    for (const [name, p] of presets) {
      const vals = [...Object.entries(p.parameters ?? {}), ...Object.entries(p.initial ?? {}).map(([k, v]) => [`${k}(0)`, v] as const)]
        .map(([k, v]) => `${k} = ${v}`).join(', ');
      out.push(`| ${code(name)} | ${cell(vals)} | ${cell(p.description)} |`);
    }
    out.push('');
  }

  const notes = list(m.notes);
  if (notes.length) {
    out.push('### Notes', '');
    for (const n of notes) out.push(`- ${n.replace(/\s*\n\s*/g, ' ')}`);
    out.push('');
  }

  const refs = list(m.reference);
  if (refs.length) {
    out.push('### References', '');
    for (const r of refs) out.push(`- ${r.replace(/\s*\n\s*/g, ' ')}`);
    out.push('');
  }
  return out.join('\n');
}

export function generateModelsDoc(dir = MODELS_DIR): string {
  const models = readModels(dir);
  const head = [
    '# Models',
    '',
    '<!-- Generated by docs/generate.ts from models/*.json: do not edit by hand; run `npx tsx docs/generate.ts`. -->',
    '',
    'Every model in `models/`, as its file states it: equations (mathjs syntax, as compiled), states, parameters',
    'with units, plausible ranges and sources, outputs, events, presets and references. Sources cite the paper',
    '(listed under the model\'s references) with a provenance tag ([P] paper text or table, [E] curated encoding',
    'such as BioModels or nlmixr2lib, [R] authors\' code, [C] computed reference, [A] analytic) or say',
    '`assumption:` with the reason for the value.',
    '',
    '| id | title | states | parameters |',
    '|---|---|---|---|',
    ...models.map((m) => `| [${code(m.id)}](#${anchor(m.title || m.id)}) | ${cell(m.title)} | ${Object.keys(m.states).length} | ${Object.keys(m.parameters ?? {}).length} |`),
    '',
  ].join('\n');
  return `${head}\n${models.map(modelSection).join('\n')}`.replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/** GitHub-style heading anchor. */
function anchor(title: string): string {
  return title.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  mkdirSync(path.dirname(DOC_FILE), { recursive: true });
  writeFileSync(DOC_FILE, generateModelsDoc());
  console.log(`wrote ${path.relative(process.cwd(), DOC_FILE)}`);
}
