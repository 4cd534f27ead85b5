//! Host tool for the appliance's HTTPS: makes the local demo CA the first
//! time (in `build/tls/`, or `$TLS_DIR`), reuses it afterwards, issues the
//! appliance certificate, and says which file to give phones and curl.
//!
//! `demo-ca [--dir FOLDER]`. Building the kernel does the same by itself;
//! this tool is for looking at the result (see `docs/tls.md`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [] => demo_ca::default_dir(&workspace()),
        [flag, dir] if flag == "--dir" => PathBuf::from(dir),
        _ => {
            eprintln!("usage: demo-ca [--dir FOLDER]   (default: build/tls/ in the workspace, or $TLS_DIR)");
            return ExitCode::from(2);
        }
    };
    match demo_ca::ensure(&dir) {
        Ok(material) => {
            for action in &material.actions {
                println!("{action}");
            }
            let days_left = (material.server_not_after - unix_now()) / 86_400;
            println!("CA certificate (give this to phones and curl):");
            println!("  {}  (PEM: iOS, curl --cacert, openssl -CAfile)", dir.join(demo_ca::CA_CERT_FILE).display());
            println!("  {}  (DER: Android's \"CA certificate\" installer)", dir.join(demo_ca::CA_DER_FILE).display());
            println!("  SHA-256 {}", material.ca_fingerprint);
            println!("appliance certificate: {} ({} bytes), valid {days_left} more days", demo_ca::SERVER_NAMES.join(", "), material.server_cert_der.len());
            println!("private keys stay in {} (never commit, never copy to a phone)", dir.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("demo-ca: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: two levels above this crate.
fn workspace() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().and_then(Path::parent).unwrap_or(manifest).to_path_buf()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
