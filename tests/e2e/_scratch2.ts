import { chromium } from 'playwright-core';
import { startServer } from '../../server/app.ts';
const srv = await startServer(0, '127.0.0.1', { workers: 1 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 }, deviceScaleFactor: 1 });
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  page.on('console', (m) => m.type() === 'error' && console.log('console', m.text()));
  await page.goto(`${srv.url}/fit/`);
  await page.waitForSelector('[data-est="r"]');
  await page.screenshot({ path: 'test-results/fit0.png' });
  await page.click('#fit-example');
  await page.click('#fit-run');
  await page.waitForFunction(() => document.querySelectorAll('#fit-table tr').length > 2, undefined, { timeout: 30000 });
  await page.screenshot({ path: 'test-results/fit1.png' });
  await page.selectOption('#fit-error', 'proportional');
  await page.selectOption('#fit-transform', 'log');
  await page.click('#fit-run');
  await page.waitForSelector('#fit-error-box:not([hidden])');
  console.log(await page.locator('#fit-error-box').innerText());
  await page.click('#tab-opt');
  await page.click('#opt-run');
  await page.waitForFunction(() => /optimized/.test(document.getElementById('status')!.textContent!), undefined, { timeout: 90000 });
  await page.waitForTimeout(500);
  await page.screenshot({ path: 'test-results/opt.png', fullPage: true });
} finally { await browser.close(); await srv.close(); }
