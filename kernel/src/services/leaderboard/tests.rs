//! Leaderboard tests: the page's own games (tests/vectors/games.json, made
//! by tests/web/vectors.mjs with static/game.js) replay to the page's
//! score, altered ones are refused, and the lists keep what they should.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::journal::RamStore;
use super::wire::Post;
use super::*;

const VECTORS: &str = include_str!("../../../../tests/vectors/games.json");

struct Vector {
    seed: u32,
    moves: String,
    score: u32,
    max_tile: u32,
}

/// The vectors file is our own JSON of flat objects; a few lines read it.
fn vectors() -> Vec<Vector> {
    let field = |object: &str, name: &str| -> String {
        let key = alloc::format!("\"{name}\":");
        let start = object.find(&key).unwrap() + key.len();
        let rest = object[start..].trim_start();
        let end = rest.find([',', '\n', '}']).unwrap();
        rest[..end].trim().trim_matches('"').to_string()
    };
    VECTORS
        .split('{')
        .skip(1)
        .map(|object| Vector {
            seed: field(object, "seed").parse().unwrap(),
            moves: field(object, "moves"),
            score: field(object, "score").parse().unwrap(),
            max_tile: field(object, "max_tile").parse().unwrap(),
        })
        .collect()
}

#[test]
fn replay_gives_the_pages_score_for_every_vector() {
    let vectors = vectors();
    assert!(vectors.len() >= 10);
    for vector in &vectors {
        let game = rules::replay(vector.seed, vector.moves.as_bytes()).unwrap();
        assert_eq!((game.score, game.max_tile()), (vector.score, vector.max_tile), "seed {}", vector.seed);
        assert!(game.over(), "seed {} ends over", vector.seed);
    }
}

#[test]
fn altered_vectors_posted_with_the_pages_score_are_refused() {
    let mut board = Leaderboard::new(99);
    let (mut refused, mut total) = (0, 0);
    let mut client = 0;
    let mut submit = |board: &mut Leaderboard, seed: u32, moves: &[u8], score: u32| {
        client += 1;
        let issued = board.issue(client, 0).unwrap();
        board.pending.back_mut().unwrap().1.seed = seed;
        let moves = core::str::from_utf8(moves).unwrap();
        board.submit(client, 0, &post(issued.id, "Eve", moves, score))
    };
    for vector in vectors() {
        let moves = vector.moves.as_bytes();
        // One move changed, at a few places along the game: accepted only
        // when the changed list is itself a game that ends on that score
        // (a move taken back by an undo, or two slides that meet again).
        for at in [0, moves.len() / 3, moves.len() / 2, moves.len() - 1] {
            for other in *b"LRUDZX" {
                if other == moves[at] {
                    continue;
                }
                let mut altered = moves.to_vec();
                altered[at] = other;
                let honest = rules::replay(vector.seed, &altered).is_ok_and(|game| game.score == vector.score);
                let verdict = submit(&mut board, vector.seed, &altered, vector.score);
                assert_eq!(verdict.is_ok(), honest, "seed {} move {at} as {}", vector.seed, other as char);
                total += 1;
                refused += usize::from(verdict.is_err());
            }
        }
        // A move after the end, a move dropped, another seed, another score.
        let mut longer = moves.to_vec();
        longer.push(b'L');
        assert_eq!(submit(&mut board, vector.seed, &longer, vector.score), Err(Refusal::Forged));
        assert!(submit(&mut board, vector.seed ^ 1, moves, vector.score).is_err());
        assert_eq!(submit(&mut board, vector.seed, moves, vector.score + 2), Err(Refusal::Mismatch));
        assert!(submit(&mut board, vector.seed, moves, vector.score).is_ok());
    }
    assert!(refused * 100 >= total * 85, "{refused} of {total} altered lists refused");
}

fn post<'a>(id: u64, name: &str, moves: &'a str, score: u32) -> Post<'a> {
    Post { id, name: name.into(), moves, score }
}

fn played(board: &mut Leaderboard, client: u32, vector: &Vector, name: &str) -> Result<(Entry, u32), Refusal> {
    // Issue until the seed is the vector's: tests drive the seed directly.
    let issued = board.issue(client, 0).unwrap();
    board.pending.back_mut().unwrap().1.seed = vector.seed;
    board.submit(client, 0, &post(issued.id, name, &vector.moves, vector.score))
}

#[test]
fn a_posted_game_is_kept_with_its_rank_and_counted() {
    let vectors = vectors();
    let mut board = Leaderboard::new(1);
    let (entry, rank) = played(&mut board, 1, &vectors[0], "Ada").unwrap();
    assert_eq!((entry.number, entry.score, rank), (1, vectors[0].score, 1));
    assert_eq!(board.top().len(), 1);
    assert_eq!(board.counters().accepted, 1);
}

#[test]
fn forged_replayed_and_mismatched_posts_get_422_and_are_counted() {
    let vectors = vectors();
    let v = &vectors[1];
    let mut board = Leaderboard::new(2);
    let issued = board.issue(1, 0).unwrap();
    board.pending.back_mut().unwrap().1.seed = v.seed;
    assert_eq!(board.submit(1, 0, &post(issued.id, "Eve", &v.moves, v.score + 4)), Err(Refusal::Mismatch));
    // The id is used up by the failed attempt.
    assert_eq!(board.submit(1, 0, &post(issued.id, "Eve", &v.moves, v.score)), Err(Refusal::Replayed));
    let issued = board.issue(1, 0).unwrap();
    board.pending.back_mut().unwrap().1.seed = v.seed;
    assert_eq!(board.submit(1, 0, &post(issued.id, "Eve", "LLLLLLLLLLLLLLLL", 0)), Err(Refusal::Forged));
    assert_eq!(board.submit(1, 0, &post(0x1234, "Eve", &v.moves, v.score)), Err(Refusal::Replayed));
    let c = board.counters();
    assert_eq!((c.mismatched, c.replayed, c.forged, c.accepted), (1, 2, 1, 0));
    for status in [Refusal::Mismatch, Refusal::Replayed, Refusal::Forged] {
        assert_eq!(status.status(), 422);
    }
}

#[test]
fn a_game_posted_twice_is_refused_the_second_time() {
    let vectors = vectors();
    let mut board = Leaderboard::new(3);
    let issued = board.issue(1, 0).unwrap();
    board.pending.back_mut().unwrap().1.seed = vectors[2].seed;
    let body = post(issued.id, "Bob", &vectors[2].moves, vectors[2].score);
    assert!(board.submit(1, 0, &body).is_ok());
    assert_eq!(board.submit(1, 0, &body), Err(Refusal::Replayed));
}

#[test]
fn ids_differ_within_a_boot_and_across_boots() {
    let mut first = Leaderboard::new(10);
    let mut second = Leaderboard::new(11);
    let a: Vec<u64> = (0..5).map(|_| first.issue(1, 0).unwrap().id).collect();
    let b: Vec<u64> = (0..5).map(|_| second.issue(1, 0).unwrap().id).collect();
    for id in &a {
        assert_eq!(a.iter().filter(|x| *x == id).count(), 1);
        assert!(!b.contains(id));
    }
}

#[test]
fn a_client_asking_in_a_loop_only_forgets_its_own_games() {
    let mut board = Leaderboard::new(12);
    let other = board.issue(2, 0).unwrap();
    let first = board.issue(1, 0).unwrap();
    for _ in 0..PENDING_PER_CLIENT {
        board.issue(1, 0).unwrap();
    }
    assert!(board.pending.iter().all(|(_, issued)| issued.id != first.id));
    assert!(board.pending.iter().any(|(_, issued)| issued.id == other.id));
}

#[test]
fn nicknames_are_one_to_twelve_printable_characters() {
    for good in ["A", "Ada Lovelace", "Zoë", "名前", "<b>hi</b>", "🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂"] {
        assert!(valid_name(good), "{good}");
    }
    for bad in ["", "thirteen char", " Ada", "Ada ", "a\nb", "a\u{7}", "a\u{202e}b", "a\u{2028}", "\u{0}"] {
        assert!(!valid_name(bad), "{bad:?}");
    }
}

#[test]
fn a_bad_nickname_is_junk() {
    let mut board = Leaderboard::new(4);
    let issued = board.issue(1, 0).unwrap();
    assert_eq!(board.submit(1, 0, &post(issued.id, "", "L", 0)), Err(Refusal::Junk));
    assert_eq!(Refusal::Junk.status(), 400);
}

#[test]
fn posts_are_rate_limited_per_client() {
    let mut board = Leaderboard::new(5);
    for _ in 0..ratelimit::BURST {
        assert!(board.issue(9, 0).is_ok());
    }
    assert_eq!(board.issue(9, 0), Err(Refusal::RateLimited));
    assert!(board.issue(10, 0).is_ok());
    assert!(board.issue(9, ratelimit::REFILL_MS).is_ok());
    assert_eq!(board.counters().rate_limited, 1);
}

fn entry(number: u32, score: u32) -> Entry {
    Entry { number, score, max_tile: 2, moves: 1, name: alloc::format!("p{number}") }
}

#[test]
fn the_top_twenty_and_the_last_ten_are_kept() {
    let mut board = Leaderboard::new(6);
    for number in 1..=40 {
        board.restore(entry(number, (number * 37) % 101));
    }
    assert_eq!(board.top().len(), TOP);
    assert!(board.top().windows(2).all(|w| w[0].score >= w[1].score));
    let recent: Vec<u32> = board.recent().map(|e| e.number).collect();
    assert_eq!(recent, (31..=40).rev().collect::<Vec<_>>());
    assert_eq!(board.games_played(), 40);
    assert!(board.kept().len() <= journal::MAX_KEPT);
}

#[test]
fn an_equal_score_ranks_after_the_earlier_game() {
    let mut board = Leaderboard::new(7);
    board.restore(entry(1, 100));
    board.restore(entry(2, 100));
    assert_eq!(board.top()[0].number, 1);
    assert_eq!(board.rank_of(&board.top()[1].clone()), 2);
}

#[test]
fn the_booth_journals_posts_and_restores_them_after_a_reboot() {
    let vectors = vectors();
    let (booth, status) = Booth::new(8, Box::new(RamStore::new(128)));
    assert_eq!(status, Ok(OpenStatus::Blank));
    assert_eq!(booth.storage(), "ram");
    let issued = booth.issue(1, 0).unwrap();
    booth.board.borrow_mut().pending.back_mut().unwrap().1.seed = vectors[3].seed;
    let body = alloc::format!(r#"{{"id":"{:016x}","name":"Ada","moves":"{}","score":{}}}"#, issued.id, vectors[3].moves, vectors[3].score);
    let version = booth.version();
    assert!(booth.submit(1, 0, body.as_bytes()).is_ok());
    assert_ne!(booth.version(), version);
    assert_eq!(booth.submit(1, 0, b"nonsense"), Err(Refusal::Junk));
    let mut json = String::new();
    booth.write_json(&mut json, "2048.home.arpa").unwrap();
    assert!(json.starts_with("{\"version\":1,\"games\":1,\"storage\":\"ram\",\"crashes\":0,\"url\":\"http://2048.home.arpa/\",\"top\":[{\"n\":1,"), "{json}");
    assert!(json.contains("\"name\":\"Ada\"}]"), "{json}");
    let mut stats = String::new();
    booth.write_stats_json(&mut stats).unwrap();
    assert!(stats.starts_with("\"leaderboard\":{\"storage\":\"ram\",\"games\":1,"), "{stats}");
    assert!(stats.contains("\"junk\":1"), "{stats}");
}
