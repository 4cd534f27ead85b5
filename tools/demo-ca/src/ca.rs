//! The local demo CA and the appliance certificate it issues.
//!
//! The first build on a machine makes a CA (ECDSA P-256) in the user's build
//! directory (`build/tls/`, never in the repository) and keeps it; every build
//! reuses it, so a phone that trusted it once keeps trusting new images. The
//! appliance certificate is issued from it for the names in `SERVER_NAMES`
//! and re-issued when the names change, when it nears expiry or when the CA
//! changes. Certificates are built with `rcgen`.
//!
//! This file is shared: `tools/demo-ca` uses it as its library, and the
//! kernel's `build.rs` includes it with `#[path]` so that a plain `cargo
//! build` or `cargo test` creates the same files.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, PKCS_ECDSA_P256_SHA256,
};

/// What the appliance certificate is valid for: its canonical name, its
/// address on its own network, and the loopback names used by the QEMU
/// port forwards and the boot self-test.
pub const SERVER_NAMES: [&str; 4] = ["2048.home.arpa", "10.42.0.1", "127.0.0.1", "localhost"];

/// CA certificate, PEM (what curl's `--cacert` and phones take).
pub const CA_CERT_FILE: &str = "ca.pem";
/// CA certificate, DER (the `.crt` Android's installer expects).
pub const CA_DER_FILE: &str = "ca.crt";
/// CA private key, PKCS#8 PEM, mode 0600. Never embedded, never served.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Appliance key and certificate in one file (so the pair changes
/// atomically), with a header recording what it was issued for.
pub const SERVER_FILE: &str = "server.pem";

/// Days the appliance certificate is valid. Apple accepts at most 825 for
/// any TLS server certificate and 398 for public CAs; stay under both.
const SERVER_VALID_DAYS: i64 = 397;
/// Re-issue the appliance certificate when fewer days than this remain.
const SERVER_RENEW_DAYS: i64 = 60;
/// Days the CA is valid.
const CA_VALID_DAYS: i64 = 3650;

/// The appliance's key and certificates, ready to embed.
pub struct Material {
    /// The CA certificate (DER): the self-test's trust anchor.
    pub ca_cert_der: Vec<u8>,
    /// The appliance certificate (DER), issued by the CA.
    pub server_cert_der: Vec<u8>,
    /// The appliance private key, PKCS#8 DER.
    pub server_key_der: Vec<u8>,
    /// When the appliance certificate expires (seconds since 1970).
    pub server_not_after: i64,
    /// SHA-256 fingerprint of the CA certificate, `AB:CD:...`.
    pub ca_fingerprint: String,
    /// What `ensure` had to do, for the caller to report.
    pub actions: Vec<String>,
}

/// Makes sure `dir` holds a CA and a current appliance certificate, creating
/// or re-issuing what is missing, and returns them.
pub fn ensure(dir: &Path) -> Result<Material, String> {
    let mut actions = Vec::new();
    let now = unix_now();
    if !dir.join(CA_KEY_FILE).exists() {
        create_ca(dir, now)?;
        actions.push(format!("created a new demo CA in {}", dir.display()));
    }
    let ca_key_pem = read_text(&dir.join(CA_KEY_FILE))?;
    let ca_cert_pem = read_text(&dir.join(CA_CERT_FILE))?;
    let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(|e| format!("{}: {e}", dir.join(CA_KEY_FILE).display()))?;
    let ca_cert_der = pem_block(&ca_cert_pem, "CERTIFICATE").ok_or_else(|| format!("{}: no certificate", dir.join(CA_CERT_FILE).display()))?;
    let ca_fingerprint = fingerprint(&ca_cert_der);
    if !dir.join(CA_DER_FILE).exists() {
        write_atomic(&dir.join(CA_DER_FILE), &ca_cert_der, false)?;
    }

    let server_path = dir.join(SERVER_FILE);
    let wanted_names = SERVER_NAMES.join(",");
    let current = fs::read_to_string(&server_path).ok().and_then(|text| ServerFile::parse(&text));
    let reason = match &current {
        None => Some("no appliance certificate yet"),
        Some(file) if file.names != wanted_names => Some("the certificate's names changed"),
        Some(file) if file.ca_fingerprint != ca_fingerprint => Some("the CA changed"),
        Some(file) if file.not_after - now < SERVER_RENEW_DAYS * 86_400 => Some("the certificate is close to expiry"),
        Some(_) => None,
    };
    let file = match (reason, current) {
        (None, Some(file)) => file,
        (reason, _) => {
            let file = issue_server(&ca_key, &ca_fingerprint, now)?;
            write_atomic(&server_path, file.to_text().as_bytes(), true)?;
            actions.push(format!("issued the appliance certificate for {wanted_names} ({})", reason.unwrap_or("renewal")));
            file
        }
    };
    Ok(Material {
        ca_cert_der,
        server_cert_der: file.cert_der,
        server_key_der: file.key_der,
        server_not_after: file.not_after,
        ca_fingerprint,
        actions,
    })
}

/// The workspace's `build/tls/` (or `$TLS_DIR`), for the tool and `build.rs`.
pub fn default_dir(workspace: &Path) -> PathBuf {
    match std::env::var_os("TLS_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("build").join("tls"),
    }
}

/// The CA's name and constraints, rebuilt identically each time so that the
/// issuer name and key identifier of new certificates match the stored CA.
fn ca_params(ca_key: &KeyPair, now: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    // A short tag from the CA key tells two developers' CAs apart on a phone.
    let tag: String = fingerprint(ca_key.public_key_raw()).replace(':', "")[..6].to_string();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, format!("2048 appliance demo CA {tag}"));
    name.push(DnType::OrganizationName, "2048 appliance (local demo, not a public CA)");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    // Whoever trusts this CA trusts it only for the appliance's own names:
    // a leaked CA key cannot impersonate any public site.
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("home.arpa".into()),
            GeneralSubtree::DnsName("localhost".into()),
            GeneralSubtree::IpAddress(CidrSubnet::V4([10, 42, 0, 0], [255, 255, 0, 0])),
            GeneralSubtree::IpAddress(CidrSubnet::V4([127, 0, 0, 0], [255, 0, 0, 0])),
        ],
        excluded_subtrees: Vec::new(),
    });
    let ((y0, m0, d0), (y1, m1, d1)) = (day_of(now - 86_400), day_of(now + CA_VALID_DAYS * 86_400));
    params.not_before = rcgen::date_time_ymd(y0, m0, d0);
    params.not_after = rcgen::date_time_ymd(y1, m1, d1);
    params
}

fn create_ca(dir: &Path, now: i64) -> Result<(), String> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| format!("generating the CA key: {e}"))?;
    let params = ca_params(&key, now);
    let cert = params.self_signed(&key).map_err(|e| format!("signing the CA certificate: {e}"))?;
    // Build the CA in a private folder and rename it into place, so two
    // builds racing on a fresh clone cannot end up with mismatched halves.
    let parent = dir.parent().ok_or("TLS folder has no parent")?;
    fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let staging = parent.join(format!(".tls-new-{}", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| format!("{}: {e}", staging.display()))?;
    write_atomic(&staging.join(CA_KEY_FILE), key.serialize_pem().as_bytes(), true)?;
    write_atomic(&staging.join(CA_CERT_FILE), cert.pem().as_bytes(), false)?;
    write_atomic(&staging.join(CA_DER_FILE), cert.der(), false)?;
    if dir.exists() {
        // A folder without a CA key (e.g. only an old server.pem): keep nothing from it.
        let _ = fs::remove_dir_all(dir);
    }
    match fs::rename(&staging, dir) {
        Ok(()) => Ok(()),
        // Another build won the race: use its CA.
        Err(_) if dir.join(CA_KEY_FILE).exists() => {
            let _ = fs::remove_dir_all(&staging);
            Ok(())
        }
        Err(e) => Err(format!("moving the new CA to {}: {e}", dir.display())),
    }
}

fn issue_server(ca_key: &KeyPair, ca_fingerprint: &str, now: i64) -> Result<ServerFile, String> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| format!("generating the appliance key: {e}"))?;
    let names: Vec<String> = SERVER_NAMES.iter().map(|name| name.to_string()).collect();
    let mut params = CertificateParams::new(names).map_err(|e| format!("appliance names: {e}"))?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, SERVER_NAMES[0]);
    name.push(DnType::OrganizationName, "2048 appliance");
    params.distinguished_name = name;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let not_after = now + SERVER_VALID_DAYS * 86_400;
    let ((y0, m0, d0), (y1, m1, d1)) = (day_of(now - 86_400), day_of(not_after));
    params.not_before = rcgen::date_time_ymd(y0, m0, d0);
    params.not_after = rcgen::date_time_ymd(y1, m1, d1);
    let issuer = Issuer::new(ca_params(ca_key, now), ca_key);
    let cert = params.signed_by(&key, &issuer).map_err(|e| format!("signing the appliance certificate: {e}"))?;
    Ok(ServerFile {
        names: SERVER_NAMES.join(","),
        ca_fingerprint: ca_fingerprint.to_string(),
        // Certificates start and end at midnight UTC.
        not_after: not_after - not_after.rem_euclid(86_400),
        key_der: key.serialize_der(),
        cert_der: cert.der().to_vec(),
    })
}

/// `server.pem`: a header saying what the pair was issued for, the key, the certificate.
struct ServerFile {
    names: String,
    ca_fingerprint: String,
    not_after: i64,
    key_der: Vec<u8>,
    cert_der: Vec<u8>,
}

impl ServerFile {
    fn to_text(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "2048 appliance TLS key and certificate. Private: never commit or share this file.");
        let _ = writeln!(text, "names: {}", self.names);
        let _ = writeln!(text, "ca: {}", self.ca_fingerprint);
        let _ = writeln!(text, "not_after: {}", self.not_after);
        text.push_str(&pem_encode("PRIVATE KEY", &self.key_der));
        text.push_str(&pem_encode("CERTIFICATE", &self.cert_der));
        text
    }

    fn parse(text: &str) -> Option<Self> {
        let field = |name: &str| {
            text.lines().find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(": ")).map(str::to_string))
        };
        Some(Self {
            names: field("names")?,
            ca_fingerprint: field("ca")?,
            not_after: field("not_after")?.parse().ok()?,
            key_der: pem_block(text, "PRIVATE KEY")?,
            cert_der: pem_block(text, "CERTIFICATE")?,
        })
    }
}

/// The first PEM block labelled `label` in `text`, decoded.
pub fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    base64_decode(&text[start..stop])
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let encoded = base64_encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or(""));
        pem.push('\n');
    }
    let _ = writeln!(pem, "-----END {label}-----");
    pem
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let value = BASE64.iter().position(|&b| b == c)? as u32;
        acc = acc << 6 | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// SHA-256 of `bytes` as colon-separated hex, the way phones show certificate fingerprints.
pub fn fingerprint(bytes: &[u8]) -> String {
    sha256(bytes).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// A plain SHA-256 (FIPS 180-4), so that this file needs nothing beyond rcgen.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
        0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
        0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
        0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
        0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
        0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7].wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [t1.wrapping_add(t2), v[0], v[1], v[2], v[3].wrapping_add(t1), v[4], v[5], v[6]];
        }
        for (state, value) in h.iter_mut().zip(v) {
            *state = state.wrapping_add(value);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn read_text(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes through a temporary file and a rename, so readers never see half a file.
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&temporary, bytes).map_err(|e| format!("{}: {e}", temporary.display()))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&temporary, fs::Permissions::from_mode(0o600)).map_err(|e| format!("{}: {e}", temporary.display()))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    fs::rename(&temporary, path).map_err(|e| format!("{}: {e}", path.display()))
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// (year, month, day) of the UTC day holding `unix` seconds.
fn day_of(unix: i64) -> (i32, u8, u8) {
    civil_from_days(unix.div_euclid(86_400))
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day)
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn sha256_and_base64_round_trip() {
        assert_eq!(
            fingerprint(b"abc").replace(':', "").to_lowercase(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        for len in 0..10 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)), Some(bytes));
        }
    }
}
