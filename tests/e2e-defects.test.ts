// The main page's defects found in a real browser, each with its check: the phone layout at
// 390×844, arm names, presets across model switches, downloads after an error, readability with many arms,
// identical curves, the drug axis, axis titles, progress with Cancel, client-side validation against the
// model's ranges, and axe-core (no serious or critical violation). Skips, saying so, only without chromium.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/app.ts';
import { hasChromium, CHROMIUM, launch, waitForRun, runs, traces, axeViolations } from './e2e/browser.ts';

const OUT = fileURLToPath(new URL('../test-results/', import.meta.url));
if (!hasChromium)
  console.warn(
    `tests/e2e-defects.test.ts: SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`,
  );

let srv: RunningServer;
let browser: Browser;
const pageErrors: string[] = [];

const view = (v: object) =>
  `${srv.url}/#s=${encodeURIComponent(JSON.stringify({ model: 'immunotherapy', end: 365, step: 1, ...v }))}`;

async function open(url: string, opts: { width?: number; height?: number; mobile?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({
    viewport: { width: opts.width ?? 1366, height: opts.height ?? 768 },
    isMobile: opts.mobile ?? false,
    hasTouch: opts.mobile ?? false,
  });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await waitForRun(page, 0);
  return page;
}

describe.skipIf(!hasChromium)('main page defects in chromium', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    srv = await startServer(0, '127.0.0.1', { workers: 2 });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('phone 390×844: no horizontal scroll, no zoom-out, Run and the tumor plot on the first screen, parameters folded', async () => {
    const page = await open(`${srv.url}/`, { width: 390, height: 844, mobile: true });
    try {
      const m = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        scale: window.visualViewport?.scale,
        tumorTop: document.getElementById('plot-tumor')!.getBoundingClientRect().top,
        paramsTop: document.getElementById('params-card')!.getBoundingClientRect().top,
        paramsOpen: (document.getElementById('params-card') as HTMLDetailsElement).open,
        modebar: document.querySelectorAll('#plot-tumor .modebar-container .modebar-btn').length,
      }));
      expect(m.innerWidth).toBe(390); // a page wider than the screen makes a phone zoom out (innerWidth grows)
      expect(m.scrollWidth).toBeLessThanOrEqual(390);
      expect(m.scale).toBe(1);
      expect(m.tumorTop).toBeLessThan(844 - 150); // the tumor plot starts on the first screen
      expect(m.paramsTop).toBeGreaterThan(m.tumorTop); // the parameters come after the plots
      expect(m.paramsOpen).toBe(false);
      expect(m.modebar).toBe(0); // no plotly toolbar over the panel titles
      const run = await page.locator('#run').boundingBox();
      expect(run!.x + run!.width).toBeLessThanOrEqual(390);
      expect(run!.y + run!.height).toBeLessThanOrEqual(844);
      await page.screenshot({ path: `${OUT}phone-390.png` });
      // The parameters unfold on demand and still fit the width.
      await page.click('#params-card > summary');
      expect(await page.locator('input[data-param="r"]').isVisible()).toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('an arm with a dose added by hand is renamed, and a link keeps that name', async () => {
    const page = await open(`${srv.url}/`);
    try {
      const n = await runs(page);
      await page.click('.arm[data-arm="0"] button.link');
      await page.locator('.arm[data-arm="0"] .dose select.d-target').selectOption('NIVc');
      await waitForRun(page, n);
      expect(await page.locator('.arm[data-arm="0"] .arm-name').inputValue()).toBe('NIVc by hand');
      await expect
        .poll(async () => (await traces(page, 'plot-tumor')).filter((t) => !t.meta?.doses).map((t) => t.name))
        .toEqual(['NIVc by hand']);
      const other = await open(page.url());
      try {
        expect(await other.locator('.arm[data-arm="0"] .arm-name').inputValue()).toBe('NIVc by hand');
      } finally {
        await other.close();
      }
    } finally {
      await page.close();
    }
  });

  it('presets survive a switch to a model that cannot take them and come back', async () => {
    const page = await open(
      view({ arms: [{ name: 'x', auto: 1, therapies: ['nivolumab-240mg-q2w', 'ipilimumab-3mgkg-q3w-x4'] }] }),
    );
    try {
      expect(await page.locator('.arm .chip').count()).toBe(2);
      let n = await runs(page);
      await page.locator('#model').selectOption('tgi-logistic');
      await waitForRun(page, n);
      expect(await page.locator('.arm .chip').count()).toBe(0);
      n = await runs(page);
      await page.locator('#model').selectOption('immunotherapy');
      await waitForRun(page, n);
      expect(await page.locator('.arm .chip').allInnerTexts()).toEqual([
        expect.stringContaining('nivolumab-240mg-q2w'),
        expect.stringContaining('ipilimumab-3mgkg-q3w-x4'),
      ]);
      expect(await page.locator('.arm-name').inputValue()).toBe('nivolumab + ipilimumab');
      // Therapy classes come from GET /api/therapies.
      expect(await page.locator('.add-therapy optgroup[label="pembrolizumab (anti-PD-1)"]').count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it('after a failed run the downloads are off (no silent export of the previous run); a good run turns them on', async () => {
    const page = await open(`${srv.url}/`);
    try {
      expect(await page.locator('#dl-csv').isEnabled()).toBe(true);
      // A server-side failure (the solver gives up): answered 422 by the route.
      await page.route('**/api/compare*', (route) =>
        route.fulfill({
          status: 422,
          contentType: 'application/json',
          body: JSON.stringify({
            error: { message: "arm 'Untreated': could not solve: step size too small", issues: [] },
          }),
        }),
      );
      await page.click('#run');
      await page.waitForFunction(() => document.body.dataset.state === 'error');
      expect(await page.locator('#error').innerText()).toContain('Could not solve (422)');
      expect(await page.locator('#dl-csv').isDisabled()).toBe(true);
      expect(await page.locator('#dl-json').isDisabled()).toBe(true);
      await page.unroute('**/api/compare*');
      const n = await runs(page);
      await page.click('#run');
      await waitForRun(page, n);
      expect(await page.locator('#dl-csv').isEnabled()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it('12 arms: the tumor plot keeps a readable height; identical curves are drawn dashed on top and say so', async () => {
    const arms = Array.from({ length: 12 }, (_, i) => ({
      name: `arm ${i + 1}`,
      therapies: i % 2 ? ['pembrolizumab-200mg-q3w'] : [],
    }));
    const page = await open(view({ arms }));
    try {
      const sizes = await page.evaluate(() => {
        const fl = (id: string) =>
          (document.getElementById(id) as unknown as { _fullLayout: { yaxis: { _length: number } } })._fullLayout;
        return { tumor: fl('plot-tumor').yaxis._length, drugs: fl('plot-drugs').yaxis._length };
      });
      expect(sizes.tumor).toBeGreaterThanOrEqual(180);
      expect(sizes.drugs).toBeGreaterThanOrEqual(180);
      const curves = (await traces(page, 'plot-drugs')).filter((t) => t.meta?.series);
      expect(curves).toHaveLength(6); // the six pembrolizumab arms, the same curve
      expect(curves[0].line!.dash).not.toBe('dash');
      for (const c of curves.slice(1)) {
        expect(c.line!.dash).toBe('dash');
        expect(c.meta!.sameAs).toBe('arm 2');
      }
      await page.screenshot({ path: `${OUT}twelve-arms.png`, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('drug axis on a log scale by default (aldesleukin visible), y titles with units, ticks as powers of ten', async () => {
    const page = await open(
      view({
        arms: [
          { name: 'IL-2', therapies: ['aldesleukin-600kiu-kg-q8h-x14'] },
          { name: 'pembro', therapies: ['pembrolizumab-200mg-q3w'] },
        ],
        extra: ['IL2', 'E', 'exhaustedFraction'],
      }),
    );
    try {
      const layout = (id: string) =>
        page.evaluate((i) => {
          const l = (
            document.getElementById(i) as unknown as {
              layout: {
                yaxis: {
                  type: string;
                  title: { text: string };
                  range?: number[];
                  exponentformat: string;
                  dtick?: number;
                };
              };
            }
          ).layout;
          return l.yaxis;
        }, id);
      const drugs = await layout('plot-drugs');
      expect(drugs.type).toBe('log');
      const il2 = (await traces(page, 'plot-drugs')).find((t) => t.meta?.series === 'C_aldesleukin')!;
      const peak = Math.max(...il2.y);
      expect(Math.log10(peak)).toBeGreaterThan(drugs.range![0]);
      expect(Math.log10(peak)).toBeLessThan(drugs.range![1]);
      expect(drugs.title.text).toBe('concentration (mg/L)');
      const tumor = await layout('plot-tumor');
      expect(tumor.title.text).toBe('tumor (cells)');
      expect(tumor.exponentformat).toBe('power');
      expect(tumor.dtick).toBe(1);
      expect((await layout('plot-tcells')).title.text).toBe('T cells (cells)');
      expect((await layout('plot-occupancy')).title.text).toBe('occupancy (fraction)');
      expect((await layout('plot-extra')).title.text).toMatch(
        /^mixed units: .*cells.*fraction|^mixed units: .*fraction.*cells/,
      );
      // Linear on demand.
      await page.locator('#drug-scale').selectOption('linear');
      await expect.poll(async () => (await layout('plot-drugs')).type).toBe('linear');
    } finally {
      await page.close();
    }
  });

  it('a long run shows a progress bar with elapsed time, and Cancel stops it', async () => {
    const page = await open(`${srv.url}/`);
    try {
      // Hold the next request for 4 s, as a long solve would.
      await page.route('**/api/compare*', async (route) => {
        await new Promise((r) => setTimeout(r, 4000));
        await route.continue().catch(() => undefined);
      });
      await page.click('#run');
      await expect.poll(() => page.locator('#progress').isVisible()).toBe(true);
      await expect.poll(() => page.locator('#elapsed').innerText()).toMatch(/^[0-9.]+ s$/);
      expect(await page.locator('#progress [role="progressbar"]').count()).toBe(1);
      await page.click('#cancel');
      expect(await page.evaluate(() => document.body.dataset.state)).toBe('cancelled');
      expect(await page.locator('#status').innerText()).toMatch(/Cancelled/);
      expect(await page.locator('#progress').isVisible()).toBe(false);
      await page.unroute('**/api/compare*');
    } finally {
      await page.close();
    }
  });

  it("validation in the page: values outside the model's declared range are highlighted and not sent", async () => {
    const page = await open(`${srv.url}/`);
    try {
      let posts = 0;
      page.on('request', (r) => {
        if (r.method() === 'POST' && r.url().includes('/api/compare')) posts++;
      });
      await page.fill('input[data-param="r"]', '-1');
      await page.fill('input[data-param="T0"]', '-1e10');
      await page.waitForFunction(() => document.body.dataset.state === 'invalid');
      for (const name of ['r', 'T0'])
        expect(await page.locator(`input[data-param="${name}"]`).getAttribute('aria-invalid')).toBe('true');
      const text = await page.locator('#error').innerText();
      expect(text).toMatch(/r: -1 is below the model's range \[0\.005, 0\.3\]/);
      expect(text).toMatch(/T0: -1e10 is below the model's range/);
      expect(await page.locator('#dl-csv').isDisabled()).toBe(true);
      await page.fill('#end', '0');
      await expect.poll(() => page.locator('#end').getAttribute('aria-invalid')).toBe('true');
      expect(posts).toBe(0);
      // The error's link takes the keyboard to the field.
      await page.locator('#error button.link', { hasText: 'T0' }).click();
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).dataset.param)).toBe('T0');
      const n = await runs(page);
      await page.fill('input[data-param="r"]', '0.02');
      await page.fill('input[data-param="T0"]', '1e10');
      await page.fill('#end', '365');
      await waitForRun(page, n);
      expect(await page.locator('[aria-invalid="true"]').count()).toBe(0);
      expect(posts).toBeGreaterThan(0);
    } finally {
      await page.close();
    }
  });

  it('axe-core finds no serious or critical violation on the main page (desktop, with arms, doses, metrics and errors)', async () => {
    const page = await open(
      view({
        arms: [
          { name: 'u' },
          { name: 'p', therapies: ['pembrolizumab-200mg-q3w'], doses: [{ target: 'ATZc', amount: 1200 }] },
        ],
      }),
    );
    try {
      await page.click('#more-series summary');
      await page.click('.all-metrics summary');
      expect(await axeViolations(page)).toEqual([]);
      await page.fill('input[data-param="r"]', '-1');
      await page.waitForFunction(() => document.body.dataset.state === 'invalid');
      expect(await axeViolations(page)).toEqual([]);
      // The check can fail: an unlabelled field is reported.
      await page.evaluate(() => document.body.append(Object.assign(document.createElement('input'), { type: 'text' })));
      expect((await axeViolations(page)).map((v) => v.id)).toContain('label');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
