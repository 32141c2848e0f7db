// The fit page (web/fit/) in a real browser: paste a CSV, tick the parameters to estimate, fit, and see the
// data over the fitted curve, the estimates table and the residual plot; then a bad CSV gives an inline
// error. Skips, saying so, only when /usr/bin/chromium is absent.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../server/app.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`tests/e2e-fit.test.ts: SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);

let srv: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

describe.skipIf(!hasChromium)('fit page in chromium', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    srv = await startServer(0, '127.0.0.1', { workers: 1 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
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
    for (const [name, init] of [['r', '0.2'], ['K', '2e9'], ['V0', '2.5e7']]) {
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
    expect(await page.evaluate(() => (document.getElementById('fit-plot') as unknown as { data: unknown[] }).data.length)).toBeGreaterThanOrEqual(2);
    expect(await page.evaluate(() => (document.getElementById('fit-resid') as unknown as { data: { x: number[] }[] }).data[0].x.length)).toBe(rows.length);
  });

  it('the optimizer tab searches pembrolizumab schedules and shows the best against the baseline', async () => {
    await page.click('#tab-opt');
    await page.click('#opt-run');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 90_000 }).toMatch(/optimized in/);
    expect(await page.locator('#opt-table tr').count()).toBeGreaterThan(5);
    expect(await page.evaluate(() => (document.getElementById('opt-plot') as unknown as { data: unknown[] }).data.length)).toBeGreaterThanOrEqual(2);
    await page.click('#tab-fit');
  });

  it('a bad CSV gives an inline error naming the line', async () => {
    await page.fill('#fit-csv', 'time,observable,value\n1,tumorVolume_mm3,abc\n2,tumorVolume_mm3,3\n');
    await page.click('#fit-run');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 30_000 }).toMatch(/line 2|not a number/);
    expect(pageErrors).toEqual([]);
  });
});
