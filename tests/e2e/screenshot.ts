// Regenerates docs/screenshot-compare.png: the web client comparing untreated vs anti-PD-1 vs anti-PD-1 +
// anti-CTLA-4 on the default model. Run: node src/cli/run-ts.mjs tests/e2e/screenshot.ts [OUT.png]
// (needs /usr/bin/chromium). The view is opened from a link, as a user would share it.
import { fileURLToPath } from 'node:url';
import { launch } from './browser.ts';
import { startServer } from '../../server/app.ts';

const out = process.argv[2] ?? fileURLToPath(new URL('../../docs/screenshot-compare.png', import.meta.url));
const view = {
  model: 'immunotherapy',
  end: 365,
  step: 1,
  arms: [
    { name: 'untreated' },
    { name: 'anti-PD-1 (nivolumab 240 mg q2w)', therapies: ['nivolumab-240mg-q2w'] },
    {
      name: 'anti-PD-1 + anti-CTLA-4 (+ ipilimumab 3 mg/kg q3w x4)',
      therapies: ['nivolumab-240mg-q2w', 'ipilimumab-3mgkg-q3w-x4'],
    },
  ],
};

const srv = await startServer(0, '127.0.0.1', { workers: 2 });
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1080 }, deviceScaleFactor: 1 });
  await page.goto(`${srv.url}/#s=${encodeURIComponent(JSON.stringify(view))}`);
  await page.waitForFunction(
    () => Number(document.body.dataset.runs ?? 0) > 0 && document.body.dataset.state === 'ok',
    undefined,
    { timeout: 30_000 },
  );
  // Once more, warm (the first run pays for the workers' start), as a user sees it.
  await page.click('#run');
  await page.waitForFunction(
    () => Number(document.body.dataset.runs ?? 0) > 1 && document.body.dataset.state === 'ok',
    undefined,
    { timeout: 30_000 },
  );
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await srv.close();
}
