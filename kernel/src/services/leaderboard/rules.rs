//! The 2048 rules of `static/game.js`, in Rust, to replay a posted game.
//!
//! The appliance must compute the same board and score as the phone did, so
//! this is a line-by-line port of the page's rules: mulberry32 for the
//! generator, a spawn in a random empty cell (a 2 with p=0.9, else a 4),
//! merges at most once per tile per move, one undo step that does not
//! rewind the generator. Test vectors made by the page's own code
//! (`tests/vectors/games.json`, written by `tests/web/vectors.mjs`) keep
//! the two in step.

#![deny(unsafe_code)]

/// Cells per side.
pub const SIZE: usize = 4;
/// The tile that wins.
pub const WIN: u32 = 2048;

/// A board: rows of cells, 0 is empty.
pub type Board = [[u32; SIZE]; SIZE];

/// The seedable generator of the page (mulberry32), so that a seed gives
/// the phone and the appliance the same tiles.
#[derive(Clone, Debug)]
pub struct Mulberry32(u32);

impl Mulberry32 {
    /// Starts from `seed`, as `mulberry32(seed)` does in the page.
    pub fn new(seed: u32) -> Self {
        Self(seed)
    }

    /// The next 32-bit output; the page divides it by 2^32.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x6d2b_79f5);
        let mut t = self.0;
        t = (t ^ (t >> 15)).wrapping_mul(t | 1);
        t ^= t.wrapping_add((t ^ (t >> 7)).wrapping_mul(t | 61));
        t ^ (t >> 14)
    }

    /// The page's `rng()`: a double in [0, 1), exact.
    fn next_f64(&mut self) -> f64 {
        f64::from(self.next_u32()) / 4_294_967_296.0
    }
}

/// One move of a posted list, one character each (`L`, `R`, `U`, `D`, and
/// `Z` for the page's undo), so that thousands of moves fit a small body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Slide left.
    Left,
    /// Slide right.
    Right,
    /// Slide up.
    Up,
    /// Slide down.
    Down,
    /// Take back the last move (the page keeps one undo step).
    Undo,
}

impl Step {
    /// The move a character stands for.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            b'L' => Some(Self::Left),
            b'R' => Some(Self::Right),
            b'U' => Some(Self::Up),
            b'D' => Some(Self::Down),
            b'Z' => Some(Self::Undo),
            _ => None,
        }
    }
}

/// Slides one line towards index 0; returns the points the merges made.
fn slide_line(line: &mut [u32; SIZE]) -> u32 {
    let mut out = [0u32; SIZE];
    let mut score = 0;
    let mut filled = 0;
    let mut open = false;
    for &value in line.iter().filter(|&&v| v != 0) {
        if open && out[filled - 1] == value {
            out[filled - 1] = value * 2;
            score += value * 2;
            open = false;
        } else {
            out[filled] = value;
            filled += 1;
            open = true;
        }
    }
    *line = out;
    score
}

/// Cell `k` of line `i`, in the order the tiles travel for `step`.
fn cell(step: Step, i: usize, k: usize) -> (usize, usize) {
    let j = if matches!(step, Step::Right | Step::Down) { SIZE - 1 - k } else { k };
    if matches!(step, Step::Left | Step::Right) {
        (i, j)
    } else {
        (j, i)
    }
}

/// Applies a slide without spawning: the new board and the points gained.
pub fn slide(board: &Board, step: Step) -> (Board, u32) {
    let mut next = [[0; SIZE]; SIZE];
    let mut score = 0;
    for i in 0..SIZE {
        let mut line = [0; SIZE];
        for (k, value) in line.iter_mut().enumerate() {
            let (r, c) = cell(step, i, k);
            *value = board[r][c];
        }
        score += slide_line(&mut line);
        for (k, value) in line.iter().enumerate() {
            let (r, c) = cell(step, i, k);
            next[r][c] = *value;
        }
    }
    (next, score)
}

/// Puts a 2 or a 4 in a random empty cell, drawing as the page does.
fn spawn(board: &mut Board, rng: &mut Mulberry32) {
    let empty = board.iter().flatten().filter(|&&v| v == 0).count();
    if empty == 0 {
        return;
    }
    // floor(rng() * n) of the page, exact: both sides are exact doubles.
    let pick = (rng.next_f64() * empty as f64) as usize;
    let value = if rng.next_f64() < 0.9 { 2 } else { 4 };
    if let Some(slot) = board.iter_mut().flatten().filter(|v| **v == 0).nth(pick) {
        *slot = value;
    }
}

/// True while some move changes the board.
pub fn can_move(board: &Board) -> bool {
    (0..SIZE).any(|r| {
        (0..SIZE).any(|c| {
            let v = board[r][c];
            v == 0 || (c + 1 < SIZE && board[r][c + 1] == v) || (r + 1 < SIZE && board[r + 1][c] == v)
        })
    })
}

/// Why a move list is not a game the page could have played.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forged {
    /// A character that is no move.
    BadMove,
    /// A slide that changes nothing (the page records only real moves).
    NoChange,
    /// An undo with nothing to undo.
    NothingToUndo,
    /// A move after the game was over.
    AfterGameOver,
}

/// A game replayed from its seed.
#[derive(Clone, Debug)]
pub struct Game {
    /// The board now.
    pub board: Board,
    /// Points so far.
    pub score: u32,
    /// Moves played (undos not counted).
    pub moves: u32,
    rng: Mulberry32,
    previous: Option<(Board, u32)>,
}

impl Game {
    /// A new game from `seed`: two tiles, as the page's `reset` draws them.
    pub fn new(seed: u32) -> Self {
        let mut rng = Mulberry32::new(seed);
        let mut board = [[0; SIZE]; SIZE];
        spawn(&mut board, &mut rng);
        spawn(&mut board, &mut rng);
        Self { board, score: 0, moves: 0, rng, previous: None }
    }

    /// Plays one step as the page does.
    pub fn play(&mut self, step: Step) -> Result<(), Forged> {
        if step == Step::Undo {
            let (board, score) = self.previous.take().ok_or(Forged::NothingToUndo)?;
            self.board = board;
            self.score = score;
            self.moves -= 1;
            return Ok(());
        }
        if !can_move(&self.board) {
            return Err(Forged::AfterGameOver);
        }
        let (next, gained) = slide(&self.board, step);
        if next == self.board {
            return Err(Forged::NoChange);
        }
        self.previous = Some((self.board, self.score));
        self.board = next;
        self.score += gained;
        self.moves += 1;
        spawn(&mut self.board, &mut self.rng);
        Ok(())
    }

    /// The largest tile on the board.
    pub fn max_tile(&self) -> u32 {
        self.board.iter().flatten().copied().max().unwrap_or(0)
    }

    /// True when no move is left.
    pub fn over(&self) -> bool {
        !can_move(&self.board)
    }
}

/// Replays a move list (`LRUDZ` characters) from `seed`.
pub fn replay(seed: u32, moves: &[u8]) -> Result<Game, Forged> {
    let mut game = Game::new(seed);
    for &byte in moves {
        game.play(Step::from_byte(byte).ok_or(Forged::BadMove)?)?;
    }
    Ok(game)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulberry32_matches_the_page_for_seed_1() {
        // mulberry32(1)() * 2**32 in node: 2693262067, 11749833, 2265367787.
        let mut rng = Mulberry32::new(1);
        assert_eq!([rng.next_u32(), rng.next_u32(), rng.next_u32()], [2_693_262_067, 11_749_833, 2_265_367_787]);
    }

    #[test]
    fn a_tile_merges_at_most_once_per_move() {
        let mut line = [2, 2, 2, 2];
        assert_eq!(slide_line(&mut line), 8);
        assert_eq!(line, [4, 4, 0, 0]);
        let mut line = [4, 2, 2, 0];
        assert_eq!(slide_line(&mut line), 4);
        assert_eq!(line, [4, 4, 0, 0]);
    }

    #[test]
    fn every_direction_slides_towards_its_side() {
        let board = [[2, 0, 2, 4], [0, 4, 0, 4], [2, 0, 0, 0], [2, 8, 0, 8]];
        assert_eq!(slide(&board, Step::Left).0, [[4, 4, 0, 0], [8, 0, 0, 0], [2, 0, 0, 0], [2, 16, 0, 0]]);
        assert_eq!(slide(&board, Step::Right).0, [[0, 0, 4, 4], [0, 0, 0, 8], [0, 0, 0, 2], [0, 0, 2, 16]]);
        assert_eq!(slide(&board, Step::Up).0, [[4, 4, 2, 8], [2, 8, 0, 8], [0, 0, 0, 0], [0, 0, 0, 0]]);
        assert_eq!(slide(&board, Step::Down).0, [[0, 0, 0, 0], [0, 0, 0, 0], [2, 4, 0, 8], [4, 8, 2, 8]]);
    }

    #[test]
    fn undo_restores_the_board_but_not_the_generator() {
        let mut game = Game::new(7);
        let start = game.board;
        let step = [Step::Left, Step::Right, Step::Up, Step::Down].into_iter().find(|&s| slide(&start, s).0 != start).unwrap();
        game.play(step).unwrap();
        game.play(Step::Undo).unwrap();
        assert_eq!((game.board, game.score, game.moves), (start, 0, 0));
        assert_eq!(game.play(Step::Undo), Err(Forged::NothingToUndo));
    }

    #[test]
    fn junk_moves_are_forged() {
        assert_eq!(replay(1, b"LX").err(), Some(Forged::BadMove));
        assert_eq!(replay(1, b"Z").err(), Some(Forged::NothingToUndo));
    }
}
