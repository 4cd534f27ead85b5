//! Embeds the site folder into the kernel at build time.
//!
//! Every file under `SITE_DIR` (default: the workspace's `static/`) becomes an
//! entry of `ASSETS` with its raw bytes, a zopfli gzip copy when that is
//! smaller, its Content-Type from the extension, and an ETag from its bytes.
//! Phones then get pre-compressed bytes with no work done at request time.
//! A site with `booth.html` also gets `/wifi-qr.svg`, the "scan to join"
//! code of the booth's Wi-Fi (`BOOTH_SSID`, `BOOTH_WIFI_KEY`), drawn here
//! with the `qrcode` crate so that the image carries no QR encoder.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

// TLS key material (see the end of this file and tools/demo-ca).
#[allow(dead_code)]
#[path = "../tools/demo-ca/src/ca.rs"]
mod demo_ca;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest.parent().expect("kernel/ sits in the workspace").to_path_buf();
    println!("cargo:rerun-if-env-changed=SITE_DIR");
    let site = match env::var("SITE_DIR") {
        Ok(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Ok(dir) => workspace.join(dir),
        Err(_) => workspace.join("static"),
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut files = Vec::new();
    collect(&site, &site, &mut files);
    if !files.iter().any(|(url, _)| url == "/index.html") {
        panic!("site folder {} has no index.html", site.display());
    }
    if files.iter().any(|(url, _)| url == "/booth.html") {
        // Rewritten only when it differs: it is listed below among the files
        // that rerun this script, so a fresh mtime would rerun it (and relink
        // every board) on every build.
        let svg = out.join("wifi-qr.svg");
        let qr = wifi_qr_svg();
        if fs::read(&svg).ok().as_deref() != Some(qr.as_bytes()) {
            fs::write(&svg, qr).expect("writing OUT_DIR");
        }
        files.push(("/wifi-qr.svg".into(), svg));
    }
    files.sort();

    let mut table = String::from("/// The site, as embedded at build time.\npub static ASSETS: &[Asset] = &[\n");
    for (index, (url, path)) in files.iter().enumerate() {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut gzipped = Vec::new();
        zopfli::compress(zopfli::Options::default(), zopfli::Format::Gzip, &bytes[..], &mut gzipped)
            .expect("compressing into memory cannot fail");
        let gzip = if gzipped.len() + 32 < bytes.len() {
            let gz_path = out.join(format!("asset-{index}.gz"));
            fs::write(&gz_path, &gzipped).expect("writing OUT_DIR");
            format!("Some(include_bytes!({:?}))", gz_path.display().to_string())
        } else {
            "None".to_string()
        };
        writeln!(
            table,
            "    Asset {{ path: {url:?}, content_type: {:?}, etag: \"\\\"{:016x}\\\"\", body: include_bytes!({:?}), gzip: {gzip} }},",
            content_type(path),
            fnv1a(&bytes),
            path.display().to_string(),
        )
        .expect("writing to a String");
        println!("cargo:rerun-if-changed={}", path.display());
    }
    table.push_str("];\n");
    fs::write(out.join("site.rs"), table).expect("writing OUT_DIR");

    embed_tls_material(&workspace, &out);
    embed_rt2870_firmware(&workspace, &out);
}

/// The RT2870/RT5370 USB Wi-Fi firmware (kernel/src/rt2800/firmware.rs):
/// embedded when `RT2870_FIRMWARE` names the file (tools/build.sh sets it
/// for boards with USB, from tools/firmware.sh), absent otherwise, so host
/// tests and boards without USB never need it. Its size and CRCs are
/// checked when the driver loads it.
fn embed_rt2870_firmware(workspace: &Path, out: &Path) {
    println!("cargo:rerun-if-env-changed=RT2870_FIRMWARE");
    let code = match env::var("RT2870_FIRMWARE") {
        Ok(file) if !file.is_empty() => {
            let path = if Path::new(&file).is_absolute() { PathBuf::from(&file) } else { workspace.join(&file) };
            if !path.is_file() {
                panic!("RT2870_FIRMWARE={} is not a file (tools/firmware.sh fetches it)", path.display());
            }
            println!("cargo:rerun-if-changed={}", path.display());
            format!("Some(include_bytes!({:?}))", path.display().to_string())
        }
        _ => "None".to_string(),
    };
    let generated = out.join("rt2870_firmware.rs");
    if fs::read_to_string(&generated).ok().as_deref() != Some(code.as_str()) {
        fs::write(&generated, code).expect("writing OUT_DIR");
    }
}

/// Walks `dir`, recording (URL path, file path) for every visible file.
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("site folder {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("reading the site folder").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("inside the root");
            let url: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect();
            files.push((format!("/{}", url.join("/")), path));
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The network phones join, as the booth's access point is set up
/// (docs/booth.md); an open network unless `BOOTH_WIFI_KEY` is set.
const DEFAULT_SSID: &str = "Play 2048 (no internet)";

/// The booth's Wi-Fi as a QR code in SVG: one path of dark runs, one unit
/// per module, a 4-module quiet zone, the network's name below. The
/// payload is the `WIFI:` format phone cameras read (as tools/wifi-qr
/// writes it).
fn wifi_qr_svg() -> String {
    println!("cargo:rerun-if-env-changed=BOOTH_SSID");
    println!("cargo:rerun-if-env-changed=BOOTH_WIFI_KEY");
    let ssid = env::var("BOOTH_SSID").unwrap_or_else(|_| DEFAULT_SSID.into());
    let escape = |value: &str| value.chars().fold(String::new(), |mut out, c| {
        if matches!(c, '\\' | ';' | ',' | ':' | '"') {
            out.push('\\');
        }
        out.push(c);
        out
    });
    let payload = match env::var("BOOTH_WIFI_KEY") {
        Ok(key) if !key.is_empty() => format!("WIFI:T:WPA;S:{};P:{};;", escape(&ssid), escape(&key)),
        _ => format!("WIFI:T:nopass;S:{};;", escape(&ssid)),
    };
    let code = qrcode::QrCode::new(payload.as_bytes()).unwrap_or_else(|e| panic!("BOOTH_SSID {ssid:?}: {e}"));
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::new();
    for y in 0..width {
        let mut x = 0;
        while x < width {
            if colors[y * width + x] == qrcode::Color::Dark {
                let start = x;
                while x < width && colors[y * width + x] == qrcode::Color::Dark {
                    x += 1;
                }
                write!(path, "M{} {}h{}v1H{}z", start + 4, y + 4, x - start, start + 4).expect("writing to a String");
            } else {
                x += 1;
            }
        }
    }
    // The network's name under the code, for phones that cannot scan.
    let side = width + 8;
    let name = ssid.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    // A sans-serif letter is about 0.6 em wide: the name fits the width.
    let font = (side as f32 / (0.6 * ssid.chars().count().max(1) as f32)).clamp(1.5, 5.0);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {height:.1}\"><rect width=\"{side}\" height=\"{height:.1}\" fill=\"#fff\"/><path shape-rendering=\"crispEdges\" d=\"{path}\"/><text x=\"{middle}\" y=\"{baseline:.1}\" font-family=\"sans-serif\" font-size=\"{font:.1}\" text-anchor=\"middle\">{name}</text></svg>\n",
        height = side as f32 + font * 1.2,
        middle = side as f32 / 2.0,
        baseline = side as f32 + font * 0.4,
    )
}

/// 64-bit FNV-1a: a stable fingerprint for the ETag, not a security hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

// ---------------------------------------------------------------------------
// TLS key material for `services::tls`.
//
// The local demo CA lives in the user's build directory (`build/tls/`, or
// `$TLS_DIR`), never in the repository. The first build creates it, later
// builds reuse it; the appliance certificate is (re-)issued from it when
// missing, renamed, near expiry or from another CA. `tools/demo-ca` runs the
// same code (`ca.rs`) by hand. The certificate, the key and the CA go into
// OUT_DIR as DER and are embedded with `include_bytes!`.

fn embed_tls_material(workspace: &Path, out: &Path) {
    println!("cargo:rerun-if-env-changed=TLS_DIR");
    println!("cargo:rerun-if-changed=../tools/demo-ca/src/ca.rs");
    let dir = demo_ca::default_dir(workspace);
    let material = demo_ca::ensure(&dir).unwrap_or_else(|e| {
        panic!("TLS key material in {}: {e}\n(delete that folder to start over with a new demo CA)", dir.display())
    });
    for action in &material.actions {
        println!("cargo:warning=TLS: {action}");
    }
    for file in [demo_ca::CA_CERT_FILE, demo_ca::CA_KEY_FILE, demo_ca::SERVER_FILE] {
        println!("cargo:rerun-if-changed={}", dir.join(file).display());
    }
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        fs::write(&path, bytes).expect("writing OUT_DIR");
        path.display().to_string()
    };
    let ca = write("tls-ca.der", &material.ca_cert_der);
    let cert = write("tls-server.der", &material.server_cert_der);
    let key = write("tls-server-key.der", &material.server_key_der);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(out.join("tls-server-key.der"), fs::Permissions::from_mode(0o600));
    }
    let built = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let source = format!(
        "/// The demo CA certificate (DER).\n\
         pub static CA_CERT_DER: &[u8] = include_bytes!({ca:?});\n\
         /// The appliance certificate (DER).\n\
         pub static SERVER_CERT_DER: &[u8] = include_bytes!({cert:?});\n\
         /// The appliance private key (PKCS#8 DER).\n\
         pub static SERVER_KEY_DER: &[u8] = include_bytes!({key:?});\n\
         /// SHA-256 of the CA certificate.\n\
         pub const CA_FINGERPRINT: &str = {fingerprint:?};\n\
         /// When this was generated (seconds since 1970).\n\
         pub const BUILD_EPOCH_SECS: u64 = {built};\n",
        fingerprint = material.ca_fingerprint,
    );
    fs::write(out.join("tls_material.rs"), source).expect("writing OUT_DIR");
}
