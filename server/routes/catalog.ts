// The read-only routes: GET /healthz, /api/models, /api/models/:id, /api/therapies, /api/openapi.json.
import type { Express } from 'express';
import { listModels, modelJson } from '../../src/model/library.ts';
import { THERAPIES, DRUG_CLASSES } from '../../src/dosing/therapies.ts';
import { VERSION } from '../../src/package-info.ts';
import type { WorkerPool } from '../../src/jobs/pool.ts';
import { openApiDocument } from '../schemas.ts';
import { HttpError } from '../http-errors.ts';

export const DEFAULT_MODEL = 'immunotherapy';

export function registerCatalogRoutes(app: Express, pool: WorkerPool): void {
  app.get('/healthz', (_req, res) => {
    res.json({
      status: 'ok',
      version: VERSION,
      models: listModels().length,
      workers: pool.size,
      ready: pool.stats().ready,
    });
  });

  app.get('/api/models', (_req, res) => {
    const models = listModels().map((m) => ({
      id: m.id,
      title: m.title,
      ...(m.reference !== undefined ? { reference: m.reference } : {}),
    }));
    const def = models.some((m) => m.id === DEFAULT_MODEL) ? DEFAULT_MODEL : (models[0]?.id ?? '');
    res.json({ default: def, models });
  });

  app.get('/api/models/:id', (req, res) => {
    const id = String(req.params.id);
    const json = /^[a-z0-9][a-z0-9._-]{0,99}$/.test(id) ? modelJson(id) : undefined;
    if (!json) {
      throw new HttpError(
        404,
        `unknown model '${id.slice(0, 100)}' (available: ${listModels()
          .map((m) => m.id)
          .join(', ')})`,
        [{ path: ['id'], message: 'unknown model' }],
      );
    }
    res.json(json);
  });

  app.get('/api/therapies', (_req, res) => {
    res.json({
      model: DEFAULT_MODEL,
      therapies: THERAPIES.map((t) => ({
        id: t.id,
        title: t.title,
        drug: t.drug,
        ...(Object.hasOwn(DRUG_CLASSES, t.drug) ? { class: DRUG_CLASSES[t.drug] } : {}),
        source: t.source,
        ...(t.notes ? { notes: t.notes } : {}),
        targets: [...new Set(t.doses.map((d) => d.target))],
        doses: t.doses,
      })),
    });
  });

  let openapi: string | undefined;
  app.get('/api/openapi.json', (_req, res) => {
    openapi ??= JSON.stringify(openApiDocument(VERSION), null, 2);
    res.type('application/json').send(openapi);
  });
}
