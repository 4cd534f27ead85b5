//! The embedded site: `static/` (or `SITE_DIR`) as built into the image.
//!
//! `build.rs` generates the table; this module finds the asset for a URL
//! path, including a folder's `index.html`.

#![deny(unsafe_code)]

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// URL path, starting with `/`.
    pub path: &'static str,
    /// Content-Type from the file extension.
    pub content_type: &'static str,
    /// Strong ETag (quoted), derived from the bytes.
    pub etag: &'static str,
    /// The file as it is.
    pub body: &'static [u8],
    /// gzip-compressed copy, when that is smaller.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/site.rs"));

/// What a URL path names in the site.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A file (a folder path resolves to its `index.html`).
    Found(&'static Asset),
    /// A folder named without its trailing slash: redirect so that its
    /// relative links resolve.
    AddSlash,
    /// Nothing there.
    Missing,
}

impl PartialEq for Asset {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}
impl Eq for Asset {}

/// Finds the asset for an already percent-decoded URL path.
pub fn lookup(path: &str) -> Lookup {
    lookup_in(ASSETS, path)
}

fn lookup_in(assets: &'static [Asset], path: &str) -> Lookup {
    if path.ends_with('/') {
        return find_index(assets, path).map_or(Lookup::Missing, Lookup::Found);
    }
    if let Some(asset) = assets.iter().find(|asset| asset.path == path) {
        return Lookup::Found(asset);
    }
    if find_index(assets, path).is_some() {
        return Lookup::AddSlash;
    }
    Lookup::Missing
}

fn find_index(assets: &'static [Asset], folder: &str) -> Option<&'static Asset> {
    let folder = folder.trim_end_matches('/');
    assets.iter().find(|asset| asset.path.strip_prefix(folder).is_some_and(|rest| rest == "/index.html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_serves_index_html() {
        let Lookup::Found(asset) = lookup("/") else { panic!("no index") };
        assert_eq!(asset.path, "/index.html");
        assert_eq!(asset.content_type, "text/html; charset=utf-8");
    }

    #[test]
    fn every_asset_round_trips_through_gzip_and_has_a_quoted_etag() {
        for asset in ASSETS {
            assert!(asset.etag.starts_with('"') && asset.etag.ends_with('"'), "{}", asset.path);
            if let Some(gzip) = asset.gzip {
                assert!(gzip.len() < asset.body.len());
                assert_eq!(&gzip[..2], &[0x1f, 0x8b], "{} is not gzip", asset.path);
            }
        }
    }

    static NESTED: &[Asset] = &[
        Asset { path: "/index.html", content_type: "text/html", etag: "\"1\"", body: b"home", gzip: None },
        Asset { path: "/talks/index.html", content_type: "text/html", etag: "\"2\"", body: b"talks", gzip: None },
        Asset { path: "/talks/2026/slides.pdf", content_type: "application/pdf", etag: "\"3\"", body: b"pdf", gzip: None },
    ];

    #[test]
    fn nested_folders_serve_their_index_and_files() {
        assert!(matches!(lookup_in(NESTED, "/talks/"), Lookup::Found(a) if a.body == b"talks"));
        assert_eq!(lookup_in(NESTED, "/talks"), Lookup::AddSlash);
        assert!(matches!(lookup_in(NESTED, "/talks/2026/slides.pdf"), Lookup::Found(a) if a.content_type == "application/pdf"));
        assert_eq!(lookup_in(NESTED, "/talks/2026/"), Lookup::Missing);
        assert_eq!(lookup_in(NESTED, "/tal"), Lookup::Missing);
    }

    #[test]
    fn unknown_paths_are_missing() {
        assert_eq!(lookup("/no/such/file.html"), Lookup::Missing);
        assert_eq!(lookup("/index.html/"), Lookup::Missing);
    }
}
