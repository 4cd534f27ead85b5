//! The booth's leaderboard: seeds for ranked games, replay of posted
//! games, the top 20 and the last 10, and their JSON.
//!
//! A phone asks for a game (an id and a seed), plays it with the page's
//! rules and posts the id, a nickname and its move list; the appliance
//! replays the moves (`rules`, a port of `static/game.js`) and keeps the
//! score it computed. State is kept in RAM and journaled (`journal`) on a
//! block device when the board has one. `wire` parses and writes the JSON.

#![deny(unsafe_code)]

pub mod journal;
pub mod ratelimit;
pub mod rules;
pub mod task;
pub mod wire;

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::Future;
use core::sync::atomic::{AtomicU32, Ordering};
use core::task::{Poll, Waker};

use journal::{BlockStore, Journal, JournalError, OpenStatus};
use ratelimit::RateLimiter;

/// Games in the top list.
pub const TOP: usize = 20;
/// Games in the "last posted" list.
pub const RECENT: usize = 10;
/// Games issued and not yet posted that are remembered; the oldest is
/// forgotten first (its post then gets 422).
pub const PENDING: usize = 64;
/// Of those, at most this many per client, so that one phone asking for
/// games in a loop only forgets its own.
pub const PENDING_PER_CLIENT: usize = 4;
/// Longest nickname, in characters.
pub const NAME_CHARS: usize = 12;

/// One posted game, as kept and shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Games posted before this one, plus one: orders the "last" list and
    /// breaks ties in the top list (the earlier game stays ahead).
    pub number: u32,
    /// The score the appliance computed.
    pub score: u32,
    /// The largest tile reached.
    pub max_tile: u32,
    /// Moves played.
    pub moves: u32,
    /// The nickname, checked by `valid_name`.
    pub name: String,
}

/// A ranked game handed to a phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The game's id: the boot nonce and a counter, so unique per boot and
    /// across boots.
    pub id: u64,
    /// The seed of the page's generator.
    pub seed: u32,
}

/// Why a request is refused, and the status it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 400: not the JSON the page sends, or a nickname that is not 1-12
    /// printable characters.
    Junk,
    /// 413: a body over `wire::MAX_BODY`.
    TooLarge,
    /// 422: a game id this boot did not issue, or one already posted.
    Replayed,
    /// 422: moves the page's rules cannot have played.
    Forged,
    /// 422: the posted score is not what the moves make.
    Mismatch,
    /// 429: too many requests from this client.
    RateLimited,
}

impl Refusal {
    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Refusal::Junk => 400,
            Refusal::TooLarge => 413,
            Refusal::Replayed | Refusal::Forged | Refusal::Mismatch => 422,
            Refusal::RateLimited => 429,
        }
    }

    /// The reason given in the error body.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Junk => "malformed request",
            Refusal::TooLarge => "body too large",
            Refusal::Replayed => "unknown or already posted game",
            Refusal::Forged => "moves that cannot be played",
            Refusal::Mismatch => "score does not match the moves",
            Refusal::RateLimited => "too many requests, wait a little",
        }
    }
}

/// What was refused and issued, for `/stats.json`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Games issued.
    pub issued: u32,
    /// Games posted and kept.
    pub accepted: u32,
    /// 422: unknown or replayed game ids.
    pub replayed: u32,
    /// 422: impossible move lists.
    pub forged: u32,
    /// 422: scores that the moves do not make.
    pub mismatched: u32,
    /// 400: junk bodies and bad nicknames.
    pub junk: u32,
    /// 413: bodies too large.
    pub too_large: u32,
    /// 429: requests over a client's rate.
    pub rate_limited: u32,
    /// Journal writes that failed (the game is still kept in RAM).
    pub journal_errors: u32,
}

/// True for a nickname of 1 to 12 printable characters. UTF-8 is allowed
/// (names in any script, emoji); printable means no control characters
/// (Unicode Cc), no line or paragraph separators and no bidirectional
/// controls, which could reorder the booth's list; leading or trailing
/// spaces are refused, so every name shows as it was typed.
pub fn valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=NAME_CHARS).contains(&count)
        && name.trim() == name
        && name.chars().all(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

/// splitmix64: spreads a boot's random seed over game ids and seeds.
/// Seeds need not be secret (the rules are public, so a seed tells a
/// cheater nothing he could not compute); ids only need to be hard to
/// guess, which a random 64-bit start gives.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The leaderboard's state: pure, no I/O, every rule host-tested.
pub struct Leaderboard {
    random: u64,
    boot_nonce: u32,
    issued_count: u32,
    pending: VecDeque<(u32, Issued)>,
    top: Vec<Entry>,
    recent: VecDeque<Entry>,
    games_played: u32,
    version: u32,
    limiter: RateLimiter,
    counters: Counters,
}

impl Leaderboard {
    /// An empty leaderboard for a boot whose randomness is `random`.
    pub fn new(random: u64) -> Self {
        let mut state = random;
        let boot_nonce = splitmix64(&mut state) as u32;
        Self {
            random: state,
            boot_nonce,
            issued_count: 0,
            pending: VecDeque::new(),
            top: Vec::new(),
            recent: VecDeque::new(),
            games_played: 0,
            version: 0,
            limiter: RateLimiter::new(),
            counters: Counters::default(),
        }
    }

    /// Takes back a game from the journal (duplicates are ignored).
    pub fn restore(&mut self, entry: Entry) {
        if self.top.iter().chain(self.recent.iter()).any(|known| known.number == entry.number) {
            return;
        }
        self.games_played = self.games_played.max(entry.number);
        self.keep(entry);
    }

    fn keep(&mut self, entry: Entry) {
        let at = self.top.iter().position(|e| (e.score, u32::MAX - e.number) < (entry.score, u32::MAX - entry.number));
        match at {
            Some(at) => self.top.insert(at, entry.clone()),
            None => self.top.push(entry.clone()),
        }
        self.top.truncate(TOP);
        let at = self.recent.iter().position(|e| e.number < entry.number).unwrap_or(self.recent.len());
        self.recent.insert(at, entry);
        self.recent.truncate(RECENT);
        self.version = self.version.wrapping_add(1);
    }

    /// Issues a ranked game to `client`.
    pub fn issue(&mut self, client: u32, now_ms: u64) -> Result<Issued, Refusal> {
        if !self.limiter.allow(client, now_ms) {
            self.counters.rate_limited += 1;
            return Err(Refusal::RateLimited);
        }
        self.issued_count = self.issued_count.wrapping_add(1);
        let mix = splitmix64(&mut self.random);
        // The nonce keeps ids apart across boots, the counter within one;
        // the random low bits make them hard to guess.
        let id = (u64::from(self.boot_nonce) << 32) | (u64::from(self.issued_count) << 16) | (mix & 0xffff);
        let issued = Issued { id, seed: (mix >> 32) as u32 };
        if self.pending.iter().filter(|(owner, _)| *owner == client).count() >= PENDING_PER_CLIENT {
            if let Some(oldest) = self.pending.iter().position(|(owner, _)| *owner == client) {
                self.pending.remove(oldest);
            }
        }
        if self.pending.len() >= PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back((client, issued));
        self.counters.issued += 1;
        Ok(issued)
    }

    /// Checks and keeps a posted game; returns it and its rank (1-based,
    /// among every game kept in the top list, or just past it).
    pub fn submit(&mut self, client: u32, now_ms: u64, post: &wire::Post) -> Result<(Entry, u32), Refusal> {
        let result = self.check(client, now_ms, post);
        let counter = match result {
            Ok(_) => &mut self.counters.accepted,
            Err(Refusal::Junk) => &mut self.counters.junk,
            Err(Refusal::TooLarge) => &mut self.counters.too_large,
            Err(Refusal::Replayed) => &mut self.counters.replayed,
            Err(Refusal::Forged) => &mut self.counters.forged,
            Err(Refusal::Mismatch) => &mut self.counters.mismatched,
            Err(Refusal::RateLimited) => &mut self.counters.rate_limited,
        };
        *counter += 1;
        result
    }

    fn check(&mut self, client: u32, now_ms: u64, post: &wire::Post) -> Result<(Entry, u32), Refusal> {
        if !self.limiter.allow(client, now_ms) {
            return Err(Refusal::RateLimited);
        }
        if !valid_name(&post.name) {
            return Err(Refusal::Junk);
        }
        // The id is used up by any post that names it, so that a wrong
        // guess cannot be retried.
        let at = self.pending.iter().position(|(_, issued)| issued.id == post.id).ok_or(Refusal::Replayed)?;
        let Some((_, issued)) = self.pending.remove(at) else { return Err(Refusal::Replayed) };
        let game = rules::replay(issued.seed, post.moves.as_bytes()).map_err(|_| Refusal::Forged)?;
        if game.score != post.score {
            return Err(Refusal::Mismatch);
        }
        self.games_played = self.games_played.saturating_add(1);
        let entry = Entry { number: self.games_played, score: game.score, max_tile: game.max_tile(), moves: game.moves, name: post.name.clone() };
        self.keep(entry.clone());
        let rank = self.rank_of(&entry);
        Ok((entry, rank))
    }

    /// Where `entry` stands: its place in the top list, or one past it.
    fn rank_of(&self, entry: &Entry) -> u32 {
        let ahead = self.top.iter().take_while(|e| e.number != entry.number && (e.score, u32::MAX - e.number) > (entry.score, u32::MAX - entry.number)).count();
        ahead as u32 + 1
    }

    /// Every game kept (top and last, each once), for the journal.
    pub fn kept(&self) -> Vec<Entry> {
        let mut kept = self.top.clone();
        for entry in &self.recent {
            if !kept.iter().any(|e| e.number == entry.number) {
                kept.push(entry.clone());
            }
        }
        kept
    }

    /// The top list, best first.
    pub fn top(&self) -> &[Entry] {
        &self.top
    }

    /// The last games posted, newest first.
    pub fn recent(&self) -> impl Iterator<Item = &Entry> {
        self.recent.iter()
    }

    /// Games posted and kept since the journal began.
    pub fn games_played(&self) -> u32 {
        self.games_played
    }

    /// Goes up whenever the lists change (live updates compare it).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The refusal and issue counts.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Counts a refusal found before the body reached `submit` (413, 400).
    pub fn count(&mut self, refusal: Refusal) {
        match refusal {
            Refusal::TooLarge => self.counters.too_large += 1,
            _ => self.counters.junk += 1,
        }
    }
}

/// Crashes survived, as the kernel's crash record counts them; the kernel
/// sets it at boot, the booth page shows it.
pub static CRASHES_SURVIVED: AtomicU32 = AtomicU32::new(0);

/// The leaderboard as the HTTP service shares it: state, journal and the
/// live-update wakers. One executor thread, hence `RefCell`.
pub struct Booth {
    board: RefCell<Leaderboard>,
    journal: RefCell<Option<Journal<Box<dyn BlockStore>>>>,
    persistent: bool,
    waiting: RefCell<Vec<Waker>>,
    journal_failed: Cell<bool>,
}

impl Booth {
    /// Opens the journal on `store` and restores what it holds. The status
    /// is for the boot log; without a usable journal the booth runs in RAM.
    pub fn new(random: u64, store: Box<dyn BlockStore>) -> (Self, Result<OpenStatus, JournalError>) {
        let mut board = Leaderboard::new(random);
        let persistent = store.persistent();
        let (journal, status) = match Journal::open(store) {
            Ok((journal, games, status)) => {
                for game in games {
                    board.restore(game);
                }
                (Some(journal), Ok(status))
            }
            Err(error) => (None, Err(error)),
        };
        let persistent = persistent && journal.is_some();
        let booth = Self { board: RefCell::new(board), journal: RefCell::new(journal), persistent, waiting: RefCell::new(Vec::new()), journal_failed: Cell::new(false) };
        (booth, status)
    }

    /// Issues a ranked game to `client`.
    pub fn issue(&self, client: u32, now_ms: u64) -> Result<Issued, Refusal> {
        self.board.borrow_mut().issue(client, now_ms)
    }

    /// Parses, checks and keeps a posted body; wakes the live pages.
    pub fn submit(&self, client: u32, now_ms: u64, body: &[u8]) -> Result<(Entry, u32), Refusal> {
        let mut board = self.board.borrow_mut();
        let mut scratch = [0u8; wire::NAME_SCRATCH];
        let post = match wire::parse_post(body, &mut scratch) {
            Ok(post) => post,
            Err(refusal) => {
                board.count(refusal);
                return Err(refusal);
            }
        };
        let (entry, rank) = board.submit(client, now_ms, &post)?;
        if let Some(journal) = self.journal.borrow_mut().as_mut() {
            if journal.append(&entry, &board.kept()).is_err() {
                board.counters.journal_errors += 1;
                self.journal_failed.set(true);
            }
        }
        for waker in self.waiting.borrow_mut().drain(..) {
            waker.wake();
        }
        Ok((entry, rank))
    }

    /// Counts a body refused before it was read (413).
    pub fn count(&self, refusal: Refusal) {
        self.board.borrow_mut().count(refusal);
    }

    /// Resolves once the lists change from `version`.
    pub fn changed(&self, version: u32) -> impl Future<Output = ()> + '_ {
        core::future::poll_fn(move |cx| {
            if self.board.borrow().version() != version {
                return Poll::Ready(());
            }
            let mut waiting = self.waiting.borrow_mut();
            if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
                waiting.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }

    /// The lists' version now.
    pub fn version(&self) -> u32 {
        self.board.borrow().version()
    }

    /// "disk" when the games survive a reboot, "ram" otherwise.
    pub fn storage(&self) -> &'static str {
        if self.persistent && !self.journal_failed.get() { "disk" } else { "ram" }
    }

    /// The counters, for `/stats.json`.
    pub fn counters(&self) -> Counters {
        self.board.borrow().counters()
    }

    /// Games posted since the journal began.
    pub fn games_played(&self) -> u32 {
        self.board.borrow().games_played()
    }

    /// Writes `GET /api/leaderboard`; `host` is the appliance's name.
    pub fn write_json(&self, out: &mut impl core::fmt::Write, host: &str) -> core::fmt::Result {
        wire::write_leaderboard(out, &self.board.borrow(), self.storage(), CRASHES_SURVIVED.load(Ordering::Relaxed), host)
    }

    /// Writes the answer to an accepted post: its rank and the top five.
    pub fn write_accepted(&self, out: &mut impl core::fmt::Write, entry: &Entry, rank: u32) -> core::fmt::Result {
        wire::write_accepted(out, entry, rank, &self.board.borrow())
    }

    /// Writes the `"leaderboard":{…}` member for `/stats.json`.
    pub fn write_stats_json(&self, out: &mut impl core::fmt::Write) -> core::fmt::Result {
        wire::write_stats(out, &self.board.borrow(), self.storage())
    }
}

#[cfg(test)]
mod tests;
