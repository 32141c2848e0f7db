// The population and sensitivity views of the main page (POST /api/population per arm, POST /api/sensitivity
// for one arm) and a keyboard-only walkthrough: skip link, a parameter, an arm with a preset, Run, the plots,
// the population — without the mouse. Skips, saying so, only without chromium.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/app.ts';
import { hasChromium, CHROMIUM, launch, waitForRun, runs, traces, axeViolations } from './e2e/browser.ts';

if (!hasChromium)
  console.warn(
    `tests/e2e-views.test.ts: SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`,
  );

let srv: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

describe.skipIf(!hasChromium)('population, sensitivity and the keyboard in chromium', { timeout: 180_000 }, () => {
  beforeAll(async () => {
    srv = await startServer(0, '127.0.0.1', { workers: 2 });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const view = {
      model: 'immunotherapy',
      end: 365,
      step: 1,
      arms: [{ name: 'Untreated' }, { name: 'pembro', therapies: ['pembrolizumab-200mg-q3w'] }],
    };
    await page.goto(`${srv.url}/#s=${encodeURIComponent(JSON.stringify(view))}`);
    await waitForRun(page, 0);
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('population bands per arm: median inside the 90 % band, treated below untreated, final quantiles tabled', async () => {
    await page.click('#analysis > summary');
    await page.fill('#pop-n', '40');
    await page.fill('#pop-omega', 'r=0.3, kKill=0.2');
    await page.click('#pop-run');
    await page.waitForFunction(() => ['ok', 'error'].includes(document.body.dataset.population ?? ''), undefined, {
      timeout: 120_000,
    });
    expect(await page.locator('#pop-error').isVisible()).toBe(false);
    const tr = await traces(page, 'plot-population');
    const get = (arm: string, key: string) =>
      tr.find((t) => t.meta?.arm === arm && (key === 'median' ? t.meta?.median : t.meta?.band === key))!.y;
    for (const arm of ['Untreated', 'pembro']) {
      const [lo, mid, hi] = [get(arm, 'low'), get(arm, 'median'), get(arm, 'high')];
      expect(mid).toHaveLength(366);
      for (let i = 0; i < mid.length; i += 30) {
        expect(lo[i]).toBeLessThanOrEqual(mid[i] * (1 + 1e-12));
        expect(mid[i]).toBeLessThanOrEqual(hi[i] * (1 + 1e-12));
      }
    }
    expect(get('pembro', 'median').at(-1)!).toBeLessThan(get('Untreated', 'median').at(-1)!);
    const rows = page.locator('#pop-table tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).innerText()).toMatch(/pembro.*40\/40/s);
    // Bad variability text is caught in the page, naming the entry.
    await page.fill('#pop-omega', 'nope=0.3');
    await page.click('#pop-run');
    expect(await page.locator('#pop-error').innerText()).toMatch(/'nope' is not a parameter/);
    expect(await page.locator('#pop-omega').getAttribute('aria-invalid')).not.toBeNull();
    await page.fill('#pop-omega', 'r=0.3');
  });

  it('sensitivity tornado for an arm: bars ranked by |S|, the growth rate r raises the tumor AUC', async () => {
    await page.selectOption('#sens-arm', '1');
    await page.click('#sens-run');
    await page.waitForFunction(() => ['ok', 'error'].includes(document.body.dataset.sensitivity ?? ''), undefined, {
      timeout: 120_000,
    });
    expect(await page.locator('#sens-error').isVisible()).toBe(false);
    const bars = await page.evaluate(() => {
      const d = (document.getElementById('plot-tornado') as unknown as { data: { x: number[]; y: string[] }[] })
        .data[0];
      return { x: Array.from(d.x), y: Array.from(d.y) };
    });
    expect(bars.y.length).toBeGreaterThan(5);
    expect(bars.y.length).toBeLessThanOrEqual(15);
    // Drawn bottom-up: the largest |S| is the last (top) bar.
    const abs = bars.x.map(Math.abs);
    for (let i = 1; i < abs.length; i++) expect(abs[i]).toBeGreaterThanOrEqual(abs[i - 1]);
    const r = bars.x[bars.y.indexOf('r')];
    expect(r).toBeGreaterThan(0);
    expect(await page.locator('#sens-status').innerText()).toMatch(/tumorAUC = .* simulations/);
    expect(await axeViolations(page)).toEqual([]);
  });

  it('keyboard only: skip link, a parameter, a therapy preset on a new arm, Run, then the plots update', async () => {
    const p = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      await p.goto(`${srv.url}/`);
      await waitForRun(p, 0);
      // The first Tab stop is the skip link; Enter lands on the plots.
      await p.keyboard.press('Tab');
      expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the plots');
      await p.keyboard.press('Enter');
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('results');
      // From the top: Tab to the parameter filter, type, Tab into r's number field, type a value.
      await p.evaluate(() => (document.activeElement as HTMLElement).blur());
      await p.keyboard.press('Tab'); // skip link
      const stops: string[] = [];
      for (let i = 0; i < 40 && (await p.evaluate(() => document.activeElement?.id)) !== 'param-filter'; i++) {
        await p.keyboard.press('Tab');
        stops.push(
          await p.evaluate(
            () =>
              document.activeElement?.id || document.activeElement?.className || document.activeElement?.tagName || '',
          ),
        );
      }
      expect(await p.evaluate(() => document.activeElement?.id)).toBe('param-filter');
      expect(stops).toContain('run'); // Run was on the way
      await p.keyboard.type('growth rate');
      let n = await runs(p);
      for (
        let i = 0;
        i < 10 && (await p.evaluate(() => (document.activeElement as HTMLInputElement).dataset?.param)) !== 'r';
        i++
      )
        await p.keyboard.press('Tab');
      expect(await p.evaluate(() => (document.activeElement as HTMLInputElement).dataset.param)).toBe('r');
      await p.keyboard.press('Control+A');
      await p.keyboard.type('0.03');
      await waitForRun(p, n);
      expect(decodeURIComponent(new URL(p.url()).hash)).toContain('"r":0.03');
      // Add an arm with the keyboard: focus moves to its preset picker; choose with the arrow keys.
      await p.focus('#add-arm');
      n = await runs(p);
      await p.keyboard.press('Enter');
      expect(await p.evaluate(() => document.activeElement?.classList.contains('add-therapy'))).toBe(true);
      await p.keyboard.press('ArrowDown');
      await waitForRun(p, n);
      expect(await p.evaluate(() => document.activeElement?.classList.contains('add-therapy'))).toBe(true);
      await expect.poll(async () => (await traces(p, 'plot-tumor')).filter((t) => !t.meta?.doses).length).toBe(2);
      // Run from the keyboard.
      n = await runs(p);
      await p.focus('#run');
      await p.keyboard.press('Enter');
      await waitForRun(p, n);
      expect(pageErrors).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
