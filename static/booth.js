// The booth screen: the leaderboard live by long polling (the board answers
// /api/leaderboard?after=VERSION as soon as the lists change, or after 25 s,
// and the page asks again at once; plain fetch, so it works in every
// browser, captive mini-browsers included), and the board's figures from
// /stats.json. Names only ever go in textContent, so a name holding HTML
// shows as text.

const $ = (id) => document.getElementById(id);
const nat = (v) => Number.isInteger(v) && v >= 0;
const SHOWN = 10; // rows on screen (the board keeps 20)
let newest = null; // highest game number shown so far

function cell(cls, text) {
  const el = document.createElement('span');
  el.className = cls;
  el.textContent = text;
  return el;
}

export function render(board) {
  if (!board || !Array.isArray(board.top) || !Array.isArray(board.recent)) return;
  const top = $('top');
  const rows = board.top.slice(0, SHOWN).map((g, i) => {
    const li = document.createElement('li');
    li.append(cell('rank', i + 1), cell('name', g.name), cell('tile', g.tile), cell('pts', g.score));
    if (newest !== null && g.n > newest) li.className = 'new';
    return li;
  });
  if (!rows.length) rows.push(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'No scores yet: be the first!' }));
  top.replaceChildren(...rows);
  newest = Math.max(newest ?? 0, ...board.recent.map((g) => g.n));
  const recent = $('recent');
  recent.hidden = !board.recent.length;
  recent.replaceChildren('Just played: ', ...board.recent.slice(0, 5).flatMap((g, i) => [
    i ? ' · ' : '', Object.assign(document.createElement('b'), { textContent: g.name }), ` ${g.score}`,
  ]));
  if (nat(board.games)) $('f-games').textContent = board.games.toLocaleString('en');
  if (nat(board.crashes)) $('f-crash').textContent = board.crashes;
  $('storage').textContent = board.storage === 'disk' ? 'saved on the board' : 'kept in memory';
  if (typeof board.url === 'string') $('url').textContent = board.url;
}

export function showStats(s) {
  if (!s || !nat(s.uptime_ms)) return;
  const players = s.leases && nat(s.leases.active) ? s.leases.active : s.connections && s.connections.open;
  if (nat(players)) $('f-players').textContent = players;
  const since = new Date(Date.now() - s.uptime_ms);
  $('f-up').textContent = since.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  if (nat(s.boot_ms)) $('f-boot').textContent = s.boot_ms + ' ms';
  if (nat(s.requests)) $('f-req').textContent = s.requests.toLocaleString('en');
}

async function get(path) {
  try {
    const r = await fetch(path, { cache: 'no-store' });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

const pause = (ms) => new Promise((ok) => setTimeout(ok, ms));

async function follow() {
  let version = null;
  for (;;) {
    const board = await get('/api/leaderboard' + (version === null ? '' : '?after=' + version));
    document.body.classList.toggle('stale', !board);
    if (board && nat(board.version)) {
      render(board);
      version = board.version;
    } else {
      version = null;
      await pause(2000); // the board is rebooting, or this is not one
    }
  }
}

async function stats() {
  showStats(await get('/stats.json'));
  setTimeout(stats, 3000);
}

if (location.protocol.startsWith('http')) {
  follow();
  stats();
}
