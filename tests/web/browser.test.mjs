// Browser tests for static/ in headless Chromium, driven by playwright-core.
//
// By default this serves static/ (plus a fake /stats.json) from a tiny local
// HTTP server. With GAME_URL=http://127.0.0.1:8080/ it tests that server
// instead (e.g. the appliance in QEMU), with its real /stats.json.
// SCREENSHOTS=1 also writes docs/screenshots/game-{phone,desktop}.png.
// CHROMIUM overrides the browser path (default /usr/bin/chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Game, mulberry32 } from '../../static/game.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.resolve(here, '../../static');
const SHOTS = path.resolve(here, '../../docs/screenshots');
const REMOTE = !!process.env.GAME_URL;
const T = 60_000; // per-test time limit

const FAKE_STATS = {
  version: '0.1.0', uptime_ms: 754_000, boot_ms: 3, requests: 42,
  connections: { open: 1, peak: 5 },
  heap: { used: 1, free: 2, high_water: 3 },
  net: { rx_frames: 1, tx_frames: 2, rx_dropped: 0, tx_dropped: 0 },
  leases: { active: 3, pool: 241 },
};
const ALLOWED = new Set(['/', '/index.html', '/app.js', '/game.js', '/stats.json', '/api/leaderboard', '/api/game']);
// The leaderboard API as an empty board answers it (booth.test.mjs tests posting).
const FAKE_API = {
  '/api/leaderboard': { version: 0, games: 0, storage: 'ram', crashes: 0, top: [], recent: [] },
  '/api/game': { id: '00000001000a0001', seed: 7 },
};
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

let server;
let base; // URL of the page under test
let browser;
const problems = []; // console errors and page errors, from every page
const requests = []; // every URL any page asked for
const failingStats = new Set(); // pages where /stats.json fails on purpose

async function serve(req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  if (pathname === '/stats.json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...FAKE_STATS, uptime_ms: FAKE_STATS.uptime_ms + 1000 }));
    return;
  }
  if (FAKE_API[pathname]) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(FAKE_API[pathname]));
    return;
  }
  const file = path.join(STATIC, pathname === '/' ? 'index.html' : path.normalize(pathname));
  try {
    if (!file.startsWith(STATIC + path.sep)) throw new Error('outside');
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
}

before(async () => {
  if (REMOTE) {
    base = new URL(process.env.GAME_URL);
  } else {
    server = http.createServer(serve);
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    base = new URL(`http://127.0.0.1:${server.address().port}/`);
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok()));
});

// New context + page with the error and request recorders attached.
// seen: pretend the how-to overlay was already shown (via localStorage).
async function open({ query = '', seen = true, init, ...ctxOpts } = {}) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, hasTouch: true, ...ctxOpts,
  });
  context.setDefaultTimeout(10_000);
  if (seen) await context.addInitScript(() => { try { localStorage.setItem('2048.seen', '1'); } catch {} });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  watch(page);
  if (query !== null) await page.goto(new URL(query, base).href);
  return { context, page };
}

function watch(page) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // Chromium itself logs "Failed to load resource" for a failed fetch even
    // when the page catches it; accepted only where a test breaks /stats.json.
    if (failingStats.has(page) && /^Failed to load resource/.test(m.text())
      && /\/stats\.json$/.test(m.location().url)) return;
    problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
}

// Board as the page shows it (ghosts are tiles that merged away).
const readBoard = (page) => page.evaluate(() => {
  const b = Array.from({ length: 4 }, () => [0, 0, 0, 0]);
  for (const t of document.querySelectorAll('#tiles .tile:not(.ghost)')) {
    b[+t.style.getPropertyValue('--r')][+t.style.getPropertyValue('--c')] = +t.textContent;
  }
  return b;
});
const score = async (page) => Number(await page.textContent('#score'));
const settled = (page) => page.waitForFunction(() =>
  document.getAnimations().length === 0 && !document.querySelector('.ghost'));

async function swipe(page, dx, dy) {
  const cdp = await page.context().newCDPSession(page);
  const box = await page.locator('#board').boundingBox();
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
  for (let i = 1; i <= 6; i++) {
    await cdp.send('Input.dispatchTouchEvent', {
      type: 'touchMove', touchPoints: [{ x: x + (dx * i) / 6, y: y + (dy * i) / 6 }],
    });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

const fulfillStats = (page, body, status = 200) => page.route('**/stats.json', (route) =>
  route.fulfill({ status, contentType: 'application/json', body: typeof body === 'string' ? body : JSON.stringify(body) }));
// Make the page poll /stats.json now instead of in 5 s.
const pollNow = (page) => page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));

test('page is complete and self-contained', { timeout: T }, async () => {
  const { context, page } = await open({ query: '' });
  assert.equal(await page.title(), '2048');
  const meta = (n) => page.getAttribute(`meta[name="${n}"]`, 'content');
  assert.ok((await meta('description')).length > 20);
  assert.match(await meta('viewport'), /user-scalable=no/);
  assert.ok(await meta('theme-color'));
  assert.equal(await page.getAttribute('link[rel="icon"]', 'href'), 'data:,');
  const css = await page.evaluate(() => ({
    board: getComputedStyle(document.getElementById('board')).touchAction,
    html: getComputedStyle(document.documentElement).overscrollBehaviorY,
    body: getComputedStyle(document.body).overscrollBehaviorY,
  }));
  assert.deepEqual(css, { board: 'none', html: 'none', body: 'none' });
  for (const b of await page.$$('button')) {
    const name = (await b.getAttribute('aria-label')) || (await b.textContent()).trim();
    assert.ok(name, 'every button has a label');
  }
  assert.equal(await page.getAttribute('#sr', 'aria-live'), 'polite');
  await context.close();
});

test('keyboard moves follow the rules (arrows, WASD, hjkl), R restarts', { timeout: T }, async () => {
  const { context, page } = await open({ query: '?seed=11' });
  const model = new Game({ rng: mulberry32(11) });
  assert.deepEqual(await readBoard(page), model.board);
  let changed = 0;
  for (const [key, dir] of [['ArrowLeft', 'left'], ['ArrowUp', 'up'], ['ArrowRight', 'right'],
    ['ArrowDown', 'down'], ['a', 'left'], ['w', 'up'], ['d', 'right'], ['s', 'down'],
    ['h', 'left'], ['k', 'up'], ['l', 'right'], ['j', 'down'], ['H', 'left']]) {
    await page.keyboard.press(key);
    if (model.move(dir).changed) changed++;
    assert.deepEqual(await readBoard(page), model.board, `after ${key}`);
    assert.equal(await score(page), model.score);
  }
  assert.ok(changed >= 8, 'most keys moved something');
  assert.equal(await page.textContent('#sr'), model.score ? `Score ${model.score}` : '');

  // One-step undo.
  const beforeUndo = structuredClone(model.prev.board);
  await page.click('#undo');
  assert.deepEqual(await readBoard(page), beforeUndo);
  assert.ok(await page.isDisabled('#undo'));

  await page.keyboard.press('r');
  assert.equal((await readBoard(page)).flat().filter(Boolean).length, 2);
  assert.equal(await score(page), 0);
  assert.ok(Number(await page.textContent('#best')) >= model.score);
  await context.close();
});

test('a touch swipe moves the tiles and does not scroll the page', { timeout: T }, async () => {
  const { context, page } = await open({ query: '?seed=5', isMobile: true });
  const model = new Game({ rng: mulberry32(5) });
  let moved = 0;
  for (const [dx, dy, dir] of [[-150, 10, 'left'], [0, -160, 'up'], [140, 0, 'right'], [5, 170, 'down']]) {
    await swipe(page, dx, dy);
    if (model.move(dir).changed) moved++;
    await page.waitForFunction((n) => document.querySelectorAll('#tiles .tile:not(.ghost)').length === n,
      model.board.flat().filter(Boolean).length);
    assert.deepEqual(await readBoard(page), model.board, `after swipe ${dir}`);
  }
  assert.ok(moved >= 3);
  // A tap is not a swipe.
  const boardBefore = await readBoard(page);
  await swipe(page, 6, 4);
  assert.deepEqual(await readBoard(page), boardBefore);
  assert.equal(await page.evaluate(() => window.scrollY), 0, 'the page did not scroll');
  assert.equal(await page.evaluate(() => visualViewport.scale), 1, 'the page did not zoom');
  await context.close();
});

test('how-to overlay shows on the first visit only, and "?" brings it back', { timeout: T }, async () => {
  const { context, page } = await open({ query: '', seen: false });
  await page.waitForSelector('#howto', { state: 'visible' });
  for (const step of ['Swipe', 'merge', '2048']) assert.match(await page.textContent('#howto ol'), new RegExp(step));
  await page.click('#howto', { position: { x: 10, y: 10 } }); // one tap anywhere
  await page.waitForSelector('#howto', { state: 'hidden' });

  await page.reload();
  await page.waitForSelector('#board .tile');
  assert.equal(await page.isHidden('#howto'), true, 'not shown on the second visit');

  await page.click('#help');
  await page.waitForSelector('#howto', { state: 'visible' });
  await page.keyboard.press('Escape');
  await page.waitForSelector('#howto', { state: 'hidden' });
  await context.close();
});

test('without localStorage the game still plays', { timeout: T }, async () => {
  const { context, page } = await open({
    query: '?seed=3',
    seen: false,
    init: () => {
      Object.defineProperty(window, 'localStorage', {
        configurable: true,
        get() { throw new DOMException('The operation is insecure.', 'SecurityError'); },
      });
    },
  });
  // No storage to remember the visit: the overlay shows (once per load).
  await page.waitForSelector('#howto', { state: 'visible' });
  await page.click('#howto-ok');
  const model = new Game({ rng: mulberry32(3) });
  for (const [key, dir] of [['ArrowDown', 'down'], ['ArrowLeft', 'left'], ['ArrowUp', 'up'], ['ArrowRight', 'right']]) {
    await page.keyboard.press(key);
    model.move(dir);
  }
  assert.deepEqual(await readBoard(page), model.board);
  assert.equal(await score(page), model.score);
  await page.click('#new');
  assert.equal(await score(page), 0);
  await context.close();
});

test('best score and game in progress survive a reload', { timeout: T }, async () => {
  const { context, page } = await open({ query: '?seed=8' });
  for (const key of ['ArrowLeft', 'ArrowDown', 'ArrowRight', 'ArrowDown', 'ArrowLeft']) await page.keyboard.press(key);
  const board = await readBoard(page);
  const s = await score(page);
  await page.goto(base.href); // no seed: resumes the saved game
  assert.deepEqual(await readBoard(page), board);
  assert.equal(await score(page), s);
  assert.equal(Number(await page.textContent('#best')), s);
  await context.close();
});

test('win screen with keep going, and game over screen', { timeout: T }, async () => {
  const win = { board: [[1024, 1024, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], score: 0 };
  const c2 = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await c2.addInitScript((s) => {
    // Seed the saved game once, on the first load only.
    if (!sessionStorage.getItem('seeded')) {
      sessionStorage.setItem('seeded', '1');
      localStorage.setItem('2048.seen', '1');
      localStorage.setItem('2048.game', s);
    }
  }, JSON.stringify(win));
  const p2 = await c2.newPage();
  watch(p2);
  await p2.goto(base.href);
  await p2.keyboard.press('ArrowLeft');
  await p2.waitForSelector('#msg', { state: 'visible' });
  assert.equal(await p2.textContent('#msg-text'), 'You win!');
  assert.match(await p2.textContent('#sr'), /2048/);
  const blocked = await readBoard(p2);
  await p2.keyboard.press('ArrowRight'); // refused while the win screen is up
  assert.deepEqual(await readBoard(p2), blocked);
  await p2.click('#keep');
  await p2.waitForSelector('#msg', { state: 'hidden' });
  await p2.keyboard.press('ArrowRight');
  assert.notDeepEqual(await readBoard(p2), blocked);
  await c2.close();

  const over = { board: [[0, 4, 8, 4], [2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4]], score: 0 };
  const c3 = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await c3.addInitScript((s) => {
    localStorage.setItem('2048.seen', '1');
    localStorage.setItem('2048.game', s);
  }, JSON.stringify(over));
  const p3 = await c3.newPage();
  watch(p3);
  // The spawn after this move lands in the one free cell: a 2 (p=0.9) ends
  // the game, a 4 leaves a pair. Reload (the saved board is put back each
  // time) until a 2 comes; 20 misses in a row has odds of 1e-20.
  for (let i = 0; i < 20; i++) {
    await p3.goto(base.href);
    await p3.keyboard.press('ArrowLeft');
    if (await p3.isVisible('#msg')) break;
  }
  await p3.waitForSelector('#msg', { state: 'visible' });
  assert.equal(await p3.textContent('#msg-text'), 'Game over!');
  assert.match(await p3.textContent('#sr'), /Game over/);
  assert.equal(await p3.isHidden('#keep'), true);
  await p3.click('#again');
  await p3.waitForSelector('#msg', { state: 'hidden' });
  assert.equal(await score(p3), 0);
  await c3.close();
});

test('stats panel shows live figures from /stats.json', { timeout: T }, async () => {
  const { context, page } = await open({ query: null });
  await page.goto(base.href);
  await page.waitForSelector('#live', { state: 'visible' });
  assert.match(await page.textContent('#s-boot'), /^\d+ ms$/);
  assert.match(await page.textContent('#s-req'), /^[\d,]+$/);
  assert.match(await page.textContent('#s-up'), /^\d+[smhd]/);
  if (!REMOTE) {
    assert.equal(await page.textContent('#s-boot'), '3 ms');
    assert.equal(await page.textContent('#s-req'), '42');
    assert.match(await page.textContent('#s-up'), /^12m 3\ds$/);
    assert.equal(await page.textContent('#s-players'), '3');
    assert.equal(await page.isVisible('#s-players-box'), true);
  }
  assert.match(await page.textContent('.about'), /no operating system/);

  // Without "leases" the players figure is left out.
  const { leases, ...noLeases } = FAKE_STATS;
  await fulfillStats(page, { ...noLeases, requests: 1234 });
  await pollNow(page);
  await page.waitForFunction(() => document.getElementById('s-req').textContent === '1,234');
  assert.equal(await page.isHidden('#s-players-box'), true);
  assert.equal(await page.isVisible('#live'), true);
  await context.close();
});

test('stats panel hides when /stats.json fails (404, bad JSON, network error)', { timeout: T }, async () => {
  const { context, page } = await open({ query: null });
  failingStats.add(page);
  let mode = 'ok';
  await page.route('**/stats.json', (route) => {
    if (mode === 'abort') return route.abort('connectionrefused');
    if (mode === 'bad') return route.fulfill({ status: 200, contentType: 'application/json', body: '{"uptime_ms": 1' });
    if (mode === 'weird') return route.fulfill({ status: 200, contentType: 'application/json', body: '{"uptime_ms": "soon"}' });
    if (mode === '404') return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(FAKE_STATS) });
  });
  await page.goto(base.href);
  await page.waitForSelector('#live', { state: 'visible' });
  for (const m of ['bad', 'ok', 'abort', 'ok', 'weird', 'ok', '404']) {
    mode = m;
    const done = page.waitForEvent(m === 'abort' ? 'requestfailed' : 'requestfinished', (r) => r.url().endsWith('/stats.json'));
    await pollNow(page);
    await done;
    await page.waitForSelector('#live', { state: m === 'ok' ? 'visible' : 'hidden' });
  }
  await context.close();

  // A fresh page where /stats.json is 404 from the start never shows it.
  const second = await open({ query: null });
  failingStats.add(second.page);
  await fulfillStats(second.page, 'nope', 404);
  const done = second.page.waitForEvent('requestfinished', (r) => r.url().endsWith('/stats.json'));
  await second.page.goto(base.href);
  await done;
  await second.page.keyboard.press('ArrowUp'); // still playable
  assert.equal(await second.page.isHidden('#live'), true);
  await second.context.close();
});

// WCAG contrast, computed from the real computed styles in both themes.
test('text contrast is at least 4.5:1 in light and dark themes', { timeout: T }, async () => {
  for (const colorScheme of ['light', 'dark']) {
    const { context, page } = await open({ query: null, colorScheme });
    await fulfillStats(page, FAKE_STATS);
    await page.goto(base.href);
    await page.waitForSelector('#live', { state: 'visible' });
    const low = await page.evaluate(() => {
      // Draw one tile of every value, plus the win message, to measure them.
      const tiles = document.getElementById('tiles');
      for (let v = 2; v <= 8192; v *= 2) {
        const t = document.createElement('div');
        t.className = 'tile';
        t.style.cssText = '--r:0;--c:0';
        t.innerHTML = `<div class="in" ${v <= 2048 ? `data-v="${v}"` : 'class="big"'}>${v}</div>`;
        if (v > 2048) t.firstChild.className = 'in big';
        tiles.append(t);
      }
      document.getElementById('msg').hidden = false;
      document.getElementById('howto').hidden = false;
      document.getAnimations().forEach((a) => a.finish());

      const rgba = (s) => {
        const m = s.match(/[\d.]+/g).map(Number);
        return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 };
      };
      const over = (top, under) => ({
        r: top.r * top.a + under.r * (1 - top.a),
        g: top.g * top.a + under.g * (1 - top.a),
        b: top.b * top.a + under.b * (1 - top.a),
        a: 1,
      });
      // Stack every background from the root down to el (overlays included).
      const background = (el) => {
        const chain = [];
        for (let e = el; e; e = e.parentElement) chain.unshift(e);
        let bg = { r: 255, g: 255, b: 255, a: 1 };
        for (const e of chain) bg = over(rgba(getComputedStyle(e).backgroundColor), bg);
        return bg;
      };
      const lum = ({ r, g, b }) => [r, g, b]
        .map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
        .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
      const ratio = (a, b) => {
        const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05);
      };
      const out = [];
      const sel = '#tiles .in, .mini:not(.e), h1, .score span, .score b, button, .hint, .about h2, .about p, '
        + '.live dt, .live dd, .livehead, #msg-text, .card h2, .card li';
      for (const el of document.querySelectorAll(sel)) {
        if (el.closest('#howto')) continue; // measured alone below, overlay veil aside
        const bg = background(el);
        const r = ratio(over(rgba(getComputedStyle(el).color), bg), bg);
        if (r < 4.5) out.push(`${el.className || el.tagName} "${el.textContent.trim().slice(0, 20)}": ${r.toFixed(2)}`);
      }
      // The card is opaque, so its text is measured against the card alone.
      for (const el of document.querySelectorAll('#howto .card h2, #howto .card li, #howto .mini:not(.e), #howto button')) {
        const own = (e) => rgba(getComputedStyle(e).backgroundColor);
        let bg = own(el);
        for (let e = el.parentElement; bg.a === 0; e = e.parentElement) bg = own(e);
        const r = ratio(rgba(getComputedStyle(el).color), bg);
        if (r < 4.5) out.push(`howto ${el.className || el.tagName} "${el.textContent.trim().slice(0, 20)}": ${r.toFixed(2)}`);
      }
      return out;
    });
    assert.deepEqual(low, [], `${colorScheme} theme`);
    await context.close();
  }
});

test('no request other than the page files and /stats.json', { timeout: T }, async () => {
  const { context, page } = await open({ query: '?seed=2', seen: false });
  await page.waitForSelector('#howto', { state: 'visible' });
  await page.click('#howto');
  for (const key of ['ArrowLeft', 'ArrowUp', 'ArrowRight']) await page.keyboard.press(key);
  await page.waitForSelector('#live', { state: 'visible' });
  await context.close();

  assert.ok(requests.length > 0);
  const foreign = requests.filter((u) => {
    const url = new URL(u);
    return url.origin !== base.origin || !ALLOWED.has(url.pathname);
  });
  assert.deepEqual(foreign, []);
});

test('screenshots (SCREENSHOTS=1)', { timeout: T, skip: !process.env.SCREENSHOTS }, async () => {
  await mkdir(SHOTS, { recursive: true });
  const shots = [
    ['game-phone.png', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true }],
    ['game-desktop.png', { viewport: { width: 1280, height: 800 }, hasTouch: false }],
    ['game-phone-dark.png', { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, colorScheme: 'dark' }],
  ];
  for (const [name, opts] of shots) {
    const { context, page } = await open({ query: null, ...opts });
    if (!REMOTE) await fulfillStats(page, FAKE_STATS);
    await page.goto(new URL('?seed=2048', base).href);
    // Play a while like a person would (keep big tiles in a corner), so the
    // board in the picture looks like a game in progress.
    const model = new Game({ rng: mulberry32(2048) });
    const KEY = { down: 'ArrowDown', left: 'ArrowLeft', right: 'ArrowRight', up: 'ArrowUp' };
    for (let i = 0; i < 70; i++) {
      const dir = ['down', 'left', 'right', 'up'].find((d) => new Game({ state: model.toJSON() }).move(d).changed);
      model.move(dir);
      await page.keyboard.press(KEY[dir]);
    }
    await page.waitForSelector('#live', { state: 'visible' });
    await settled(page);
    await page.screenshot({ path: path.join(SHOTS, name) });
    await context.close();
  }
});

// Runs last: everything above must have been free of console and page errors.
test('no console errors or page errors on any page', () => {
  assert.deepEqual(problems, []);
});
