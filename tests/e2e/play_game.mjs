// Plays one game to its end with the page's own rules (static/game.js) from the seed the
// appliance issued, and prints the move list and score as JSON: what a phone would post.
// Usage: node tests/e2e/play_game.mjs SEED
import { Game, mulberry32, MOVE_CODES } from '../../static/game.js';

const seed = Number(process.argv[2]);
if (!Number.isInteger(seed) || seed < 0) {
  console.error('usage: node tests/e2e/play_game.mjs SEED (a non-negative integer)');
  process.exit(2);
}
const game = new Game({ rng: mulberry32(seed) });
let moves = '';
while (!game.over) {
  const dir = ['down', 'left', 'right', 'up'].find((d) => new Game({ state: game.toJSON() }).move(d).changed);
  game.move(dir);
  moves += MOVE_CODES[dir];
}
console.log(JSON.stringify({ moves, score: game.score }));
