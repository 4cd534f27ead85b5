//! The leaderboard's JSON: the posted game in, the lists and ids out.
//!
//! A post is `{"id":"<16 hex digits>","name":"…","moves":"LRUD…","score":N}`,
//! parsed by `serde-json-core` (no allocation but the nickname); one
//! character per move keeps a game of a few thousand moves under
//! `MAX_BODY`. Output is written by hand with `core::fmt`, escaping
//! nicknames for JSON; the pages escape them again for HTML (textContent).

#![deny(unsafe_code)]

use alloc::string::String;
use core::fmt::{self, Write};

use serde::Deserialize;

use super::{Entry, Issued, Leaderboard};

/// Largest body accepted (413 above): a 6000-move game and its fields.
pub const MAX_BODY: usize = 6 * 1024;

/// Bytes for unescaping a nickname written with JSON escapes.
pub const NAME_SCRATCH: usize = 64;

/// A posted game, as parsed.
#[derive(Debug, PartialEq, Eq)]
pub struct Post<'a> {
    /// The issued game's id.
    pub id: u64,
    /// The nickname, not yet checked.
    pub name: String,
    /// One character per move (`LRUD`, `Z` for undo).
    pub moves: &'a str,
    /// The score the page computed.
    pub score: u32,
}

#[derive(Deserialize)]
struct RawPost<'a> {
    id: &'a str,
    name: String,
    moves: &'a str,
    score: u32,
}

/// Parses a posted body; `Junk` for anything that is not the page's JSON.
pub fn parse_post<'a>(body: &'a [u8], scratch: &mut [u8]) -> Result<Post<'a>, super::Refusal> {
    if body.len() > MAX_BODY {
        return Err(super::Refusal::TooLarge);
    }
    let (raw, used): (RawPost<'a>, usize) = serde_json_core::from_slice_escaped(body, scratch).map_err(|_| super::Refusal::Junk)?;
    if body[used..].iter().any(|b| !b.is_ascii_whitespace()) {
        return Err(super::Refusal::Junk);
    }
    if raw.id.len() != 16 || !raw.id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(super::Refusal::Junk);
    }
    let id = u64::from_str_radix(raw.id, 16).map_err(|_| super::Refusal::Junk)?;
    Ok(Post { id, name: raw.name, moves: raw.moves, score: raw.score })
}

/// Writes a string as a JSON string literal.
pub fn write_json_string(out: &mut impl Write, text: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            // `<` too, so that a name can never close a script element.
            c if (c as u32) < 0x20 || c == '<' || c == '\u{2028}' || c == '\u{2029}' => write!(out, "\\u{:04x}", c as u32)?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

fn write_entry(out: &mut impl Write, entry: &Entry) -> fmt::Result {
    write!(out, "{{\"n\":{},\"score\":{},\"tile\":{},\"moves\":{},\"name\":", entry.number, entry.score, entry.max_tile, entry.moves)?;
    write_json_string(out, &entry.name)?;
    out.write_char('}')
}

fn write_list<'e>(out: &mut impl Write, entries: impl Iterator<Item = &'e Entry>) -> fmt::Result {
    out.write_char('[')?;
    for (index, entry) in entries.enumerate() {
        if index > 0 {
            out.write_char(',')?;
        }
        write_entry(out, entry)?;
    }
    out.write_char(']')
}

/// `POST /api/game`: the id as 16 hex digits (beyond JavaScript's exact
/// integers as a number) and the seed.
pub fn write_issued(out: &mut impl Write, issued: &Issued) -> fmt::Result {
    write!(out, "{{\"id\":\"{:016x}\",\"seed\":{}}}", issued.id, issued.seed)
}

/// `POST /api/score`, accepted: the game as kept, its rank and the top five.
pub fn write_accepted(out: &mut impl Write, entry: &Entry, rank: u32, board: &Leaderboard) -> fmt::Result {
    write!(out, "{{\"rank\":{rank},\"game\":")?;
    write_entry(out, entry)?;
    out.write_str(",\"top\":")?;
    write_list(out, board.top().iter().take(5))?;
    out.write_char('}')
}

/// A refusal's body.
pub fn write_error(out: &mut impl Write, reason: &str) -> fmt::Result {
    out.write_str("{\"error\":")?;
    write_json_string(out, reason)?;
    out.write_char('}')
}

/// `GET /api/leaderboard`: both lists and the booth's figures; `host` is
/// the name phones reach the game at.
pub fn write_leaderboard(out: &mut impl Write, board: &Leaderboard, storage: &str, crashes: u32, host: &str) -> fmt::Result {
    write!(out, "{{\"version\":{},\"games\":{},\"storage\":\"{storage}\",\"crashes\":{crashes},\"url\":", board.version(), board.games_played())?;
    write_json_string(out, &alloc::format!("http://{host}/"))?;
    out.write_str(",\"top\":")?;
    write_list(out, board.top().iter())?;
    out.write_str(",\"recent\":")?;
    write_list(out, board.recent())?;
    out.write_char('}')
}

/// The `"leaderboard":{…}` member of `/stats.json`.
pub fn write_stats(out: &mut impl Write, board: &Leaderboard, storage: &str) -> fmt::Result {
    let c = board.counters();
    write!(
        out,
        concat!(
            "\"leaderboard\":{{\"storage\":\"{}\",\"games\":{},\"issued\":{},\"accepted\":{},",
            "\"refused\":{{\"replayed\":{},\"forged\":{},\"mismatched\":{},\"junk\":{},\"too_large\":{},\"rate_limited\":{}}},",
            "\"journal_errors\":{}}}"
        ),
        storage, board.games_played(), c.issued, c.accepted, c.replayed, c.forged, c.mismatched, c.junk, c.too_large, c.rate_limited, c.journal_errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::leaderboard::Refusal;

    fn parse(body: &str) -> Result<Post<'_>, Refusal> {
        parse_post(body.as_bytes(), &mut [0; NAME_SCRATCH])
    }

    #[test]
    fn the_pages_post_parses() {
        let post = parse(r#"{"id":"00000001000a1234","name":"Ada","moves":"LRUDZ","score":12}"#).unwrap();
        assert_eq!(post, Post { id: 0x1_000a_1234, name: "Ada".into(), moves: "LRUDZ", score: 12 });
    }

    #[test]
    fn escaped_names_are_unescaped() {
        let post = parse(r#"{"id":"00000001000a1234","name":"\u00e9\"<b>","moves":"L","score":0}"#).unwrap();
        assert_eq!(post.name, "é\"<b>");
    }

    #[test]
    fn junk_is_refused() {
        for body in [
            "",
            "{}",
            "[1,2]",
            r#"{"id":"1","name":"Ada","moves":"L","score":0}"#,
            r#"{"id":"zz000001000a1234","name":"Ada","moves":"L","score":0}"#,
            r#"{"id":"00000001000a1234","name":"Ada","moves":"L","score":-1}"#,
            r#"{"id":"00000001000a1234","name":"Ada","moves":"L"}"#,
            r#"{"id":"00000001000a1234","name":"Ada","moves":"L","score":0} trailing"#,
            r#"{"id":"00000001000a1234","name":"Ada","moves":"L","score":0"#,
        ] {
            assert_eq!(parse(body), Err(Refusal::Junk), "{body}");
        }
    }

    #[test]
    fn a_long_game_fits_and_a_huge_body_does_not() {
        let moves = "LRUD".repeat(1500);
        let body = alloc::format!(r#"{{"id":"00000001000a1234","name":"Ada","moves":"{moves}","score":0}}"#);
        assert!(body.len() <= MAX_BODY);
        assert_eq!(parse(&body).unwrap().moves.len(), 6000);
        let huge = alloc::format!(r#"{{"id":"00000001000a1234","name":"Ada","moves":"{moves}{moves}","score":0}}"#);
        assert_eq!(parse(&huge), Err(Refusal::TooLarge));
    }

    #[test]
    fn names_are_escaped_in_json() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"\\<\n").unwrap();
        assert_eq!(out, r#""a\"\\\u003c\u000a""#);
    }
}
