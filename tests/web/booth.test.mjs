// Ranked games and the booth screen in headless Chromium (playwright-core).
//
// By default this serves static/ from a tiny local server with a stand-in
// for the appliance's leaderboard API that replays posts with the page's own
// rules (static/game.js). With APPLIANCE_URL=http://127.0.0.1:8080/ it tests
// the appliance instead (e.g. in QEMU, built with tools/build.sh), which
// replays them in Rust. SCREENSHOTS=1 also writes docs/screenshots/booth-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile, readdir, mkdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Game, mulberry32, MOVE_CODES } from '../../static/game.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.resolve(here, '../../static');
const SHOTS = path.resolve(here, '../../docs/screenshots');
const REMOTE = !!process.env.APPLIANCE_URL;
const T = 120_000;
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.svg': 'image/svg+xml' };

// ---- the stand-in API -------------------------------------------------------

const fake = { pending: new Map(), games: [], next: 1, waiting: new Set() };
const QR = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#fff"/><path d="M2 2h6v6H2z"/></svg>';

function replay(seed, moves) {
  const g = new Game({ rng: mulberry32(seed) });
  g.keepGoing = true;
  const dirs = Object.fromEntries(Object.entries(MOVE_CODES).map(([d, c]) => [c, d]));
  for (const c of moves) {
    if (c === 'Z' ? !g.undo() : !dirs[c] || !g.move(dirs[c]).changed) return null;
  }
  return g;
}

function fakeBoard() {
  const top = [...fake.games].sort((a, b) => b.score - a.score || a.n - b.n).slice(0, 20);
  const recent = [...fake.games].reverse().slice(0, 10);
  return { version: fake.games.length, games: fake.games.length, storage: 'ram', crashes: 0, url: 'http://2048.home.arpa/', top, recent };
}

async function api(req, res, pathname) {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (pathname === '/api/leaderboard') {
    // Long polling as the board does it (with a shorter longest wait).
    const after = new URL(req.url, 'http://x').searchParams.get('after');
    if (after !== null && Number(after) === fake.games.length) {
      await new Promise((ok) => {
        const wake = () => { fake.waiting.delete(wake); clearTimeout(timer); ok(); };
        const timer = setTimeout(wake, 5000);
        fake.waiting.add(wake);
      });
    }
    return send(200, fakeBoard());
  }
  if (pathname === '/api/game') {
    const id = (fake.next++).toString(16).padStart(16, '0');
    const seed = (Math.random() * 2 ** 32) >>> 0;
    fake.pending.set(id, seed);
    return send(200, { id, seed });
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  let post;
  try { post = JSON.parse(body); } catch { return send(400, { error: 'malformed request' }); }
  const seed = fake.pending.get(post.id);
  fake.pending.delete(post.id);
  const g = seed === undefined ? null : replay(seed, post.moves);
  if (!g || g.score !== post.score) return send(422, { error: 'refused' });
  const game = { n: fake.games.length + 1, score: g.score, tile: Math.max(...g.board.flat()), moves: post.moves.length, name: post.name };
  fake.games.push(game);
  const board = fakeBoard();
  for (const wake of fake.waiting) wake();
  return send(200, { rank: board.top.findIndex((e) => e.n === game.n) + 1 || 21, game, top: board.top.slice(0, 5) });
}

async function serve(req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  if (pathname.startsWith('/api/')) return api(req, res, pathname);
  if (pathname === '/stats.json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ uptime_ms: 3_600_000, boot_ms: 9, requests: 1234, connections: { open: 2 }, leases: { active: 3, pool: 241 } }));
    return;
  }
  if (pathname === '/wifi-qr.svg') {
    res.writeHead(200, { 'content-type': 'image/svg+xml' });
    res.end(QR);
    return;
  }
  const name = { '/': 'index.html', '/booth': 'booth.html' }[pathname] || path.normalize(pathname);
  const file = path.join(STATIC, name);
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

// ---- browser ----------------------------------------------------------------

let server;
let base;
let browser;
const problems = [];

before(async () => {
  if (REMOTE) {
    base = new URL(process.env.APPLIANCE_URL);
  } else {
    server = http.createServer(serve);
    await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
    base = new URL(`http://127.0.0.1:${server.address().port}/`);
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    timeout: 30_000,
  });
});

after(async () => {
  for (const wake of fake.waiting) wake();
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok()));
});

async function open(url, opts = {}) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, ...opts });
  context.setDefaultTimeout(15_000);
  await context.addInitScript(() => { try { localStorage.setItem('2048.seen', '1'); } catch {} });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Refused posts (422, 400, 429) are logged by Chromium as failed resources.
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of (422|400|429)/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  await page.goto(new URL(url, base).href);
  return { context, page };
}

// Plays the ranked game the page was issued until it is over, always
// taking the first direction of `order` that moves (a scripted player).
async function playRanked(page, order) {
  await page.waitForFunction(() => (JSON.parse(localStorage.getItem('2048.ranked') || 'null') || {}).id);
  await page.evaluate((order) => {
    const keys = { down: 'ArrowDown', left: 'ArrowLeft', right: 'ArrowRight', up: 'ArrowUp' };
    for (let i = 0; i < 20000 && document.getElementById('msg').hidden; i++) {
      document.dispatchEvent(new KeyboardEvent('keydown', { key: keys[order[i % order.length]], bubbles: true }));
    }
  }, order);
  await page.waitForSelector('#post', { state: 'visible' });
  return Number(await page.textContent('#score'));
}

async function post(page, name) {
  await page.fill('#nick', name);
  await page.click('#post button');
  await page.waitForFunction(() => /#\d+|Not in the top/.test(document.getElementById('post-msg').textContent));
  return page.textContent('#post-msg');
}

const boothNames = (page) => page.$$eval('#top li .name', (els) => els.map((e) => e.textContent));

test('two phones post scripted games and the booth shows both, in order, within 2 s', { timeout: T }, async () => {
  const booth = await open('booth', { viewport: { width: 1920, height: 1080 } });
  const tag = Date.now().toString(36).slice(-4);
  const phones = [await open(''), await open('')];
  const names = [`Ann ${tag}`, `Bo ${tag}`];
  const orders = [['down', 'left', 'right', 'up'], ['left', 'up', 'right', 'down']];
  const scores = [];
  for (const [i, { page }] of phones.entries()) {
    scores.push(await playRanked(page, orders[i]));
    const answer = await post(page, names[i]);
    assert.match(answer, /#\d+|Not in the top/);
    const posted = Date.now();
    await booth.page.waitForFunction((name) =>
      [...document.querySelectorAll('#top .name, #recent b')].some((e) => e.textContent === name), names[i], { timeout: 2000 });
    assert.ok(Date.now() - posted <= 2000);
    // The top five under the game shows the board's list.
    await page.waitForSelector('#top5:not([hidden])');
  }
  const shown = (await boothNames(booth.page)).filter((n) => names.includes(n));
  const expected = names.map((n, i) => [n, scores[i]]).sort((a, b) => b[1] - a[1]).map(([n]) => n);
  // Both in the top ten unless the board already holds many better games.
  if (shown.length === 2) assert.deepEqual(shown, expected);
  for (const p of [booth, ...phones]) await p.context.close();
});

test('a forged, a replayed and a junk post are refused', { timeout: T }, async () => {
  const { context, page } = await open('');
  const answers = await page.evaluate(async () => {
    const call = async (path, body) => {
      const r = await fetch(path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
      return r.status;
    };
    const issued = await (await fetch('/api/game', { method: 'POST', body: '{}' })).json();
    const forged = await call('/api/score', { id: issued.id, name: 'Mallory', moves: 'LLLLLLLLLLLLLLLLLLLLLL', score: 4096 });
    const replayed = await call('/api/score', { id: issued.id, name: 'Mallory', moves: 'L', score: 0 });
    const junk = await call('/api/score', 'not json');
    return { forged, replayed, junk };
  });
  assert.equal(answers.forged, 422);
  assert.equal(answers.replayed, 422);
  assert.equal(answers.junk, 400);
  await context.close();
});

test('a name holding HTML shows as text on the booth and the game page', { timeout: T }, async () => {
  const booth = await open('booth', { viewport: { width: 1280, height: 720 } });
  const phone = await open('');
  const name = '<b>x</b>&lt;'; // 12 characters
  await playRanked(phone.page, ['down', 'right', 'left', 'up']);
  await post(phone.page, name);
  await booth.page.waitForFunction((n) => [...document.querySelectorAll('#recent b')].some((e) => e.textContent === n), name, { timeout: 2000 });
  assert.equal(await booth.page.$$eval('#top .name b, #recent b b', (els) => els.length), 0);
  const own = await phone.page.$$eval('#top5-list span', (els) => els.map((e) => e.innerHTML));
  assert.ok(own.every((html) => !html.includes('<b>')));
  await booth.context.close();
  await phone.context.close();
});

test('offline play still works and says the score cannot be posted', { timeout: T, skip: REMOTE }, async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await context.addInitScript(() => { try { localStorage.setItem('2048.seen', '1'); } catch {} });
  await context.route('**/api/**', (route) => route.abort());
  const page = await context.newPage();
  await page.goto(base.href);
  await page.evaluate(() => {
    for (let i = 0; i < 20000 && document.getElementById('msg').hidden; i++) {
      const key = ['ArrowDown', 'ArrowLeft', 'ArrowRight', 'ArrowUp'][i % 4];
      document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
    }
  });
  await page.waitForSelector('#post-msg', { state: 'visible' });
  assert.match(await page.textContent('#post-msg'), /offline/);
  assert.equal(await page.isHidden('#post'), true);
  await context.close();
});

test('every asset together stays under 20 KB gzipped', { timeout: T }, async () => {
  let total = 0;
  for (const name of await readdir(STATIC)) total += gzipSync(await readFile(path.join(STATIC, name)), { level: 9 }).length;
  // The QR code is drawn at build time: measure the appliance's, or allow 2 KB.
  let qr = 2048;
  if (REMOTE) {
    const r = await fetch(new URL('wifi-qr.svg', base));
    qr = gzipSync(Buffer.from(await r.arrayBuffer()), { level: 9 }).length;
  }
  console.log(`assets: ${total} bytes gzipped (zlib -9; the image's zopfli copies are smaller) + QR ${qr}`);
  assert.ok(total + qr < 20_000, `${total + qr} bytes`);
});

// A few more ranked games, played in a page with the page's own rules, so
// that the pictures show a list (the board still replays each one).
async function fillBoard() {
  const { context, page } = await open('');
  await page.evaluate(async (names) => {
    const { Game, mulberry32, MOVE_CODES } = await import('/game.js');
    const call = async (path, body) => {
      // Wait out the rate limit (one request every 2 s after a burst).
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const r = await fetch(path, { method: 'POST', body: JSON.stringify(body) });
        if (r.status !== 429) return r.json();
        await new Promise((ok) => setTimeout(ok, 500));
      }
      throw new Error('still rate-limited');
    };
    for (const [i, name] of names.entries()) {
      const { id, seed } = await call('/api/game', {});
      const g = new Game({ rng: mulberry32(seed) });
      let moves = '';
      const order = [['down', 'left', 'right', 'up'], ['left', 'down', 'up', 'right']][i % 2];
      while (!g.over) {
        const dir = order.find((d) => new Game({ state: g.toJSON() }).move(d).changed);
        g.move(dir);
        moves += MOVE_CODES[dir];
      }
      await call('/api/score', { id, name, moves, score: g.score });
    }
  }, ['Ada', 'Grace H.', 'Linus', 'Zoë', 'Margaret', 'Ken T.', 'Barbara']);
  await context.close();
}

test('booth screenshots (SCREENSHOTS=1)', { timeout: T, skip: !process.env.SCREENSHOTS }, async () => {
  await mkdir(SHOTS, { recursive: true });
  await fillBoard();
  for (const [w, h] of [[1920, 1080], [1280, 720]]) {
    for (const colorScheme of ['light', 'dark']) {
      const { context, page } = await open('booth', { viewport: { width: w, height: h }, colorScheme });
      await page.waitForFunction(() => document.getElementById('f-req').textContent !== '–');
      await page.waitForFunction(() => document.getAnimations().length === 0); // the new-score flash is over
      await page.screenshot({ path: path.join(SHOTS, `booth-${w}x${h}${colorScheme === 'dark' ? '-dark' : ''}.png`) });
      await context.close();
    }
  }
});

test('no console errors or page errors on any page', () => {
  assert.deepEqual(problems, []);
});
