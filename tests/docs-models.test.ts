// docs/models.md is generated from the model files (docs/generate.ts) and must not drift from them.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { generateModelsDoc, readModels, DOC_FILE } from '../docs/generate.ts';

describe('docs/models.md', () => {
  it('matches the model files (regenerate with `npx tsx docs/generate.ts`)', () => {
    expect(readFileSync(DOC_FILE, 'utf8')).toBe(generateModelsDoc());
  });

  it('documents every model and every parameter with a unit and a source', () => {
    const doc = generateModelsDoc();
    for (const m of readModels()) {
      expect(doc).toContain(`Id: \`${m.id}\``);
      for (const [name, p] of Object.entries(m.parameters ?? {})) {
        expect(doc, `${m.id}.${name}`).toContain(`| \`${name}\` |`);
        expect(p.source, `${m.id}.${name} has no source`).toBeTruthy();
        expect(p.unit, `${m.id}.${name} has no unit`).toBeTruthy();
      }
    }
  });
});
