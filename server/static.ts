// The web client's static files: the pages (HTML rewritten once to point at the versioned plotly bundle),
// the plotly bundle itself under a versioned URL with a year of immutable caching, precompressed with brotli
// and gzip (once, off the request path), and everything else under web/ revalidated each load.
// Responses that are not precompressed here are compressed by the `compression` middleware (server/app.ts).
import express, { type Express, type Request, type Response } from 'express';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../src/package-info.ts';
import { createHash } from 'node:crypto';
import { brotliCompress, gzip, constants as zc } from 'node:zlib';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
// From the package root: the same code runs from server/ (sources) and dist/server/ (the build).
const WEB_DIR = path.join(PACKAGE_ROOT, 'web') + path.sep;
/** plotly's basic partial bundle (scatter, bar, pie: all the client draws), a quarter of the full bundle. */
const PLOTLY_FILE = require.resolve('plotly.js-basic-dist-min/plotly-basic.min.js');
const PLOTLY_VERSION: string = (require('plotly.js-basic-dist-min/package.json') as { version: string }).version;
/** The bundle's URL (relative to the site root): a new version gets a new URL, so it may be cached for good. */
export const PLOTLY_URL = `vendor/plotly-basic-${PLOTLY_VERSION}.min.js`;
const YEAR_S = 365 * 24 * 3600;

interface Encoded {
  raw: Buffer;
  br?: Buffer;
  gzip?: Buffer;
}

/** The bundle, with its brotli and gzip forms once they are ready (compressed in the libuv pool). */
function loadBundle(): Encoded {
  const bundle: Encoded = { raw: readFileSync(PLOTLY_FILE) };
  // Quality 9: 0.36 MB in well under a second (11 saves 8 % more but costs ten times the CPU at every start).
  promisify(brotliCompress)(bundle.raw, {
    params: { [zc.BROTLI_PARAM_QUALITY]: 9, [zc.BROTLI_PARAM_SIZE_HINT]: bundle.raw.length },
  }).then(
    (b) => {
      bundle.br = b;
    },
    () => undefined,
  );
  promisify(gzip)(bundle.raw, { level: 9 }).then(
    (b) => {
      bundle.gzip = b;
    },
    () => undefined,
  );
  return bundle;
}

let bundle: Encoded | undefined;

function sendBundle(req: Request, res: Response) {
  bundle ??= loadBundle();
  res.set({
    'Content-Type': 'text/javascript; charset=utf-8',
    'Cache-Control': `public, max-age=${YEAR_S}, immutable`,
    Vary: 'Accept-Encoding',
  });
  const enc = req.acceptsEncodings('br', 'gzip', 'identity');
  const body = enc === 'br' && bundle.br ? bundle.br : enc === 'gzip' && bundle.gzip ? bundle.gzip : undefined;
  if (body) {
    res.set('Content-Encoding', enc as string);
    res.send(body);
  } else res.send(bundle.raw); // not ready yet or not accepted: the compression middleware may still gzip it
}

/**
 * The pages, with the plotly script pointed at the versioned bundle (read once), and the CSP sources of
 * their inline scripts ('sha256-…': the main page's early requests run before any file loads, yet the
 * policy keeps refusing every other inline script).
 */
const pages = new Map<string, { html: string; scriptHashes: string[] }>();
function page(file: string): { html: string; scriptHashes: string[] } {
  let p = pages.get(file);
  if (p === undefined) {
    const html = readFileSync(`${WEB_DIR}${file}`, 'utf8').replace(/vendor\/plotly\.min\.js/g, PLOTLY_URL);
    const scriptHashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
      (m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`,
    );
    p = { html, scriptHashes };
    pages.set(file, p);
  }
  return p;
}

/** The response's Content-Security-Policy (set by helmet) with the page's inline-script hashes allowed. */
function allowInline(res: Response, hashes: string[]) {
  const csp = res.getHeader('Content-Security-Policy');
  if (!hashes.length || typeof csp !== 'string') return;
  res.setHeader('Content-Security-Policy', csp.replace("script-src 'self'", `script-src 'self' ${hashes.join(' ')}`));
}

/** Register the static routes (after the API's). */
export function mountStatic(app: Express) {
  bundle ??= loadBundle();
  app.get(`/${PLOTLY_URL}`, sendBundle);
  // The old unversioned address still works (a day of caching), for pages saved before.
  app.get('/vendor/plotly.min.js', (_req, res) => {
    res
      .set({ 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=86400' })
      .send(bundle!.raw);
  });
  for (const [route, file] of [
    ['/', 'index.html'],
    ['/index.html', 'index.html'],
    ['/fit/', 'fit/index.html'],
    ['/fit/index.html', 'fit/index.html'],
  ]) {
    app.get(route, (_req, res) => {
      const p = page(file);
      allowInline(res, p.scriptHashes);
      res.set('Cache-Control', 'no-cache').type('html').send(p.html);
    });
  }
  app.use(express.static(WEB_DIR, { index: false, maxAge: 0 }));
}
