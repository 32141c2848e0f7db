// The analysis views of the main page, run as jobs (POST /api/jobs, progress by server-sent events, DELETE
// cancels): a trial population with per-arm objective response ± SE and Kaplan–Meier curves; Sobol bars with
// bootstrap whiskers and Morris μ*/σ; Cancel stops the job on the server. Desktop and 390×844, axe-checked.
// Skips, saying so, only without chromium.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/app.ts';
import { hasChromium, CHROMIUM, launch, waitForRun, traces, axeViolations } from './e2e/browser.ts';

if (!hasChromium)
  console.warn(`tests/e2e-jobs.test.ts: SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);

let srv: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const view = {
  model: 'immunotherapy',
  end: 365,
  step: 1,
  arms: [{ name: 'Untreated' }, { name: 'pembro', therapies: ['pembrolizumab-200mg-q3w'] }],
};
const settled = (p: Page, key: string) =>
  p.waitForFunction((k) => ['ok', 'error', 'cancelled'].includes(document.body.dataset[k] ?? ''), key, {
    timeout: 150_000,
  });

describe.skipIf(!hasChromium)(
  'population response, global sensitivity and jobs in chromium',
  { timeout: 240_000 },
  () => {
    beforeAll(async () => {
      srv = await startServer(0, '127.0.0.1', { workers: 2 });
      browser = await launch();
      page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${srv.url}/#s=${encodeURIComponent(JSON.stringify(view))}`);
      await waitForRun(page, 0);
      await page.click('#analysis > summary');
    });
    afterAll(async () => {
      await browser?.close();
      await srv?.close();
    });

    it('a trial population as a job: ORR ± SE per arm (treated above untreated), a Kaplan–Meier curve per arm', async () => {
      await page.fill('#pop-n', '60');
      await page.fill('#pop-omega', 'r=0.3, kKill=0.3');
      const seen: number[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/api/jobs') && r.method() === 'POST') seen.push(1);
      });
      await page.click('#pop-run');
      await settled(page, 'population');
      expect(await page.locator('#pop-error').isVisible()).toBe(false);
      expect(await page.evaluate(() => document.body.dataset.population)).toBe('ok');
      expect(seen.length).toBe(1); // one job for both arms
      const rows = page.locator('#pop-response-table tbody tr');
      expect(await rows.count()).toBe(2);
      const orr = await page.$$eval('#pop-response-table td[data-orr]', (tds) =>
        tds.map((td) => Number((td as HTMLElement).dataset.orr)),
      );
      expect(orr[1]).toBeGreaterThan(orr[0]);
      expect(await rows.nth(1).innerText()).toMatch(/pembro\s+\d+(\.\d+)? % ± \d/);
      // The job's own result agrees with the table (the page shows the server's numbers, not its own).
      const id = await page.evaluate(() => document.body.dataset.populationJob!);
      const rec = (await (await fetch(`${srv.url}/api/jobs/${id}`)).json()) as {
        status: string;
        result: {
          arms: {
            name: string;
            response: {
              objectiveResponse: { p: number; se: number };
              timeToProgression: { curve: { time: number; survival: number }[] };
            };
          }[];
        };
      };
      expect(rec.status).toBe('succeeded');
      expect(orr).toEqual(rec.result.arms.map((a) => a.response.objectiveResponse.p));
      const km = await traces(page, 'plot-km');
      expect(km.map((t) => t.meta?.arm)).toEqual(['Untreated', 'pembro']);
      for (const [i, t] of km.entries()) {
        expect(t.y[0]).toBe(1);
        for (let k = 1; k < t.y.length; k++) expect(t.y[k]).toBeLessThanOrEqual(t.y[k - 1]); // survival never rises
        const curve = rec.result.arms[i].response.timeToProgression.curve;
        expect(t.y.at(-1)).toBeCloseTo(curve.at(-1)!.survival, 12);
      }
      // Bands as before, from the same job.
      const bands = await traces(page, 'plot-population');
      expect(bands.filter((t) => t.meta?.median).length).toBe(2);
      expect(await axeViolations(page)).toEqual([]);
    });

    it('Cancel stops a running population job on the server (the job ends cancelled) after the bar has filled part way', async () => {
      await page.fill('#pop-n', '5000');
      await page.click('#pop-run');
      await page.waitForSelector('#pop-progress progress');
      await page.waitForFunction(
        () => {
          const p = document.querySelector('#pop-progress progress') as HTMLProgressElement | null;
          return p !== null && p.value > 0;
        },
        undefined,
        { timeout: 120_000 },
      );
      const id = await page.evaluate(() => document.body.dataset.populationJob!);
      await page.click('#pop-progress .job-cancel');
      await settled(page, 'population');
      expect(await page.evaluate(() => document.body.dataset.population)).toBe('cancelled');
      expect(await page.locator('#pop-status').innerText()).toMatch(/Cancelled/);
      await expect
        .poll(async () => ((await (await fetch(`${srv.url}/api/jobs/${id}`)).json()) as { status: string }).status, {
          timeout: 30_000,
        })
        .toBe('cancelled');
      expect(await page.locator('#pop-progress').isVisible()).toBe(false);
      await page.fill('#pop-n', '60');
    });

    it('Sobol as a job: S1 and ST bars with bootstrap whiskers, S1 ≤ ST (within the intervals); Morris μ*/σ', async () => {
      await page.selectOption('#sens-method', 'sobol');
      expect(await page.locator('#sens-global').isVisible()).toBe(true);
      await page.fill('#sens-vary', 'r, kKill, nope');
      await page.click('#sens-run');
      expect(await page.locator('#sens-error').innerText()).toMatch(/'nope' is not a parameter/);
      expect(await page.locator('#sens-vary').getAttribute('aria-invalid')).not.toBeNull();
      await page.fill('#sens-vary', 'r, kKill');
      await page.fill('#sens-samples', '32');
      await page.click('#sens-run');
      await settled(page, 'sensitivity');
      expect(await page.locator('#sens-error').isVisible()).toBe(false);
      const bars = await page.evaluate(() =>
        (
          document.getElementById('plot-global') as unknown as {
            data: {
              x: string[];
              y: number[];
              meta: { index: string };
              error_y: { array: number[]; arrayminus: number[] };
            }[];
          }
        ).data.map((d) => ({
          x: Array.from(d.x),
          y: Array.from(d.y),
          index: d.meta.index,
          plus: Array.from(d.error_y.array),
          minus: Array.from(d.error_y.arrayminus),
        })),
      );
      expect(bars.map((b) => b.index)).toEqual(['S1', 'ST']);
      const [s1, st] = bars;
      expect(s1.x.sort()).toEqual(['kKill', 'r']);
      for (const b of bars)
        for (let i = 0; i < b.y.length; i++) {
          expect(b.plus[i]).toBeGreaterThanOrEqual(0);
          expect(b.minus[i]).toBeGreaterThanOrEqual(0);
        }
      for (let i = 0; i < st.y.length; i++) expect(s1.y[i] - s1.minus[i]).toBeLessThanOrEqual(st.y[i] + st.plus[i]);
      expect(await page.locator('#sens-status').innerText()).toMatch(/Sobol over 2 parameters .* 128 simulations/);
      await page.selectOption('#sens-method', 'morris');
      await page.fill('#sens-samples', '10');
      await page.click('#sens-run');
      await settled(page, 'sensitivity');
      expect(await page.locator('#sens-error').isVisible()).toBe(false);
      const m = await page.evaluate(
        () =>
          (
            document.getElementById('plot-global') as unknown as {
              data: { x: number[]; y: number[]; text: string[] }[];
            }
          ).data[0],
      );
      expect(m.text.slice().sort()).toEqual(['kKill', 'r']);
      for (const v of [...m.x, ...m.y]) expect(v).toBeGreaterThanOrEqual(0);
      expect(await axeViolations(page)).toEqual([]);
      expect(pageErrors).toEqual([]);
    });

    it('at 390×844 the analysis views fit the screen (no horizontal scroll) and pass axe', async () => {
      const p = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
      try {
        await p.goto(`${srv.url}/#s=${encodeURIComponent(JSON.stringify(view))}`);
        await waitForRun(p, 0);
        await p.click('#analysis > summary');
        await p.fill('#pop-n', '30');
        await p.click('#pop-run');
        await settled(p, 'population');
        await p.selectOption('#sens-method', 'sobol');
        await p.fill('#sens-samples', '16');
        await p.click('#sens-run');
        await settled(p, 'sensitivity');
        expect(await p.evaluate(() => `${document.body.dataset.population}${document.body.dataset.sensitivity}`)).toBe(
          'okok',
        );
        expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
        for (const id of ['plot-km', 'plot-global']) {
          const box = await p.locator(`#${id}`).boundingBox();
          expect(box!.x).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width).toBeLessThanOrEqual(390.5);
        }
        expect(await axeViolations(p)).toEqual([]);
      } finally {
        await p.close();
      }
    });
  },
);
