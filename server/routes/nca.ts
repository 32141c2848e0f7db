// POST /api/nca: non-compartmental analysis of concentration-time observations (JSON `observations`, or CSV
// text with columns time,conc[,subject] in `csv`), one result per subject. Cheap and bounded
// (NCA_LIMITS), so it runs in the request thread, not in a worker.
import type { Express } from 'express';
import { z } from 'zod';
import { ncaRequest, parseNcaCsv, NcaOptions } from '../../src/analysis/nca.ts';
import { InputError } from '../../src/errors.ts';

/** The request body: NcaRequest (src/analysis/nca.ts), or its options with `csv` text instead of observations. */
export const NcaCsvRequest = NcaOptions.extend({ csv: z.string().max(5_000_000) });

export function registerNcaRoute(app: Express): void {
  app.post('/api/nca', (req, res) => {
    const body = req.body as Record<string, unknown> | undefined;
    try {
      if (body && typeof body === 'object' && typeof body.csv === 'string') {
        const { csv, ...opts } = body;
        res.json(ncaRequest({ ...opts, observations: parseNcaCsv(csv) }));
      } else res.json(ncaRequest(body));
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      // The API's error shape (Contract 5): 400 with every issue and its path.
      res.status(400).json({ error: { message: e.message, issues: e.issues } });
    }
  });
}
