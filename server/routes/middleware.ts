// The app-wide middleware (request counting for graceful shutdown, security headers, compression, the
// request log, JSON body checks) and, registered last, the 404s and the error handler that turns every
// error into the API's error shape (server/http-errors.ts).
import express, { type Request, type Response, type NextFunction } from 'express';
import helmet from 'helmet';
import compression from 'compression';
import { constants as zlibConstants } from 'node:zlib';
import { findReservedKeys } from '../../src/keys.ts';
import { SERVER_LIMITS } from '../schemas.ts';
import { HttpError, badRequest, sendError } from '../http-errors.ts';
import { mountStatic } from '../static.ts';

/** Deepest nesting of a parsed JSON value (iterative: a hostile body cannot overflow the stack here). */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d >= max) return true;
    for (const c of Array.isArray(v) ? v : Object.values(v))
      if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

/** Everything that runs before the routes; returns the count of requests being answered. */
export function registerMiddleware(app: express.Express, options: { log?: boolean }): () => number {
  // Requests being answered (graceful shutdown waits for them).
  let inFlight = 0;
  app.use((_req, res, next) => {
    inFlight++;
    res.once('close', () => inFlight--);
    next();
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          connectSrc: ["'self'"],
          fontSrc: ["'self'", 'data:'],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          upgradeInsecureRequests: null,
        },
      },
      crossOriginEmbedderPolicy: false,
      strictTransportSecurity: false,
    }),
  );

  // gzip / brotli for API responses and static files (the plotly bundle comes precompressed: server/static.ts).
  // Server-sent events (GET /api/jobs/:id/events) are never compressed: the middleware would buffer them.
  // Fastest levels (gzip 1, brotli 1): API bodies are made per request on the main thread, where every
  // millisecond of compression is a millisecond no other request is served; the ratio barely changes for
  // JSON of numbers (the plotly bundle is precompressed at the highest levels once, in static.ts).
  app.use(
    compression({
      threshold: 1024,
      level: 1,
      brotli: { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } },
      filter: (req, res) =>
        !String(res.getHeader('Content-Type') ?? '').startsWith('text/event-stream') && compression.filter(req, res),
    }),
  );

  if (options.log) {
    app.use((req, res, next) => {
      const t0 = performance.now();
      res.on('finish', () =>
        console.log(
          `${new Date().toISOString()} ${req.method} ${req.originalUrl.slice(0, 200)} ${res.statusCode} ${(performance.now() - t0).toFixed(0)}ms`,
        ),
      );
      next();
    });
  }

  // Bodies: JSON only, size-limited, not too deeply nested.
  app.use('/api', (req, _res, next) => {
    if (req.method !== 'POST') return next();
    if (!req.is('application/json')) {
      const type = req.headers['content-type'];
      return next(
        new HttpError(
          400,
          type
            ? `the request body must be JSON (Content-Type: application/json), not ${String(type).slice(0, 100)}`
            : 'the request needs a JSON body (Content-Type: application/json)',
          [{ path: [], message: 'expected a JSON body' }],
        ),
      );
    }
    next();
  });
  app.use('/api', express.json({ limit: SERVER_LIMITS.bodyBytes, strict: true, type: 'application/json' }));
  app.use('/api', (req, _res, next) => {
    if (req.method === 'POST' && depthExceeds(req.body, SERVER_LIMITS.bodyDepth)) {
      return next(
        new HttpError(400, `the request body is nested more than ${SERVER_LIMITS.bodyDepth} levels deep`, [
          { path: [], message: 'nested too deeply' },
        ]),
      );
    }
    // Names such as __proto__ or constructor, anywhere: refused with their path (src/keys.ts).
    const reserved = req.method === 'POST' ? findReservedKeys(req.body) : [];
    if (reserved.length) return next(badRequest(reserved));
    next();
  });
  return () => inFlight;
}

/** After the routes: the /api 404, the web client's static files, the 404 for the rest, then the error handler. */
export function registerFallbacks(app: express.Express): void {
  app.use('/api', (req, _res, next) =>
    next(
      new HttpError(
        404,
        `no route ${req.method} ${(req.baseUrl + req.path).slice(0, 200)} (see GET /api/openapi.json)`,
      ),
    ),
  );

  // The web client and plotly (from node_modules: no CDN).
  mountStatic(app);
  app.use((req, _res, next) => next(new HttpError(404, `not found: ${req.method} ${req.path.slice(0, 200)}`)));

  // Errors: body-parser's (bad JSON, too large, bad encoding), ours, and anything else as a bare 500.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    if (err instanceof HttpError) {
      if (err.status === 503) res.set('Retry-After', '1');
      return sendError(res, err.status, err.message, err.issues, err.extra);
    }
    const e = err as { type?: string; status?: number; statusCode?: number; message?: string };
    switch (e.type) {
      case 'entity.parse.failed':
        return sendError(res, 400, `the request body is not valid JSON: ${String(e.message ?? '').slice(0, 200)}`, [
          { path: [], message: 'invalid JSON' },
        ]);
      case 'entity.too.large':
        return sendError(res, 413, `the request body is larger than ${SERVER_LIMITS.bodyBytes} bytes`, [
          { path: [], message: 'body too large' },
        ]);
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendError(res, 400, 'the request body must be UTF-8 JSON', [
          { path: [], message: String(e.message ?? '').slice(0, 200) },
        ]);
      case 'request.aborted':
      case 'request.size.invalid':
      case 'stream.encoding.set':
        return sendError(res, 400, 'the request body could not be read', [
          { path: [], message: String(e.message ?? '').slice(0, 200) },
        ]);
    }
    const status = e.status ?? e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return sendError(res, status, String(e.message ?? 'bad request').slice(0, 200));
    console.error('immunopd server: internal error:', err);
    sendError(res, 500, 'internal error');
  });
}
