// DOM layer: drawing, input, storage, the how-to overlay and live stats.
// The rules live in game.js and know nothing about the page.
import { Game, mulberry32, SIZE } from './game.js';

const $ = (id) => document.getElementById(id);

// localStorage may be missing or throw on any access (Apple's captive-portal
// mini-browser, private mode, storage disabled), so every access is wrapped
// and the game simply stays in memory.
const store = {
  get(k) {
    try { return window.localStorage.getItem(k); } catch { return null; }
  },
  set(k, v) {
    try { window.localStorage.setItem(k, v); } catch { /* memory only */ }
  },
};
const KEY = '2048.game';
const BEST = '2048.best';
const SEEN = '2048.seen';

function loadJSON(k) {
  try { return JSON.parse(store.get(k)); } catch { return null; }
}

// ?seed=N starts a fresh, reproducible game (used by the browser tests).
const seed = new URLSearchParams(location.search).get('seed');
const seeded = seed !== null && /^\d+$/.test(seed);
const game = new Game({
  rng: seeded ? mulberry32(Number(seed)) : Math.random,
  best: Number(store.get(BEST)) || 0,
  state: seeded ? null : loadJSON(KEY),
});

const save = () => {
  store.set(KEY, JSON.stringify(game));
  store.set(BEST, String(game.best));
};

// ---- drawing --------------------------------------------------------------

const board = $('board');
const tilesEl = $('tiles');
let cells = []; // tile element per cell index r * SIZE + c, or null
let ghosts = []; // tiles that merged away, removed once their slide ends
let ghostTimer = 0;

// Background cells, drawn once.
for (let i = 0; i < SIZE * SIZE; i++) {
  const el = document.createElement('div');
  el.className = 'cell';
  place(el, Math.floor(i / SIZE), i % SIZE);
  board.insertBefore(el, tilesEl);
}

function place(el, r, c) {
  el.style.setProperty('--r', r);
  el.style.setProperty('--c', c);
}

function makeTile(v, r, c, cls) {
  const el = document.createElement('div');
  el.className = 'tile' + (cls ? ' ' + cls : '');
  const digits = String(v).length;
  if (digits > 2) el.classList.add('d' + Math.min(digits, 5));
  const inner = document.createElement('div');
  inner.className = 'in';
  if (v <= 2048) inner.dataset.v = v;
  else inner.classList.add('big');
  inner.textContent = v;
  el.append(inner);
  place(el, r, c);
  tilesEl.append(el);
  return el;
}

function clearGhosts() {
  clearTimeout(ghostTimer);
  for (const el of ghosts) el.remove();
  ghosts = [];
}

// Redraw from scratch (load, new game, undo).
function drawAll(cls) {
  clearGhosts();
  tilesEl.textContent = '';
  cells = game.board.flat().map((v, i) =>
    v ? makeTile(v, Math.floor(i / SIZE), i % SIZE, cls) : null);
}

// Animate one move: existing tiles slide to their targets (CSS transition on
// the translate), merged pairs slide under a new tile that pops in, and the
// spawned tile appears after the slide.
function drawMove(res) {
  clearGhosts();
  const idx = ([r, c]) => r * SIZE + c;
  const mergedAt = new Set(res.merged.map(idx));
  const next = Array(SIZE * SIZE).fill(null);
  for (const { from, to } of res.moves) {
    const el = cells[idx(from)];
    el.classList.remove('new', 'merged');
    place(el, to[0], to[1]);
    if (mergedAt.has(idx(to))) {
      el.classList.add('ghost');
      ghosts.push(el);
    } else {
      next[idx(to)] = el;
    }
  }
  for (const [r, c] of res.merged) next[idx([r, c])] = makeTile(game.board[r][c], r, c, 'merged');
  if (res.spawned) {
    const [r, c] = res.spawned.at;
    next[idx([r, c])] = makeTile(res.spawned.value, r, c, 'new');
  }
  cells = next;
  ghostTimer = setTimeout(clearGhosts, 150);
}

const sr = $('sr');
const say = (text) => { sr.textContent = text; };

function floatPlus(n) {
  const el = document.createElement('span');
  el.className = 'plus';
  el.textContent = '+' + n;
  $('score').parentNode.append(el);
  setTimeout(() => el.remove(), 700);
}

function updateUI(gained = 0) {
  $('score').textContent = game.score;
  $('best').textContent = game.best;
  $('undo').disabled = !game.canUndo;
  if (gained) floatPlus(gained);
  const winScreen = game.won && !game.keepGoing;
  $('msg').hidden = !game.over && !winScreen;
  $('msg-text').textContent = game.over ? 'Game over!' : 'You win!';
  $('keep').hidden = game.over;
}

// ---- actions ----------------------------------------------------------------

function act(dir) {
  const before = game.score;
  const res = game.move(dir);
  if (!res.changed) return;
  drawMove(res);
  const gained = game.score - before;
  updateUI(gained);
  save();
  // Move focus to the screen's main button so Enter answers it.
  if (game.over) {
    say(`Game over. Final score ${game.score}.`);
    $('again').focus();
  } else if (res.win) {
    say(`You reached 2048! Score ${game.score}.`);
    $('keep').focus();
  } else if (gained) {
    say(`Score ${game.score}`);
  }
}

function newGame() {
  game.reset();
  drawAll('new');
  updateUI();
  save();
  say('New game. Score 0');
}

function undo() {
  if (!game.undo()) return;
  drawAll();
  updateUI();
  save();
  say(`Move undone. Score ${game.score}`);
}

$('new').addEventListener('click', newGame);
$('again').addEventListener('click', () => {
  newGame();
  board.focus(); // the focused button just disappeared
});
$('undo').addEventListener('click', undo);
$('keep').addEventListener('click', () => {
  game.keepGoing = true;
  updateUI();
  save();
  board.focus(); // as above
});

// ---- keyboard -------------------------------------------------------------

const KEYS = {
  ArrowLeft: 'left', ArrowRight: 'right', ArrowUp: 'up', ArrowDown: 'down',
  a: 'left', d: 'right', w: 'up', s: 'down',
  h: 'left', l: 'right', k: 'up', j: 'down', // vim
};

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return; // leave Ctrl+R etc. alone
  if (!howto.hidden) {
    if (e.key !== 'Tab') {
      e.preventDefault();
      hideHowto();
    }
    return;
  }
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (KEYS[key]) {
    e.preventDefault(); // arrows would scroll the page
    act(KEYS[key]);
  } else if (key === 'r') {
    newGame();
  } else if (key === 'u') {
    undo();
  }
});

// ---- touch ----------------------------------------------------------------

// touch-action:none in CSS stops scroll/zoom in modern browsers; the
// non-passive touchmove preventDefault covers older iOS Safari, which ignores
// touch-action for scrolling. touchstart stays passive so taps on the
// win/game-over buttons still become clicks.
const SWIPE = 24; // px; shorter movements are taps
let start = null;
board.addEventListener('touchstart', (e) => {
  const t = e.touches[0];
  start = e.touches.length === 1 ? { x: t.clientX, y: t.clientY } : null;
}, { passive: true });
board.addEventListener('touchmove', (e) => e.preventDefault(), { passive: false });
board.addEventListener('touchcancel', () => { start = null; });
board.addEventListener('touchend', (e) => {
  if (!start) return;
  const t = e.changedTouches[0];
  const dx = t.clientX - start.x;
  const dy = t.clientY - start.y;
  start = null;
  if (Math.max(Math.abs(dx), Math.abs(dy)) < SWIPE) return;
  if (Math.abs(dx) > Math.abs(dy)) act(dx > 0 ? 'right' : 'left');
  else act(dy > 0 ? 'down' : 'up');
});
// Safari's own pinch gesture events.
board.addEventListener('gesturestart', (e) => e.preventDefault());

// ---- how to play ------------------------------------------------------------

const howto = $('howto');
let lastFocus = null;

function showHowto() {
  lastFocus = document.activeElement;
  howto.hidden = false;
  $('howto-ok').focus();
}

function hideHowto() {
  howto.hidden = true;
  if (lastFocus && lastFocus !== document.body) lastFocus.focus();
}

// One tap anywhere dismisses it.
howto.addEventListener('click', hideHowto);
howto.addEventListener('touchmove', (e) => e.preventDefault(), { passive: false });
$('help').addEventListener('click', showHowto);

// ---- live figures from the board -----------------------------------------------

const live = $('live');
const nat = (v) => Number.isInteger(v) && v >= 0;
let upBase = null; // {ms, at}: uptime ticks locally between polls
let pollTimer = 0;
let polling = location.protocol.startsWith('http'); // nothing to ask when opened as a file

function duration(ms) {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor(s / 3600) % 24;
  const m = Math.floor(s / 60) % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function showStats(s) {
  if (!s || !nat(s.uptime_ms) || !nat(s.boot_ms) || !nat(s.requests)) {
    live.hidden = true;
    return;
  }
  upBase = { ms: s.uptime_ms, at: Date.now() };
  $('s-up').textContent = duration(s.uptime_ms);
  $('s-boot').textContent = s.boot_ms + ' ms';
  $('s-req').textContent = s.requests.toLocaleString('en');
  const players = s.leases && nat(s.leases.active) ? s.leases.active : null;
  $('s-players-box').hidden = players === null;
  $('s-players').textContent = players;
  live.hidden = false;
}

// Failures are expected (no board behind the page, board rebooting), so they
// are swallowed silently: the live part just hides.
async function poll() {
  clearTimeout(pollTimer);
  let data = null;
  try {
    const r = await fetch('/stats.json', { cache: 'no-store' });
    if (r.status === 404) polling = false; // this server has no stats; stop asking
    if (r.ok) data = await r.json();
  } catch {
    data = null;
  }
  showStats(data);
  // Clear again: a poll started meanwhile (tab shown) must not leave two timers.
  clearTimeout(pollTimer);
  if (polling && !document.hidden) pollTimer = setTimeout(poll, 5000);
}

setInterval(() => {
  if (!live.hidden && upBase) $('s-up').textContent = duration(upBase.ms + Date.now() - upBase.at);
}, 1000);

// Do not poll from background tabs; catch up when the page is shown again.
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && polling) poll();
});

// ---- start ------------------------------------------------------------------

drawAll('new');
updateUI();
save();
if (polling) poll();
if (!store.get(SEEN)) {
  // Without storage this is null on every load, so the overlay shows once
  // per page load, which is the best we can do.
  store.set(SEEN, '1');
  showHowto();
}
