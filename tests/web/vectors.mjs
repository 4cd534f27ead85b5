// Writes tests/vectors/games.json: games played by the page's own rules
// (static/game.js), which the appliance's Rust replay must accept move for
// move (kernel/src/services/leaderboard/tests.rs reads the file).
// Usage: node tests/web/vectors.mjs   (deterministic: same file every run)
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Game, mulberry32, MOVE_CODES } from '../../static/game.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.resolve(here, '../vectors/games.json');

// Plays one game to its end: `pick` chooses among the directions, with an
// undo now and then so that the vectors cover the undo rule too.
export function playGame(seed, pick, undoEvery = 0) {
  const game = new Game({ rng: mulberry32(seed) });
  const steps = [];
  while (!game.over && steps.length < 5000) {
    if (undoEvery && steps.length % undoEvery === undoEvery - 1 && game.canUndo) {
      game.undo();
      steps.push('undo');
      continue;
    }
    const dir = pick(game);
    const res = game.move(dir);
    if (res.changed) steps.push(dir);
    if (game.won && !game.keepGoing) game.keepGoing = true;
  }
  return { seed, moves: steps.map((s) => MOVE_CODES[s]).join(''), score: game.score, max_tile: Math.max(...game.board.flat()), over: game.over };
}

// A corner strategy: down, left, right, up, in that order of preference;
// games last hundreds of moves.
const corner = (game) => ['down', 'left', 'right', 'up'].find((d) => {
  const copy = new Game({ rng: () => 0, state: game.toJSON() });
  return copy.move(d).changed;
});

export function vectors() {
  const chooser = mulberry32(2048);
  const random = () => ['left', 'right', 'up', 'down'][Math.floor(chooser() * 4)];
  const games = [];
  for (let i = 0; i < 12; i++) games.push(playGame(1000 + i * 7919, random, i % 3 ? 0 : 9));
  for (let i = 0; i < 4; i++) games.push(playGame(0xdeadbeef - i, corner, i % 2 ? 0 : 37));
  games.push(playGame(0, corner));
  games.push(playGame(0xffffffff, random));
  return games;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const games = vectors();
  writeFileSync(OUT, JSON.stringify(games, null, 1) + '\n');
  const longest = Math.max(...games.map((g) => g.moves.length));
  console.log(`wrote ${OUT}: ${games.length} games, longest ${longest} moves`);
}
