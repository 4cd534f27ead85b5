// A phone's first look at the network, in headless Chromium: open the probe
// URL an Android phone opens after joining, follow where the network sends
// it, and report what the page shows. Run it inside the phone's network
// namespace (ip netns exec ...) so that names resolve through the namespace's
// /etc/resolv.conf, i.e. through the appliance's DNS; nothing is mapped here.
//
// Usage: node captive_browser.mjs URL SCREENSHOT.png
// Prints one JSON object: final url, status, howto (the first-visit help was
// shown, then tapped away), cells, tiles, score, live, players, requests (every URL asked for), problems (console/page errors).
// CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// playwright-core is installed for the web tests: cd tests/web && npm ci
const require = createRequire(path.resolve(here, '../web/package.json'));
const { chromium } = require('playwright-core');

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
  console.error('usage: node captive_browser.mjs URL SCREENSHOT.png');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 60_000,
});
const result = { requests: [], problems: [] };
try {
  // A fresh profile per launch (playwright-core makes a temporary --user-data-dir).
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, isMobile: true,
  });
  const page = await context.newPage();
  page.on('request', (r) => result.requests.push(r.url()));
  page.on('console', (m) => { if (m.type() === 'error') result.problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => result.problems.push(`pageerror: ${e.message}`));
  const response = await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  result.status = response?.status();
  result.redirectedFrom = response?.request().redirectedFrom()?.url() ?? null;
  result.url = page.url();
  await page.waitForFunction(() => document.querySelectorAll('#tiles .tile:not(.ghost)').length === 2,
    null, { timeout: 20_000 });
  // The live figures come from /stats.json: wait for them to be shown.
  await page.waitForSelector('#live:not([hidden])', { timeout: 20_000 });
  // A first visit shows "How to play"; one tap dismisses it, as on a phone.
  result.howto = await page.isVisible('#howto');
  if (result.howto) {
    await page.tap('#howto-ok');
    await page.waitForSelector('#howto', { state: 'hidden', timeout: 10_000 });
  }
  // Let the tiles' appear animation end before the picture.
  await page.waitForTimeout(500);
  Object.assign(result, await page.evaluate(() => ({
    title: document.title,
    cells: document.querySelectorAll('#board .cell').length,
    tiles: [...document.querySelectorAll('#tiles .tile:not(.ghost)')].map((t) => t.textContent),
    score: document.getElementById('score')?.textContent ?? null,
    live: !document.getElementById('live').hidden,
    players: document.getElementById('s-players')?.textContent ?? null,
  })));
  await page.screenshot({ path: shot });
  result.screenshot = shot;
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
