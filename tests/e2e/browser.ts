// Shared pieces of the browser tests: Debian's chromium through playwright-core (never a downloaded browser),
// waiting for the main page's runs, and axe-core accessibility checks (serious and critical violations).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Wait until the main page has drawn more results than `before` (body[data-runs]) and is not running. */
export async function waitForRun(p: Page, before: number) {
  await p.waitForFunction(
    (n) => Number(document.body.dataset.runs ?? 0) > n && document.body.dataset.state === 'ok',
    before,
    { timeout: 50_000 },
  );
}
export const runs = (p: Page) => p.evaluate(() => Number(document.body.dataset.runs ?? 0));

type Trace = {
  name: string;
  y: number[];
  x: number[];
  line?: { dash?: string; width?: number };
  meta?: Record<string, unknown>;
};
/** The traces of a plot div (plotly keeps them on the element). */
export const traces = (p: Page, id: string) =>
  p.evaluate((i) => {
    const div = document.getElementById(i) as unknown as { data?: Trace[] } | null;
    return (div?.data ?? []).map((t) => ({
      name: t.name,
      y: Array.from(t.y ?? []),
      x: Array.from(t.x ?? []),
      line: t.line,
      meta: t.meta,
    }));
  }, id);

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA rules). */
export async function axeViolations(p: Page): Promise<AxeViolation[]> {
  // Evaluated through the devtools protocol: the page's Content-Security-Policy does not apply.
  await p.evaluate(AXE);
  return p.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: unknown,
            opts: unknown,
          ) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
      }));
  });
}
