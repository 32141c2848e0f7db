// The cold-load speed-ups of the web client: the main page's inline script (its early requests: the first
// comparison, the model list, the therapies and the default model file) is allowed by the CSP through its
// sha256 hash only, and runs in chromium so that a plain visit sends each of those requests once; the
// server's warm-up (server/warmup.ts) gives every solver thread one small solve and never holds the start
// longer than its bound. Browser part skips, saying so, only without chromium.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { startServer, type RunningServer } from '../server/app.ts';
import { warmPool } from '../server/warmup.ts';
import type { WorkerPool } from '../src/jobs/pool.ts';
import { hasChromium, CHROMIUM, launch, waitForRun } from './e2e/browser.ts';

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
});
afterAll(async () => {
  await srv?.close();
});

describe('inline script of the main page under the CSP', () => {
  it("the CSP allows exactly the page's inline script by its hash, and no inline script in general", async () => {
    const res = await fetch(`${srv.url}/`);
    const html = await res.text();
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    const csp = res.headers.get('content-security-policy')!;
    const scriptSrc = csp.split(';').find((d) => d.startsWith('script-src '))!;
    expect(scriptSrc).toBe(
      `script-src 'self' 'sha256-${createHash('sha256').update(scripts[0], 'utf8').digest('base64')}'`,
    );
    expect(scriptSrc).not.toContain('unsafe-inline');
    // The fit page has no inline script: its policy is unchanged.
    const fit = await fetch(`${srv.url}/fit/`);
    expect(
      fit.headers
        .get('content-security-policy')!
        .split(';')
        .find((d) => d.startsWith('script-src ')),
    ).toBe("script-src 'self'");
  });
});

describe('warmPool', () => {
  it('sends one small solve of the model per thread', async () => {
    const sent: { type: string; scenario: { model: string } }[][] = [];
    const pool = {
      size: 3,
      runAll: (tasks: never[]) => {
        sent.push(tasks);
        return Promise.resolve([]);
      },
    } as unknown as WorkerPool;
    await warmPool(pool, 'immunotherapy');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toHaveLength(3);
    for (const t of sent[0]) expect([t.type, t.scenario.model]).toEqual(['simulate', 'immunotherapy']);
  });
  it('returns after its bound when the threads do not answer, and when the pool refuses', async () => {
    const stuck = { size: 1, runAll: () => new Promise(() => {}) } as unknown as WorkerPool;
    const t0 = performance.now();
    await warmPool(stuck, 'immunotherapy', 50);
    expect(performance.now() - t0).toBeLessThan(2_000);
    const busy = { size: 1, runAll: () => Promise.reject(new Error('busy')) } as unknown as WorkerPool;
    await expect(warmPool(busy, 'immunotherapy', 50)).resolves.toBeUndefined();
  });
});

if (!hasChromium)
  console.warn(
    `tests/web-boot.test.ts: browser part SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`,
  );
describe.skipIf(!hasChromium)('early requests in chromium', { timeout: 120_000 }, () => {
  it('a plain visit: the inline script runs (no CSP report), and each first request is sent once', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const messages: string[] = [];
      page.on('console', (m) => messages.push(m.text()));
      const sent: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/api/')) sent.push(`${r.method()} ${new URL(r.url()).pathname}`);
      });
      await page.goto(`${srv.url}/`);
      await waitForRun(page, 0);
      expect(messages.filter((m) => /Content Security Policy/.test(m))).toEqual([]);
      expect(await page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name))).toContain(
        'boot-requests',
      );
      for (const r of ['POST /api/compare', 'GET /api/models', 'GET /api/therapies', 'GET /api/models/immunotherapy'])
        expect(sent.filter((s) => s === r)).toHaveLength(1);
      // A link with a view: no speculative comparison; the page asks for the linked view only.
      const linked = await browser.newPage();
      const sentLinked: string[] = [];
      linked.on('request', (r) => {
        if (r.url().includes('/api/')) sentLinked.push(`${r.method()} ${new URL(r.url()).pathname}`);
      });
      const view = { model: 'immunotherapy', end: 100, step: 1, arms: [{ name: 'A' }] };
      await linked.goto(`${srv.url}/#s=${encodeURIComponent(JSON.stringify(view))}`);
      await waitForRun(linked, 0);
      expect(sentLinked.filter((s) => s === 'POST /api/compare')).toHaveLength(1);
      expect(sentLinked.filter((s) => s === 'GET /api/models')).toHaveLength(1);
    } finally {
      await browser.close();
    }
  });
});
