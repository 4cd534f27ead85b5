// 2048 rules. Pure module: no DOM, no storage, no globals, so the same code
// runs in the browser (app.js) and under node's test runner (tests/web).
// A board is an array of 4 rows of 4 numbers; 0 is an empty cell.

export const SIZE = 4;
export const WIN = 2048;
export const DIRS = ['left', 'right', 'up', 'down'];
// One character per move (and Z for undo) in the list a ranked game posts;
// the appliance replays it (kernel/src/services/leaderboard/rules.rs).
export const MOVE_CODES = { left: 'L', right: 'R', up: 'U', down: 'D', undo: 'Z' };

// Small seedable PRNG (mulberry32). Math.random cannot be seeded, and the
// tests and the ?seed= hook need reproducible games.
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const emptyBoard = () => Array.from({ length: SIZE }, () => Array(SIZE).fill(0));
export const cloneBoard = (b) => b.map((row) => row.slice());

// Slide one line towards index 0. Each tile merges at most once per move:
// after a merge the target is closed, so [2,2,2,2] gives [4,4,0,0], not [8,0,0,0].
// moves lists where every tile went (for the slide animation).
export function slideLine(line) {
  const out = Array(line.length).fill(0);
  const moves = [];
  let score = 0;
  let t = -1; // last filled slot in out
  let open = false; // may out[t] still take a merge?
  line.forEach((v, i) => {
    if (!v) return;
    if (open && out[t] === v) {
      out[t] = v * 2;
      score += out[t];
      open = false;
      moves.push({ from: i, to: t, merged: true });
    } else {
      out[++t] = v;
      open = true;
      moves.push({ from: i, to: t, merged: false });
    }
  });
  return { line: out, score, moves };
}

// Cells of line i, ordered in the direction the tiles travel.
function lineCells(dir, i) {
  const cells = [];
  for (let k = 0; k < SIZE; k++) {
    const j = dir === 'right' || dir === 'down' ? SIZE - 1 - k : k;
    cells.push(dir === 'left' || dir === 'right' ? [i, j] : [j, i]);
  }
  return cells;
}

// Apply a move without spawning. Returns the new board, the points gained,
// whether anything changed, per-tile moves ({from:[r,c], to:[r,c]}) and the
// cells where merges happened.
export function move(board, dir) {
  if (!DIRS.includes(dir)) throw new Error('bad direction: ' + dir);
  const next = emptyBoard();
  const moves = [];
  const merged = [];
  let score = 0;
  let changed = false;
  for (let i = 0; i < SIZE; i++) {
    const cells = lineCells(dir, i);
    const res = slideLine(cells.map(([r, c]) => board[r][c]));
    score += res.score;
    cells.forEach(([r, c], k) => {
      next[r][c] = res.line[k];
      if (res.line[k] !== board[r][c]) changed = true;
    });
    for (const m of res.moves) {
      moves.push({ from: cells[m.from], to: cells[m.to] });
      if (m.merged) merged.push(cells[m.to]);
    }
  }
  return { board: next, score, changed, moves, merged };
}

export const emptyCells = (board) => {
  const cells = [];
  board.forEach((row, r) => row.forEach((v, c) => v || cells.push([r, c])));
  return cells;
};

// Put a 2 (p=0.9) or a 4 (p=0.1) in a random empty cell, in place.
// Returns {at:[r,c], value}, or null when the board is full.
export function spawn(board, rng) {
  const cells = emptyCells(board);
  if (!cells.length) return null;
  const at = cells[Math.floor(rng() * cells.length)];
  const value = rng() < 0.9 ? 2 : 4;
  board[at[0]][at[1]] = value;
  return { at, value };
}

export function canMove(board) {
  for (let r = 0; r < SIZE; r++) {
    for (let c = 0; c < SIZE; c++) {
      const v = board[r][c];
      if (!v) return true;
      if (c + 1 < SIZE && board[r][c + 1] === v) return true;
      if (r + 1 < SIZE && board[r + 1][c] === v) return true;
    }
  }
  return false;
}

export const maxTile = (board) => Math.max(...board.flat());

const isBoard = (b) =>
  Array.isArray(b) && b.length === SIZE &&
  b.every((row) => Array.isArray(row) && row.length === SIZE &&
    row.every((v) => v === 0 || (Number.isInteger(v) && v > 1 && (v & (v - 1)) === 0)));

// Game state: board, score, best, win flags and a single undo step.
export class Game {
  constructor({ rng = Math.random, state = null, best = 0 } = {}) {
    this.rng = rng;
    this.best = best;
    if (!state || !this.restore(state)) this.reset();
  }

  reset() {
    this.board = emptyBoard();
    this.score = 0;
    this.won = false; // reached WIN at some point
    this.keepGoing = false; // player chose to continue after winning
    this.prev = null; // one undo step: {board, score, won}
    spawn(this.board, this.rng);
    spawn(this.board, this.rng);
    this.over = !canMove(this.board);
  }

  // Moves are refused after game over and while the win screen is up.
  get blocked() {
    return this.over || (this.won && !this.keepGoing);
  }

  move(dir) {
    if (this.blocked) return { changed: false };
    const res = move(this.board, dir);
    if (!res.changed) return res; // no spawn, no undo step
    this.prev = { board: this.board, score: this.score, won: this.won };
    this.board = res.board;
    this.score += res.score;
    if (this.score > this.best) this.best = this.score;
    res.spawned = spawn(this.board, this.rng);
    res.win = !this.won && maxTile(this.board) >= WIN;
    if (res.win) this.won = true;
    this.over = !canMove(this.board);
    return res;
  }

  get canUndo() {
    return !!this.prev;
  }

  undo() {
    if (!this.prev) return false;
    ({ board: this.board, score: this.score, won: this.won } = this.prev);
    this.board = cloneBoard(this.board);
    this.prev = null;
    this.over = !canMove(this.board);
    return true;
  }

  toJSON() {
    const { board, score, best, won, keepGoing, prev } = this;
    return { board, score, best, won, keepGoing, prev };
  }

  // Load saved state; returns false (and leaves the game alone) when it is
  // not a plausible game, e.g. edited or from an older version.
  restore(s) {
    if (!s || !isBoard(s.board) || !Number.isInteger(s.score) || s.score < 0) return false;
    const prev = s.prev && isBoard(s.prev.board) && Number.isInteger(s.prev.score)
      ? { board: cloneBoard(s.prev.board), score: s.prev.score, won: !!s.prev.won }
      : null;
    this.board = cloneBoard(s.board);
    this.score = s.score;
    this.best = Math.max(this.best, s.score, Number.isInteger(s.best) ? s.best : 0);
    this.won = !!s.won;
    this.keepGoing = !!s.keepGoing;
    this.prev = prev;
    this.over = !canMove(this.board);
    return true;
  }
}
