// The web client in a real browser: playwright-core driving Debian's chromium (never a downloaded browser)
// against a real server on an ephemeral port. Skips, saying so, only when /usr/bin/chromium is absent.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launch, CHROMIUM, hasChromium } from './e2e/browser.ts';
import { startServer, type RunningServer } from '../server/app.ts';

const OUT = fileURLToPath(new URL('../test-results/', import.meta.url));

if (!hasChromium) {
  console.warn(`tests/e2e.test.ts: SKIPPED: ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`);
}

let srv: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Wait until the client has drawn more results than `before` (body[data-runs]) and is not running. */
async function waitForRun(p: Page, before: number) {
  await p.waitForFunction(
    (n) => Number(document.body.dataset.runs ?? 0) > n && document.body.dataset.state === 'ok',
    before,
    { timeout: 50_000 },
  );
}
const runs = (p: Page) => p.evaluate(() => Number(document.body.dataset.runs ?? 0));

/** The tumor panel's curves (not the dose markers): arm name → y values. */
const tumorCurves = (p: Page) =>
  p.evaluate(() => {
    const div = document.getElementById('plot-tumor') as unknown as {
      data: { name: string; y: number[]; meta?: { doses?: boolean; legendOnly?: boolean } }[];
    };
    return div.data
      .filter((t) => !t.meta?.doses && !t.meta?.legendOnly)
      .map((t) => ({ name: t.name, y: Array.from(t.y) }));
  });

// Generous timeouts: CI runs every test file at once on two cores, and the first run starts the workers.
describe.skipIf(!hasChromium)('web client in chromium', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    srv = await startServer(0, '127.0.0.1', { workers: 2 });
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 400/.test(m.text())) pageErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('loads the default model and plots the first arm', async () => {
    await page.goto(`${srv.url}/`);
    await waitForRun(page, 0);
    expect(await page.locator('#model').inputValue()).toBe('immunotherapy');
    expect((await tumorCurves(page)).map((c) => c.name)).toEqual(['Untreated']);
    expect(await page.locator('#params .param').count()).toBeGreaterThan(10);
    await expect.poll(() => page.locator('#metrics-table tbody tr').count()).toBe(1);
  });

  it('adds a second arm with a therapy preset; both arms are plotted and the metrics table is filled', async () => {
    const before = await runs(page);
    await page.click('#add-arm');
    await page.locator('.arm[data-arm="1"] .add-therapy').selectOption('pembrolizumab-200mg-q3w');
    await waitForRun(page, before);
    await page.click('#run');
    await waitForRun(page, before + 1);
    const curves = await tumorCurves(page);
    expect(curves.map((c) => c.name)).toEqual(['Untreated', 'pembrolizumab']);
    // Treatment brings the tumor below the untreated curve.
    expect(Math.min(...curves[1].y)).toBeLessThan(Math.min(...curves[0].y));
    // Drawn in the SVG too, with dose markers under the curve.
    expect(await page.locator('#plot-tumor .scatterlayer .trace').count()).toBeGreaterThanOrEqual(3);
    const doseMarkers = await page.evaluate(() =>
      (document.getElementById('plot-tumor') as unknown as { data: { meta?: { doses?: boolean }; x: number[] }[] }).data
        .filter((t) => t.meta?.doses)
        .map((t) => t.x.length),
    );
    expect(doseMarkers[0]).toBeGreaterThan(10);
    for (const id of ['plot-tcells', 'plot-drugs', 'plot-occupancy'])
      expect(await page.locator(`#${id} .main-svg`).count()).toBeGreaterThan(0);
    const rows = page.locator('#metrics-table tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(1).locator('td').first().innerText()).toContain('pembrolizumab');
    const bor = await rows.nth(1).locator('td[data-metric="bestOverallResponse"]').innerText();
    expect(['CR', 'PR', 'SD', 'PD']).toContain(bor.trim());
    expect(await rows.nth(0).locator('td[data-metric="nadir"]').innerText()).toMatch(/\d/);
    // The state is in the URL.
    const hash = decodeURIComponent(new URL(page.url()).hash);
    expect(hash).toContain('pembrolizumab-200mg-q3w');
  });

  it('changing a parameter changes the curve', async () => {
    const before = await tumorCurves(page);
    const n = await runs(page);
    await page.fill('#param-filter', 'growth rate');
    const input = page.locator('input[data-param="r"]');
    await expect.poll(() => input.isVisible()).toBe(true);
    await input.fill('0.04');
    await waitForRun(page, n);
    const after = await tumorCurves(page);
    expect(after[0].y.at(-1)).not.toBe(before[0].y.at(-1));
    expect(after[0].y.at(-1)!).toBeGreaterThan(before[0].y.at(-1)!); // faster growth, larger untreated tumor
    expect(await page.locator('.param[data-name="r"]').getAttribute('class')).toContain('changed');
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain('"r":0.04');
    // Reset brings the default back.
    const m = await runs(page);
    await page.click('.param[data-name="r"] .reset');
    await waitForRun(page, m);
    expect((await tumorCurves(page))[0].y.at(-1)).toBe(before[0].y.at(-1));
    await page.fill('#param-filter', '');
  });

  it('a link reproduces the view', async () => {
    const url = page.url();
    const other = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    try {
      await other.goto(url);
      await waitForRun(other, 0);
      expect((await tumorCurves(other)).map((c) => c.name)).toEqual(['Untreated', 'pembrolizumab']);
      expect(await tumorCurves(other)).toEqual(await tumorCurves(page));
    } finally {
      await other.close();
    }
  });

  it('shows an API error inline with its path', async () => {
    // A limit only the server checks (20000 administrations per dose line).
    await page.click('.arm[data-arm="1"] button.link');
    const dose = page.locator('.arm[data-arm="1"] .dose').first();
    await dose.locator('input.d-every').fill('1');
    await dose.locator('input.d-count').fill('1000000');
    await page.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 50_000 });
    const box = page.locator('#error');
    await expect.poll(() => box.isVisible()).toBe(true);
    const text = await box.innerText();
    expect(text).toContain('400');
    expect(text).toContain('arms[1].doses[0].count');
    expect(text).toMatch(/20000/);
    await page.screenshot({ path: `${OUT}e2e-error.png` });
    const n = await runs(page);
    await dose.locator('button.icon').click();
    await waitForRun(page, n);
    expect(await box.isVisible()).toBe(false);
  });

  it('downloads the comparison as CSV and JSON', async () => {
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
    expect(csv.suggestedFilename()).toBe('immunopd-immunotherapy.csv');
    const text = await new Promise<string>(async (resolve, reject) => {
      const stream = await csv.createReadStream();
      let s = '';
      stream.on('data', (d) => (s += d));
      stream.on('end', () => resolve(s));
      stream.on('error', reject);
    });
    const lines = text.trim().split('\n');
    expect(lines[0].startsWith('arm,time,')).toBe(true);
    expect(lines.filter((l) => l.startsWith('pembrolizumab,'))).toHaveLength(366);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
    expect(json.suggestedFilename()).toBe('immunopd-immunotherapy.json');
  });

  it('adds a dose by hand; the dose is marked on the plot', async () => {
    const n = await runs(page);
    await page.click('.arm[data-arm="0"] button.link');
    const dose = page.locator('.arm[data-arm="0"] .dose').first();
    await dose.locator('select.d-target').selectOption('ATZc');
    await dose.locator('input.d-amount').fill('1200');
    await dose.locator('input.d-every').fill('21');
    await dose.locator('input.d-count').fill('4');
    await waitForRun(page, n);
    await expect
      .poll(async () =>
        page.evaluate(() =>
          (
            document.getElementById('plot-tumor') as unknown as {
              data: { name: string; meta?: { doses?: boolean }; x: number[] }[];
            }
          ).data
            .filter((t) => t.meta?.doses)
            .map((t) => [t.name, t.x.length]),
        ),
      )
      .toContainEqual(['ATZc by hand doses', 4]);
    // The arm's automatic name says what it gives now.
    expect(await page.locator('.arm[data-arm="0"] .arm-name').inputValue()).toBe('ATZc by hand');
    expect(await page.locator('#plot-drugs').count()).toBe(1);
    // Remove it again.
    const m = await runs(page);
    await dose.locator('button.icon').click();
    await waitForRun(page, m);
  });

  it('switches to another model: its parameters, no therapy presets, plots by name', async () => {
    const n = await runs(page);
    await page.locator('#model').selectOption('kuznetsov-1994');
    await waitForRun(page, n);
    expect(await page.locator('#params .param').count()).toBeLessThan(20);
    expect(await page.locator('.param[data-name="s"]').count()).toBe(1);
    expect(await page.locator('.arm .add-therapy').first().isDisabled()).toBe(true);
    expect((await tumorCurves(page)).length).toBe(2);
    expect(await page.locator('#plot-tcells').count()).toBe(1); // the state E
    const m = await runs(page);
    await page.locator('#model').selectOption('immunotherapy');
    await waitForRun(page, m);
    // The therapy preset the other model could not take is back, and so is the arm's name.
    expect((await tumorCurves(page)).map((c) => c.name)).toEqual(['Untreated', 'pembrolizumab']);
    expect(await page.locator('.arm[data-arm="1"] .chip').innerText()).toContain('pembrolizumab-200mg-q3w');
  });

  it('switches the tumor axis and saves a screenshot', async () => {
    await page.locator('#tumor-scale').selectOption('linear');
    await expect
      .poll(() =>
        page.evaluate(
          () =>
            (document.getElementById('plot-tumor') as unknown as { layout: { yaxis: { type: string } } }).layout.yaxis
              .type,
        ),
      )
      .toBe('linear');
    await page.locator('#tumor-scale').selectOption('log');
    await page.screenshot({ path: `${OUT}e2e.png`, fullPage: true });
    expect(existsSync(`${OUT}e2e.png`)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
