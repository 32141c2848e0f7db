// The fit page (web/fit/) in a real browser: paste a CSV, tick the parameters to estimate, fit, and see the
// data over the fitted curve, the estimates table and the residual plot; then a bad CSV gives an inline
// error. Skips, saying so, only when /usr/bin/chromium is absent.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/app.ts';
import { axeViolations, traces, launch, CHROMIUM, hasChromium } from './e2e/browser.ts';

if (!hasChromium)
  console.warn(`tests/e2e-fit.test.ts: SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);

let srv: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

// One server and browser for the file (both describe blocks).
beforeAll(async () => {
  if (!hasChromium) return;
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
  browser = await launch();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe.skipIf(!hasChromium)('fit page in chromium', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await page?.close();
  });

  it('is linked from the main page', async () => {
    await page.goto(`${srv.url}/`);
    await expect.poll(() => page.locator('a[href="fit/"]').count()).toBeGreaterThan(0);
  });

  it('fits pasted data and shows the curve, the estimates and the residuals', async () => {
    const cases = JSON.parse(readFileSync(new URL('./reference/fit/cases.json', import.meta.url), 'utf8')).cases;
    const rows = cases['one-subject-additive'].data as { time: number; observable: string; value: number }[];
    const csv = 'time,observable,value\n' + rows.map((r) => `${r.time},${r.observable},${r.value}`).join('\n');
    await page.goto(`${srv.url}/fit/`);
    await expect.poll(() => page.locator('#fit-params [data-est]').count()).toBeGreaterThan(2);
    await page.locator('#fit-model').selectOption('tgi-logistic');
    await expect.poll(() => page.locator('[data-est="r"]').count()).toBe(1);
    await page.fill('#fit-csv', csv);
    for (const [name, init] of [
      ['r', '0.2'],
      ['K', '2e9'],
      ['V0', '2.5e7'],
    ]) {
      await page.check(`[data-est="${name}"]`);
      await page.fill(`[data-init="${name}"]`, init);
    }
    // kKill is fixed at 0 for this untreated case.
    await page.fill('[data-init="kKill"]', '0');
    await page.click('#fit-run');
    await expect.poll(() => page.locator('#fit-table tr').count(), { timeout: 60_000 }).toBe(4);
    const r = Number((await page.locator('#fit-table tr:has(td:text-is("r")) td').nth(1).textContent())!);
    expect(Math.abs(r - 0.1) / 0.1).toBeLessThan(0.05);
    expect(await page.locator('#fit-report').textContent()).toMatch(/Converged/);
    expect(
      await page.evaluate(() => (document.getElementById('fit-plot') as unknown as { data: unknown[] }).data.length),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await page.evaluate(
        () => (document.getElementById('fit-resid') as unknown as { data: { x: number[] }[] }).data[0].x.length,
      ),
    ).toBe(rows.length);
  });

  it('the fit plots carry time units and y titles with units', async () => {
    const layout = await page.evaluate(() => {
      const l = (id: string) =>
        (
          document.getElementById(id) as unknown as {
            layout: { xaxis: { title: { text: string } }; yaxis: { title: { text: string } } };
          }
        ).layout;
      return {
        x: l('fit-plot').xaxis.title.text,
        y: l('fit-plot').yaxis.title.text,
        rx: l('fit-resid').xaxis.title.text,
        ry: l('fit-resid').yaxis.title.text,
      };
    });
    expect(layout).toEqual({ x: 'time (day)', y: 'tumorVolume_mm3 (mm3)', rx: 'time (day)', ry: 'weighted residual' });
    expect(await axeViolations(page)).toEqual([]);
  });

  it('the optimizer tab: the best schedule against the baselines as a table, the objective explained, both curves visible', async () => {
    await page.click('#tab-opt');
    await page.click('#opt-run');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 90_000 }).toMatch(/optimized in/);
    expect(await page.locator('#opt-table tbody tr').count()).toBeGreaterThan(5);
    const summary = page.locator('#opt-summary tbody tr');
    expect(await summary.count()).toBe(3); // best + 2 baselines
    expect(await summary.nth(0).innerText()).toMatch(/pembrolizumab \d+ × \d+ every \d+ d/);
    expect(await page.locator('#opt-objective').innerText()).toMatch(
      /lower is better.*log10\(final tumor \/ tumor at day 0\)/,
    );
    const curves = await traces(page, 'opt-plot');
    expect(curves).toHaveLength(2);
    const [best, base] = curves;
    // The baseline is drawn on top, dashed and thinner: visible where it equals the best schedule, and says so.
    expect(base.line!.dash).toBe('dash');
    expect(base.line!.width!).toBeLessThan(best.line!.width!);
    const same = best.y.every((v, i) => Math.abs(v - base.y[i]) <= 1e-6 * Math.abs(v));
    expect(base.name.includes('same curve as the best')).toBe(same);
    const y = await page.evaluate(
      () =>
        (
          document.getElementById('opt-plot') as unknown as {
            layout: { yaxis: { exponentformat: string; title: { text: string } } };
          }
        ).layout.yaxis,
    );
    expect(y.exponentformat).toBe('power');
    expect(y.title.text).toBe('tumor (cells)');
    expect(await page.locator('#opt-plot .ytick text').allTextContents()).not.toContainEqual(
      expect.stringMatching(/[BMk]$/),
    );
    expect(await axeViolations(page)).toEqual([]);
    await page.click('#tab-fit');
  });

  it('a bad CSV gives an error in the results column naming the line', async () => {
    await page.fill('#fit-csv', 'time,observable,value\n1,tumorVolume_mm3,abc\n2,tumorVolume_mm3,3\n');
    await page.click('#fit-run');
    const box = page.locator('#fit-error-box');
    await expect.poll(() => box.isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await box.innerText()).toMatch(/line 2|not a number/);
    expect(pageErrors).toEqual([]);
  });

  it('an unknown observable: the error box lists the field and the page lists the valid observables', async () => {
    await page.fill('#fit-csv', 'time,observable,value\n0,volume,60\n8,volume,90\n16,volume,200\n24,volume,350\n');
    await page.click('#fit-run');
    const box = page.locator('#fit-error-box');
    await expect.poll(async () => box.innerText(), { timeout: 30_000 }).toMatch(/data\[0\]\.observable/);
    expect(await box.innerText()).toMatch(/'volume' is neither a state nor an output/);
    const listed = await page.locator('#fit-observables li code').allTextContents();
    expect(listed).toEqual(expect.arrayContaining(['V', 'Cd', 'tumor', 'tumorVolume_mm3']));
    expect(await axeViolations(page)).toEqual([]);
  });

  it('proportional error with transform log is refused with the reason, in the page', async () => {
    await page.click('#fit-example');
    // The example loads its model first, then sets the error model to its own: choose after it has finished.
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'example loaded: press Fit');
    await page.selectOption('#fit-error', 'proportional');
    await page.selectOption('#fit-transform', 'log');
    await page.click('#fit-run');
    const box = page.locator('#fit-error-box');
    await expect
      .poll(async () => (await box.isVisible()) && box.innerText(), { timeout: 30_000 })
      .toMatch(/error\.model.*not a proper likelihood/s);
  });
});

describe.skipIf(!hasChromium)(
  'fit page at 1366×768: example, placeholders, Fit reachable, keyboard',
  { timeout: 120_000 },
  () => {
    let p: Page;
    beforeAll(async () => {
      p = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      await p.goto(`${srv.url}/fit/`);
      await p.waitForSelector('[data-est="r"]');
    });
    afterAll(async () => {
      await p?.close();
    });

    it('the Fit button is on the first screen; every field has an accessible name (axe)', async () => {
      const box = await p.locator('#fit-run').boundingBox();
      expect(box!.y + box!.height).toBeLessThanOrEqual(768);
      expect(box!.x + box!.width).toBeLessThanOrEqual(1366);
      expect(await axeViolations(p)).toEqual([]);
    });

    it('the placeholders agree: every arm of the CSV placeholder has an entry in the doses placeholder, on observables of the model', async () => {
      const csv = (await p.locator('#fit-csv').getAttribute('placeholder'))!.split('\n');
      const subjects = JSON.parse((await p.locator('#fit-subjects').getAttribute('placeholder'))!);
      const header = csv[0].split(',');
      const arms = new Set(csv.slice(1).map((l) => l.split(',')[header.indexOf('arm')]));
      for (const a of arms) expect(Object.keys(subjects)).toContain(a);
      const observables = await p.locator('#fit-observables li code').allTextContents();
      for (const l of csv.slice(1)) expect(observables).toContain(l.split(',')[header.indexOf('observable')]);
      for (const d of Object.values<{ doses?: { target: string }[] }>(subjects).flatMap((s) => s.doses ?? []))
        expect(observables).toContain(d.target);
    });

    it('the example data fits at the first press of Fit (the documented truth r = 0.1 recovered)', async () => {
      await p.click('#fit-example');
      await p.click('#fit-run');
      await expect.poll(() => p.locator('#fit-table tbody tr').count(), { timeout: 60_000 }).toBe(3);
      const r = Number(await p.locator('#fit-table tr:has(td:text-is("r")) td').nth(1).textContent());
      expect(Math.abs(r - 0.1) / 0.1).toBeLessThan(0.01);
      expect(await p.locator('#fit-error-box').isVisible()).toBe(false);
    });

    it('keyboard: a skip link to the results; the tabs follow the arrow keys', async () => {
      await p.goto(`${srv.url}/fit/`);
      await p.keyboard.press('Tab');
      expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the results');
      await p.keyboard.press('Enter');
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('fit-results');
      await p.focus('#tab-fit');
      await p.keyboard.press('ArrowRight');
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('tab-pop');
      expect(await p.locator('#panel-pop').isVisible()).toBe(true);
      await p.keyboard.press('End');
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('tab-opt');
      expect(await p.locator('#tab-opt').getAttribute('aria-selected')).toBe('true');
      expect(await p.locator('#panel-opt').isVisible()).toBe(true);
      expect(await p.locator('#panel-fit').isVisible()).toBe(false);
      expect(await p.locator('#tab-fit').getAttribute('tabindex')).toBe('-1');
      await p.keyboard.press('Home');
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('tab-fit');
      expect(await p.locator('#panel-fit').isVisible()).toBe(true);
    });
  },
);
