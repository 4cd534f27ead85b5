// Rules of 2048, tested on the pure module the page uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Game, mulberry32, slideLine, move, spawn, canMove, emptyBoard, emptyCells, WIN,
} from '../../static/game.js';

const line = (l) => slideLine(l).line;
// A game with a fixed board, for rule checks that must not depend on spawns.
function gameWith(board, extra = {}) {
  return new Game({ rng: mulberry32(1), state: { board, score: 0, ...extra } });
}

test('slideLine: moves tiles to the front and merges pairs', () => {
  assert.deepEqual(line([0, 0, 0, 2]), [2, 0, 0, 0]);
  assert.deepEqual(line([2, 0, 2, 0]), [4, 0, 0, 0]);
  assert.deepEqual(line([2, 4, 2, 4]), [2, 4, 2, 4]);
  assert.deepEqual(line([0, 0, 0, 0]), [0, 0, 0, 0]);
  assert.deepEqual(line([8, 8, 16, 16]), [16, 32, 0, 0]);
});

test('a tile merges at most once per move', () => {
  assert.deepEqual(line([2, 2, 2, 2]), [4, 4, 0, 0]);
  assert.deepEqual(line([4, 4, 8, 0]), [8, 8, 0, 0]);
  assert.deepEqual(line([2, 2, 4, 0]), [4, 4, 0, 0]);
  assert.deepEqual(line([2, 2, 2, 0]), [4, 2, 0, 0]);
  assert.deepEqual(line([4, 2, 2, 0]), [4, 4, 0, 0]);
});

test('score adds each merged value', () => {
  assert.equal(slideLine([2, 2, 2, 2]).score, 8);
  assert.equal(slideLine([4, 4, 8, 0]).score, 8);
  assert.equal(slideLine([2, 4, 8, 16]).score, 0);
  const b = [
    [2, 2, 4, 4],
    [8, 8, 0, 0],
    [0, 0, 0, 0],
    [16, 0, 16, 2],
  ];
  assert.equal(move(b, 'left').score, 4 + 8 + 16 + 32);

  const g = gameWith(b);
  g.move('left');
  assert.equal(g.score, 60);
});

test('every direction', () => {
  const b = [
    [2, 0, 2, 4],
    [0, 4, 0, 4],
    [2, 0, 0, 0],
    [2, 8, 0, 8],
  ];
  assert.deepEqual(move(b, 'left').board, [
    [4, 4, 0, 0],
    [8, 0, 0, 0],
    [2, 0, 0, 0],
    [2, 16, 0, 0],
  ]);
  assert.deepEqual(move(b, 'right').board, [
    [0, 0, 4, 4],
    [0, 0, 0, 8],
    [0, 0, 0, 2],
    [0, 0, 2, 16],
  ]);
  assert.deepEqual(move(b, 'up').board, [
    [4, 4, 2, 8],
    [2, 8, 0, 8],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  assert.deepEqual(move(b, 'down').board, [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [2, 4, 0, 8],
    [4, 8, 2, 8],
  ]);
  // The input board is never mutated.
  assert.deepEqual(b[0], [2, 0, 2, 4]);
});

test('move reports changed only when the board changed', () => {
  const b = [
    [2, 4, 8, 16],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ];
  assert.equal(move(b, 'left').changed, false);
  assert.equal(move(b, 'up').changed, false);
  assert.equal(move(b, 'right').changed, false);
  assert.equal(move(b, 'down').changed, true);
  assert.throws(() => move(b, 'sideways'));
});

test('move lists where each tile went, and merges', () => {
  const res = move([[2, 2, 0, 4], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], 'right');
  assert.deepEqual(res.moves, [
    { from: [0, 3], to: [0, 3] },
    { from: [0, 1], to: [0, 2] },
    { from: [0, 0], to: [0, 2] },
  ]);
  assert.deepEqual(res.merged, [[0, 2]]);
});

test('mulberry32 is deterministic and in [0, 1)', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
  assert.notEqual(mulberry32(1)(), mulberry32(2)());
});

test('spawn: 2 with p=0.9, 4 with p=0.1 over 10,000 seeded spawns', () => {
  const rng = mulberry32(2048);
  const counts = { 2: 0, 4: 0 };
  for (let i = 0; i < 10000; i++) {
    const b = emptyBoard();
    counts[spawn(b, rng).value]++;
  }
  assert.equal(counts[2] + counts[4], 10000);
  // Seeded, so this never flakes; the band still proves the ratio is right.
  const share = counts[2] / 10000;
  assert.ok(share > 0.88 && share < 0.92, `share of twos: ${share}`);
});

test('spawn fills only empty cells, and returns null on a full board', () => {
  const rng = mulberry32(7);
  for (let i = 0; i < 500; i++) {
    const b = [
      [2, 0, 4, 8],
      [0, 16, 0, 32],
      [64, 128, 256, 0],
      [512, 1024, 2, 4],
    ];
    const before = emptyCells(b).map(String);
    const s = spawn(b, rng);
    assert.ok(before.includes(String(s.at)), `spawned on ${s.at}`);
    assert.equal(b[s.at[0]][s.at[1]], s.value);
    assert.equal(emptyCells(b).length, before.length - 1);
  }
  const full = [[2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4], [4, 2, 4, 2]];
  assert.equal(spawn(full, rng), null);
});

test('every cell can receive a spawn', () => {
  const rng = mulberry32(3);
  const seen = new Set();
  for (let i = 0; i < 2000; i++) seen.add(String(spawn(emptyBoard(), rng).at));
  assert.equal(seen.size, 16);
});

test('new game starts with two tiles', () => {
  for (let seed = 0; seed < 50; seed++) {
    const g = new Game({ rng: mulberry32(seed) });
    const tiles = g.board.flat().filter(Boolean);
    assert.equal(tiles.length, 2);
    assert.ok(tiles.every((v) => v === 2 || v === 4));
    assert.equal(g.score, 0);
    assert.equal(g.canUndo, false);
  }
});

test('a move that changed the board spawns exactly one tile', () => {
  const g = gameWith([[2, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 2]]);
  const res = g.move('right');
  assert.equal(res.changed, true);
  assert.ok(res.spawned);
  assert.equal(g.board.flat().filter(Boolean).length, 3);
});

test('no spawn when the move did not change the board', () => {
  const board = [[2, 4, 0, 0], [8, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]];
  const g = gameWith(board);
  const res = g.move('left');
  assert.equal(res.changed, false);
  assert.equal(res.spawned, undefined);
  assert.deepEqual(g.board, board);
  assert.equal(g.canUndo, false);
});

test('win when a merge makes 2048; keep going lifts the block', () => {
  const g = gameWith([[1024, 1024, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  assert.equal(g.won, false);
  const res = g.move('left');
  assert.equal(res.win, true);
  assert.equal(g.board[0][0], WIN);
  assert.equal(g.score, 2048);
  assert.equal(g.won, true);
  assert.equal(g.blocked, true); // the win screen is up
  assert.equal(g.move('right').changed, false);
  g.keepGoing = true;
  assert.equal(g.blocked, false);
  assert.equal(g.move('right').changed, true);
  assert.notEqual(g.move('left').win, true); // win is announced only once
});

test('game over when no move is possible', () => {
  const stuck = [[2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4], [4, 2, 4, 2]];
  assert.equal(canMove(stuck), false);
  assert.equal(canMove([[2, 2, 4, 8], [4, 8, 2, 4], [2, 4, 8, 2], [4, 2, 4, 8]]), true);
  assert.equal(canMove([[2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4], [4, 2, 4, 4]]), true);
  assert.equal(canMove([[2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4], [4, 2, 4, 0]]), true);
  assert.equal(gameWith(stuck).over, true);

  // The last move fills the board with no pairs left: game over.
  // rng always 0 -> a 2 spawns in the first empty cell.
  const g = new Game({
    rng: () => 0,
    state: { board: [[0, 4, 8, 4], [2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4]], score: 0 },
  });
  assert.equal(g.over, false);
  g.move('left'); // row 0 slides to [4,8,4,0]; the 2 lands at (0,3)
  assert.deepEqual(g.board[0], [4, 8, 4, 2]);
  assert.equal(g.over, true);
  assert.equal(g.move('right').changed, false);
});

test('undo restores board and score, one step only', () => {
  const g = gameWith([[2, 2, 4, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  g.move('left');
  const board1 = structuredClone(g.board);
  const score1 = g.score;
  g.move('down');
  assert.notDeepEqual(g.board, board1);
  assert.equal(g.canUndo, true);
  assert.equal(g.undo(), true);
  assert.deepEqual(g.board, board1);
  assert.equal(g.score, score1);
  assert.equal(g.canUndo, false);
  assert.equal(g.undo(), false); // only one step
  assert.deepEqual(g.board, board1);
});

test('undo after game over brings the game back', () => {
  const g = new Game({
    rng: () => 0,
    state: { board: [[0, 4, 8, 4], [2, 4, 2, 4], [4, 2, 4, 2], [2, 4, 2, 4]], score: 10 },
  });
  g.move('left');
  assert.equal(g.over, true);
  g.undo();
  assert.equal(g.over, false);
  assert.equal(g.score, 10);
});

test('state survives JSON and bad saved state is ignored', () => {
  const g = new Game({ rng: mulberry32(5) });
  g.move('left');
  g.move('up');
  const copy = new Game({ rng: mulberry32(6), state: JSON.parse(JSON.stringify(g)) });
  assert.deepEqual(copy.board, g.board);
  assert.equal(copy.score, g.score);
  assert.equal(copy.canUndo, g.canUndo);

  for (const bad of [null, {}, { board: [[1]], score: 0 }, { board: emptyBoard().map(() => [3, 0, 0, 0]), score: 0 }, { board: emptyBoard(), score: -1 }]) {
    const fresh = new Game({ rng: mulberry32(1), state: bad });
    assert.equal(fresh.board.flat().filter(Boolean).length, 2);
  }
});

test('best score tracks the highest score', () => {
  const g = new Game({ rng: mulberry32(1), best: 100, state: { board: [[64, 64, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], score: 0 } });
  g.move('left');
  assert.equal(g.best, 128);
  g.reset();
  assert.equal(g.best, 128);
  assert.equal(g.score, 0);
});

test('the replay vectors the appliance is tested with are the page rules\' own games', async () => {
  // tests/vectors/games.json is read by the Rust replay tests; regenerate it
  // with `node tests/web/vectors.mjs` after a change to the rules.
  const { vectors } = await import('./vectors.mjs');
  const { readFile } = await import('node:fs/promises');
  const committed = JSON.parse(await readFile(new URL('../vectors/games.json', import.meta.url)));
  assert.deepEqual(vectors(), committed);
});
