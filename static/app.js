// DOM layer: drawing, input, storage, the how-to overlay and live stats.
// The rules live in game.js and know nothing about the page.
import { Game, mulberry32, SIZE, MOVE_CODES } from './game.js';

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
const RANKED = '2048.ranked';
const NICK = '2048.nick';
const PLAYED = '2048.played';

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

// A ranked game: the board issued its id and seed, and every move is kept
// (one letter each) to be posted and replayed there. null: a local game,
// which plays the same but cannot be posted.
let ranked = null;
let played = 0; // moves in the current game, ranked or not

// Rebuilds a saved ranked game from its seed and moves (the generator's
// state is not saved); true when that gives the saved board.
function resume(saved) {
  if (!saved || !/^[0-9a-f]{16}$/.test(saved.id) || !Number.isInteger(saved.seed)
    || typeof saved.moves !== 'string') return false;
  const g = new Game({ rng: mulberry32(saved.seed) });
  g.keepGoing = true;
  for (const c of saved.moves) {
    if (c === 'Z') g.undo();
    else g.move(Object.keys(MOVE_CODES).find((d) => MOVE_CODES[d] === c));
  }
  if (JSON.stringify(g.board) !== JSON.stringify(game.board) || g.score !== game.score) return false;
  game.rng = g.rng;
  game.prev = g.prev;
  ranked = saved;
  played = saved.moves.length;
  return true;
}
// A saved game that did not come with a move count may have any history.
if (!seeded && store.get(KEY) && !resume(loadJSON(RANKED))) played = Number(store.get(PLAYED) ?? 1) || 0;

const save = () => {
  store.set(KEY, JSON.stringify(game));
  store.set(BEST, String(game.best));
  store.set(RANKED, JSON.stringify(ranked));
  store.set(PLAYED, String(played));
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
  if ($('msg').hidden) postState = null;
  else if (!postState) postState = ranked ? 'form' : 'offline';
  $('post').hidden = postState !== 'form';
  $('post-msg').hidden = postState === 'form';
  if (postState === 'offline') $('post-msg').textContent = 'Played offline: this score cannot be posted.';
}

// ---- posting a score ------------------------------------------------------------

let postState = null; // null, 'form', 'offline' or 'done' while the message is up

const nick = $('nick');
nick.value = store.get(NICK) || '';
const validNick = (n) => { const l = [...n].length; return l >= 1 && l <= 12 && !/[\u0000-\u001f\u007f-\u009f]/.test(n); };

$('post').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = nick.value.trim();
  const out = $('post-msg');
  if (!validNick(name)) {
    nick.focus();
    return;
  }
  if (!ranked) return;
  store.set(NICK, name);
  const sent = ranked;
  ranked = null; // one post per game: the id is used up either way
  save();
  postState = 'done';
  $('post').hidden = true;
  out.hidden = false;
  out.textContent = 'Posting…';
  const r = await api('/api/score', { id: sent.id, name, moves: sent.moves, score: game.score });
  if (r && r.status === 200 && r.game) {
    out.textContent = r.rank <= 20 ? `You are #${r.rank} on the board!` : 'Posted. Not in the top 20 this time.';
    showTop(r.top);
  } else {
    out.textContent = r && r.status === 429 ? 'Too many posts, try again in a moment.'
      : r ? 'The board refused this game.' : 'Could not reach the board.';
  }
  say(out.textContent);
});

// The top five, under "What is this?".
function showTop(top) {
  const list = $('top5-list');
  if (!Array.isArray(top)) return;
  list.textContent = '';
  for (const g of top.slice(0, 5)) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    const pts = document.createElement('b');
    name.textContent = g.name; // textContent: a name is never HTML
    pts.textContent = g.score;
    li.append(name, pts);
    list.append(li);
  }
  $('top5').hidden = !top.length;
}

async function loadTop() {
  const board = await api('/api/leaderboard');
  if (board && board.status === 200) showTop(board.top);
}

// ---- actions ----------------------------------------------------------------

function act(dir) {
  const before = game.score;
  const res = game.move(dir);
  if (!res.changed) return;
  played++;
  if (ranked) ranked.moves += MOVE_CODES[dir];
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
  game.rng = seeded ? game.rng : Math.random;
  game.reset();
  ranked = null;
  played = 0;
  drawAll('new');
  updateUI();
  save();
  say('New game. Score 0');
  askForSeed();
}

// Asks the board for a ranked game; when the answer comes before the first
// move, the game restarts on the board's seed. Offline, nothing changes.
async function askForSeed() {
  if (seeded || !polling) return;
  const issued = await api('/api/game', {});
  if (!issued || played || ranked || !/^[0-9a-f]{16}$/.test(issued.id)) return;
  game.rng = mulberry32(issued.seed);
  game.reset();
  ranked = { id: issued.id, seed: issued.seed, moves: '' };
  drawAll('new');
  updateUI();
  save();
}

// POSTs (or GETs, without a body) JSON; the parsed answer, or null.
async function api(path, body) {
  try {
    const r = await fetch(path, body ? {
      method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' },
    } : { cache: 'no-store' });
    const data = await r.json();
    data.status = r.status;
    return data;
  } catch {
    return null;
  }
}

function undo() {
  if (!game.undo()) return;
  if (ranked) ranked.moves += 'Z';
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
  if (e.target === nick) return; // typing a name
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
if (polling) {
  poll();
  loadTop();
  if (!played) askForSeed();
}
if (!store.get(SEEN)) {
  // Without storage this is null on every load, so the overlay shows once
  // per page load, which is the best we can do.
  store.set(SEEN, '1');
  showHowto();
}
