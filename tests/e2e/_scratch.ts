import { chromium } from 'playwright-core';
import { startServer } from '../../server/app.ts';
const srv = await startServer(0, '127.0.0.1', { workers: 1 });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  for (const [w, hgt, name] of [[390, 844, 'phone'], [1366, 768, 'desk']] as const) {
    const page = await browser.newPage({ viewport: { width: w, height: hgt }, deviceScaleFactor: 1, isMobile: w < 500, hasTouch: w < 500 });
    page.on('pageerror', (e) => console.log('pageerror', e.message));
    page.on('console', (m) => m.type() === 'error' && console.log('console', m.text()));
    await page.goto(`${srv.url}/`);
    await page.waitForFunction(() => Number(document.body.dataset.runs ?? 0) > 0 && document.body.dataset.state === 'ok', undefined, { timeout: 30_000 });
    await page.waitForTimeout(500);
    console.log(name, await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, iw: window.innerWidth, vv: window.visualViewport?.scale, tumorTop: document.getElementById('plot-tumor')?.getBoundingClientRect().top })));
    await page.screenshot({ path: `test-results/${name}.png` });
    await page.close();
  }
} finally { await browser.close(); await srv.close(); }
