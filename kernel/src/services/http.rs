//! HTTP: which response a request gets, and the picoserve service that
//! writes it.
//!
//! picoserve parses requests and frames responses; this module holds the
//! policy: the embedded site with gzip negotiation, ETag/304, HEAD and
//! Cache-Control, `/stats.json`, a small HTML 404, and 405 for methods a static
//! site does not have. `route` is pure so that every rule is tested on the host.

#![deny(unsafe_code)]

use alloc::string::String;

use picoserve::io::Read;
use picoserve::request::{Path, Request};
use picoserve::response::{Content, Response, ResponseWriter, StatusCode};
use picoserve::routing::PathRouterService;
use picoserve::ResponseSent;

use super::captive::{self, PortalAnswer};
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
    /// 301 to the same path with a trailing slash.
    AddSlash,
    /// 302 to the game, for captive-portal probes and stray hosts.
    Portal(String),
    /// 404.
    NotFound,
    /// 405: the site only has GET and HEAD.
    MethodNotAllowed,
}

/// Decides the response for a request.
pub fn route(head: &RequestHead, identity: &Identity) -> Route {
    if let PortalAnswer::Redirect(url) = captive::classify(head.host, head.path, identity.canonical_name, identity.address) {
        return Route::Portal(url);
    }
    if head.method != "GET" && head.method != "HEAD" {
        return Route::MethodNotAllowed;
    }
    if head.path == "/stats.json" {
        return Route::Stats;
    }
    match site::lookup(head.path) {
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
        };
        let route = if decoded.is_none() { Route::NotFound } else { route(&head, &self.identity) };
        let connection = request.body_connection.finalize().await?;
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
            Route::MethodNotAllowed => {
                let body = Payload { bytes: b"Only GET and HEAD are served here.\n", content_type: "text/plain; charset=utf-8", send_body: true };
                let response = Response::new(StatusCode::METHOD_NOT_ALLOWED, body).with_header("Allow", "GET, HEAD");
                response_writer.write_response(connection, response).await
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
            assert_eq!(route(&RequestHead { method, ..get("/") }), Route::MethodNotAllowed);
        }
        assert_eq!(route(&RequestHead { method: "HEAD", ..get("/nope") }), Route::NotFound);
        assert_eq!(route(&get("/stats.json")), Route::Stats);
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
