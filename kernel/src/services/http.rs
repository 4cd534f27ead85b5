//! HTTP: which response a request gets, and the picoserve service that
//! writes it.
//!
//! picoserve parses requests and frames responses; this module holds the
//! policy: the embedded site with gzip negotiation, ETag/304, HEAD and
//! Cache-Control, `/stats.json`, the leaderboard's JSON API (`/api/…`, with
//! long polling for live pages) and `/booth`, a small HTML 404, and 405 for
//! methods a path does not have. `route` is pure so that every rule is
//! tested on the host.

#![deny(unsafe_code)]

use alloc::string::String;

use picoserve::io::Read;
use picoserve::request::{Path, Request};
use picoserve::response::{Content, Response, ResponseWriter, StatusCode};
use picoserve::routing::PathRouterService;
use picoserve::ResponseSent;

use super::captive::{self, PortalAnswer};
use super::leaderboard::{task, wire, Booth, Refusal};
use super::site::{self, Asset, Lookup};
use super::stats::{self, Sources};

/// The request facts that decide the response.
#[derive(Debug, Default)]
pub struct RequestHead<'a> {
    /// Request method, as sent.
    pub method: &'a str,
    /// Percent-decoded path, without the query.
    pub path: &'a str,
    /// `Accept-Encoding`, if sent.
    pub accept_encoding: Option<&'a str>,
    /// `If-None-Match`, if sent.
    pub if_none_match: Option<&'a str>,
    /// `Host`, if sent.
    pub host: Option<&'a str>,
    /// The query, as sent (without `?`).
    pub query: Option<&'a str>,
}

/// Who the appliance is on its network, for the captive portal.
#[derive(Debug, Clone)]
pub struct Identity<'a> {
    /// The canonical DNS name every stray request is sent to.
    pub canonical_name: &'a str,
    /// The appliance's address.
    pub address: core::net::Ipv4Addr,
}

/// The response a request gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// A file of the site.
    Asset {
        /// The file.
        asset: &'static Asset,
        /// Send the gzip copy.
        gzip: bool,
        /// The client's copy is current: 304.
        not_modified: bool,
    },
    /// The live figures.
    Stats,
    /// The leaderboard's JSON API.
    Api(Api),
    /// 301 to the same path with a trailing slash.
    AddSlash,
    /// 302 to the game, for captive-portal probes and stray hosts.
    Portal(String),
    /// 404.
    NotFound,
    /// 405: the site only has GET and HEAD, the API's posts only POST.
    MethodNotAllowed {
        /// The methods the path has.
        allow: &'static str,
    },
}

/// The leaderboard's endpoints.
#[derive(Debug, PartialEq, Eq)]
pub enum Api {
    /// `POST /api/game`: a ranked game's id and seed.
    IssueGame,
    /// `POST /api/score`: a played game, to replay and keep.
    PostScore,
    /// `GET /api/leaderboard[?after=VERSION]`: the lists and the booth's
    /// figures; with `after`, once they differ from that version (long
    /// polling: live pages hear of a new score at once).
    Leaderboard {
        /// The version the page already shows.
        after: Option<u32>,
    },
}

/// Longest wait of a long poll: a live page never holds a slot for good,
/// and asks again when the answer comes.
pub const LONG_POLL_MS: u64 = 25_000;

/// The version in `after=N`, if the query has one.
fn after_version(query: Option<&str>) -> Option<u32> {
    query?.split('&').find_map(|pair| pair.strip_prefix("after=")).and_then(|value| value.parse().ok())
}

/// Decides the response for a request.
pub fn route(head: &RequestHead, identity: &Identity) -> Route {
    if let PortalAnswer::Redirect(url) = captive::classify(head.host, head.path, identity.canonical_name, identity.address) {
        return Route::Portal(url);
    }
    let posting = match head.path {
        "/api/game" => Some(Api::IssueGame),
        "/api/score" => Some(Api::PostScore),
        _ => None,
    };
    if let Some(api) = posting {
        return if head.method == "POST" { Route::Api(api) } else { Route::MethodNotAllowed { allow: "POST" } };
    }
    if head.method != "GET" && head.method != "HEAD" {
        return Route::MethodNotAllowed { allow: "GET, HEAD" };
    }
    let path = match head.path {
        "/stats.json" => return Route::Stats,
        "/api/leaderboard" => return Route::Api(Api::Leaderboard { after: after_version(head.query) }),
        "/booth" => "/booth.html",
        path => path,
    };
    match site::lookup(path) {
        Lookup::Found(asset) => Route::Asset {
            asset,
            gzip: asset.gzip.is_some() && accepts_gzip(head.accept_encoding),
            not_modified: head.if_none_match.is_some_and(|tags| etag_matches(tags, asset.etag)),
        },
        Lookup::AddSlash => Route::AddSlash,
        Lookup::Missing => Route::NotFound,
    }
}

/// True when `Accept-Encoding` allows gzip (RFC 9110 §12.5.3: a coding
/// with q=0 is refused; `*` stands for any coding not named).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else { return false };
    let mut wildcard = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let refused = parts.any(|param| {
            let param = param.trim();
            let quality = param.strip_prefix("q=").or_else(|| param.strip_prefix("Q="));
            quality.is_some_and(|q| qvalue_is_zero(q.trim()))
        });
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return !refused;
        }
        if coding == "*" {
            wildcard = Some(!refused);
        }
    }
    wildcard.unwrap_or(false)
}

/// True when a qvalue (RFC 9110 §12.4.2: `0` or `1`, up to three decimals)
/// is zero. Compared as text: a float parser would add about 13 KiB of
/// code and tables to the image for this one comparison.
fn qvalue_is_zero(qvalue: &str) -> bool {
    let (whole, fraction) = qvalue.split_once('.').unwrap_or((qvalue, ""));
    whole == "0" && fraction.bytes().all(|digit| digit == b'0')
}

/// True when an `If-None-Match` list names `etag` (weak comparison, `*` matches).
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Decodes `%XX` escapes; `None` for malformed escapes or non-UTF-8 results.
pub fn percent_decode(encoded: &str) -> Option<String> {
    let bytes = encoded.as_bytes();
    let mut decoded = alloc::vec::Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            decoded.push(u8::from_str_radix(core::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

const NOT_FOUND_PAGE: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Not found</title><body style=\"font-family:system-ui,sans-serif;text-align:center;padding:2em\"><h1>Not found</h1><p>Nothing lives at this address. <a href=\"/\">Play 2048</a>.</p></body></html>\n";

/// Bytes with a Content-Type; for HEAD, the length is announced but no body is sent.
struct Payload<'b> {
    bytes: &'b [u8],
    content_type: &'static str,
    send_body: bool,
}

impl Content for Payload<'_> {
    fn content_type(&self) -> &'static str {
        self.content_type
    }

    fn content_length(&self) -> usize {
        self.bytes.len()
    }

    async fn write_content<W: picoserve::io::Write>(self, mut writer: W) -> Result<(), W::Error> {
        if self.send_body {
            writer.write_all(self.bytes).await?;
        }
        Ok(())
    }
}

/// The appliance's HTTP service: every path goes through `route`.
pub struct HttpService<'p> {
    /// Where every figure of `/stats.json` lives (requests are counted in `stats.http`).
    pub stats: Sources<'p>,
    /// Name and address, for the captive portal.
    pub identity: Identity<'p>,
    /// The leaderboard.
    pub booth: &'p Booth,
}

/// A JSON body with its status, never cached.
fn json_response(status: u16, json: &str, send_body: bool) -> Response<impl picoserve::response::HeadersIter + use<'_>, impl picoserve::response::Body + '_> {
    let body = Payload { bytes: json.as_bytes(), content_type: "application/json", send_body };
    Response::new(StatusCode::new(status), body).with_header("Cache-Control", "no-store")
}

/// Reads a posted body of at most `wire::MAX_BODY` bytes; `Err(Ok(refusal))`
/// for a body refused before or while it is read.
async fn read_body<R: Read>(connection: &mut picoserve::request::RequestBodyConnection<'_, R>) -> Result<alloc::vec::Vec<u8>, Result<Refusal, R::Error>> {
    let length = connection.content_length();
    if length > wire::MAX_BODY {
        return Err(Ok(Refusal::TooLarge));
    }
    let mut body = alloc::vec![0; length];
    match connection.body().reader().read_exact(&mut body).await {
        Ok(()) => Ok(body),
        Err(picoserve::io::ReadExactError::UnexpectedEof) => Err(Ok(Refusal::Junk)),
        Err(picoserve::io::ReadExactError::Other(error)) => Err(Err(error)),
    }
}

impl HttpService<'_> {
    /// The status and JSON of an API request. Not generic over the
    /// connection, so that its code is in the image once, not once per
    /// kind of connection (HTTP, HTTPS, the TLS self-test).
    fn answer(&self, api: &Api, body: Option<Result<alloc::vec::Vec<u8>, Refusal>>) -> (u16, String) {
        let mut json = String::new();
        let now = self.stats.platform.uptime_ms();
        let client = task::current_client();
        let refused = |json: &mut String, refusal: Refusal| {
            // Writing into a String cannot fail.
            let _ = wire::write_error(json, refusal.reason());
            refusal.status()
        };
        let status = match (api, body) {
            (_, Some(Err(refusal))) => {
                self.booth.count(refusal);
                refused(&mut json, refusal)
            }
            (Api::IssueGame, _) => match self.booth.issue(client, now) {
                Ok(issued) => {
                    let _ = wire::write_issued(&mut json, &issued);
                    200
                }
                Err(refusal) => refused(&mut json, refusal),
            },
            (Api::PostScore, Some(Ok(body))) => match self.booth.submit(client, now, &body) {
                Ok((entry, rank)) => {
                    let _ = self.booth.write_accepted(&mut json, &entry, rank);
                    200
                }
                Err(refusal) => refused(&mut json, refusal),
            },
            _ => {
                let _ = self.booth.write_json(&mut json, self.identity.canonical_name);
                200
            }
        };
        (status, json)
    }

    /// A long poll: returns once the lists differ from `version`, or after
    /// `LONG_POLL_MS`.
    async fn changed_since(&self, version: u32) {
        let now = || self.stats.platform.uptime_ms();
        task::first(self.booth.changed(version), task::sleep_until(now() + LONG_POLL_MS, now)).await;
    }
}

impl PathRouterService for HttpService<'_> {
    async fn call_path_router_service<R: Read, W: ResponseWriter<Error = R::Error>>(
        &self,
        _state: &(),
        _path_parameters: (),
        path: Path<'_>,
        request: Request<'_, R>,
        response_writer: W,
    ) -> Result<ResponseSent, W::Error> {
        self.stats.http.requests.increment();
        let parts = &request.parts;
        let method = parts.method();
        let send_body = method != "HEAD";
        let header = |name| parts.headers().get(name).and_then(|value| value.as_str().ok());
        let decoded = percent_decode(path.encoded());
        let head = RequestHead {
            method,
            path: decoded.as_deref().unwrap_or(""),
            accept_encoding: header("accept-encoding"),
            if_none_match: header("if-none-match"),
            host: header("host"),
            query: parts.query().map(|query| query.0),
        };
        let route = if decoded.is_none() { Route::NotFound } else { route(&head, &self.identity) };
        let mut body_connection = request.body_connection;
        let body = match route {
            Route::Api(Api::IssueGame | Api::PostScore) => Some(read_body(&mut body_connection).await),
            _ => None,
        };
        let connection = body_connection.finalize().await?;
        match route {
            Route::Asset { asset, gzip, not_modified } => {
                let cache_control = if asset.content_type.starts_with("text/html") { "no-cache" } else { "max-age=3600" };
                let common = [("ETag", asset.etag), ("Cache-Control", cache_control), ("Vary", "Accept-Encoding")];
                if not_modified {
                    let response = Response::empty(StatusCode::NOT_MODIFIED).with_headers(common);
                    return response_writer.write_response(connection, response).await;
                }
                let (bytes, encoding) = match (gzip, asset.gzip) {
                    (true, Some(compressed)) => (compressed, Some(("Content-Encoding", "gzip"))),
                    _ => (asset.body, None),
                };
                let body = Payload { bytes, content_type: asset.content_type, send_body };
                let response = Response::ok(body).with_headers(common).with_headers(encoding);
                response_writer.write_response(connection, response).await
            }
            Route::Stats => {
                let mut json = String::new();
                // Writing into a String cannot fail.
                let _ = stats::write_json(&mut json, &self.stats);
                let body = Payload { bytes: json.as_bytes(), content_type: "application/json", send_body };
                let response = Response::ok(body).with_header("Cache-Control", "no-store");
                response_writer.write_response(connection, response).await
            }
            Route::AddSlash => {
                let mut location = String::from(head.path);
                location.push('/');
                let body = Payload { bytes: b"", content_type: "text/plain; charset=utf-8", send_body };
                let response = Response::new(StatusCode::MOVED_PERMANENTLY, body).with_header("Location", location);
                response_writer.write_response(connection, response).await
            }
            Route::Portal(location) => {
                let body = Payload { bytes: b"", content_type: "text/plain; charset=utf-8", send_body };
                let response = Response::new(StatusCode::FOUND, body)
                    .with_header("Location", location)
                    .with_header("Cache-Control", "no-store");
                response_writer.write_response(connection, response).await
            }
            Route::NotFound => {
                let body = Payload { bytes: NOT_FOUND_PAGE.as_bytes(), content_type: "text/html; charset=utf-8", send_body };
                response_writer.write_response(connection, Response::new(StatusCode::NOT_FOUND, body)).await
            }
            Route::MethodNotAllowed { allow } => {
                let body = Payload { bytes: b"This method is not served here.\n", content_type: "text/plain; charset=utf-8", send_body: true };
                let response = Response::new(StatusCode::METHOD_NOT_ALLOWED, body).with_header("Allow", allow);
                response_writer.write_response(connection, response).await
            }
            Route::Api(api) => {
                let body = match body {
                    Some(Err(Err(error))) => return Err(error),
                    Some(Err(Ok(refusal))) => Some(Err(refusal)),
                    Some(Ok(bytes)) => Some(Ok(bytes)),
                    None => None,
                };
                if let Api::Leaderboard { after: Some(version) } = api {
                    self.changed_since(version).await;
                }
                let (status, json) = self.answer(&api, body);
                response_writer.write_response(connection, json_response(status, &json, send_body)).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const US: Identity = Identity { canonical_name: "2048.home.arpa", address: core::net::Ipv4Addr::new(10, 42, 0, 1) };

    fn get(path: &str) -> RequestHead<'_> {
        RequestHead { method: "GET", path, host: Some("2048.home.arpa"), ..RequestHead::default() }
    }

    fn route(head: &RequestHead) -> Route {
        super::route(head, &US)
    }

    #[test]
    fn probes_and_stray_hosts_go_to_the_game() {
        let probe = RequestHead { host: Some("connectivitycheck.gstatic.com"), ..get("/generate_204") };
        assert_eq!(route(&probe), Route::Portal("http://2048.home.arpa/".into()));
        let stray = RequestHead { method: "POST", host: Some("example.com"), ..get("/anything") };
        assert_eq!(route(&stray), Route::Portal("http://2048.home.arpa/".into()));
        let by_address = RequestHead { host: Some("10.42.0.1"), ..get("/") };
        assert!(matches!(route(&by_address), Route::Asset { .. }));
    }

    #[test]
    fn gzip_only_when_accept_encoding_allows_it() {
        assert!(!accepts_gzip(None));
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip;q=1.0, br")));
        assert!(accepts_gzip(Some("GZIP")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("gzip; q=0.000")));
        assert!(accepts_gzip(Some("gzip;q=0.5")));
        assert!(!accepts_gzip(Some("br, deflate")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("*, gzip;q=0")));
        assert!(!accepts_gzip(Some("gzip;q=0.")));
        assert!(accepts_gzip(Some("gzip;q=0.001")));
        assert!(accepts_gzip(Some("gzip;q=1")));
        assert!(accepts_gzip(Some("gzip;q=junk")));
    }

    #[test]
    fn etag_lists_and_weak_tags_match() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }

    #[test]
    fn root_is_the_game_compressed_when_asked() {
        let head = RequestHead { accept_encoding: Some("gzip, br"), ..get("/") };
        let Route::Asset { asset, gzip, not_modified } = route(&head) else { panic!() };
        assert_eq!(asset.path, "/index.html");
        assert_eq!(gzip, asset.gzip.is_some());
        assert!(!not_modified);
        let Route::Asset { gzip, .. } = route(&get("/")) else { panic!() };
        assert!(!gzip);
    }

    #[test]
    fn current_etag_gives_not_modified() {
        let Route::Asset { asset, .. } = route(&get("/index.html")) else { panic!() };
        let head = RequestHead { if_none_match: Some(asset.etag), ..get("/index.html") };
        assert!(matches!(route(&head), Route::Asset { not_modified: true, .. }));
    }

    #[test]
    fn unknown_methods_and_paths() {
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "BREW"] {
            assert_eq!(route(&RequestHead { method, ..get("/") }), Route::MethodNotAllowed { allow: "GET, HEAD" });
        }
        assert_eq!(route(&RequestHead { method: "HEAD", ..get("/nope") }), Route::NotFound);
        assert_eq!(route(&get("/stats.json")), Route::Stats);
    }

    #[test]
    fn the_leaderboard_api_has_its_methods() {
        let post = |path| RequestHead { method: "POST", ..get(path) };
        assert_eq!(route(&post("/api/game")), Route::Api(Api::IssueGame));
        assert_eq!(route(&post("/api/score")), Route::Api(Api::PostScore));
        assert_eq!(route(&get("/api/score")), Route::MethodNotAllowed { allow: "POST" });
        assert_eq!(route(&get("/api/leaderboard")), Route::Api(Api::Leaderboard { after: None }));
        let long_poll = RequestHead { query: Some("after=41"), ..get("/api/leaderboard") };
        assert_eq!(route(&long_poll), Route::Api(Api::Leaderboard { after: Some(41) }));
        let junk_query = RequestHead { query: Some("after=x&y"), ..get("/api/leaderboard") };
        assert_eq!(route(&junk_query), Route::Api(Api::Leaderboard { after: None }));
        assert_eq!(route(&post("/api/leaderboard")), Route::MethodNotAllowed { allow: "GET, HEAD" });
        assert!(matches!(route(&get("/booth")), Route::Asset { asset, .. } if asset.path == "/booth.html"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/%zz"), None);
        assert_eq!(percent_decode("/%2"), None);
        assert_eq!(percent_decode("/%+f"), None);
        assert_eq!(percent_decode("/%ff"), None);
    }
}
