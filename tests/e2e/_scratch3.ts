import { startServer } from '../../server/app.ts';
import { launch, axeViolations, waitForRun } from './browser.ts';
const srv = await startServer(0, '127.0.0.1', { workers: 1 });
const browser = await launch();
try {
  for (const [w, hh] of [[1366, 768], [390, 844]]) {
  const page = await browser.newPage({ viewport: { width: w, height: hh } });
  await page.goto(`${srv.url}/#s=${encodeURIComponent(JSON.stringify({ model: 'immunotherapy', end: 365, step: 1, arms: [{ name: 'u' }, { name: 'p', therapies: ['pembrolizumab-200mg-q3w'], doses: [{ target: 'ATZc', amount: 1200 }] }] }))}`);
  await waitForRun(page, 0);
  await page.click('#more-series summary');
  await page.click('.all-metrics summary');
  console.log(w, 'main', JSON.stringify(await axeViolations(page), null, 1));
  await page.goto(`${srv.url}/fit/`);
  await page.waitForSelector('[data-est="r"]');
  console.log(w, 'fit', JSON.stringify(await axeViolations(page), null, 1));
  await page.click('#tab-opt');
  console.log(w, 'opt', JSON.stringify(await axeViolations(page), null, 1));
  }
} finally { await browser.close(); await srv.close(); }
