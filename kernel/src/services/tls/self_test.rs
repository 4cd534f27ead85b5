//! The boot self-test: the appliance "talks to itself". An embedded-tls
//! client (a second, independent TLS 1.3 implementation) connects to the
//! appliance's own HTTPS service, checks the certificate against the embedded
//! demo CA, fetches `/` and compares it with the embedded `index.html`.
//!
//! What embedded-tls 0.19 checks (`pki::CertVerifier`, its `rustpki`
//! feature): each certificate the server sends is signed by the one before
//! it, starting from our CA (ECDSA P-256/SHA-256 only in this build); each
//! one's validity period against `unix_time_secs()` (build time + uptime);
//! the host name against the leaf's DNS subjectAltNames (or its CN when it
//! has none); and the CertificateVerify signature over the handshake with the
//! leaf's key. It does not check basicConstraints, key usage or extended key
//! usage, name constraints, path length, IP-address SANs, the CA's own
//! validity, or revocation. So the test proves "the server holds the key of
//! a certificate our CA issued for 2048.home.arpa", which is what matters
//! here; full path validation is left to real clients (curl, phones).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use embedded_io_async::{Read, Write};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{Aes128GcmSha256, Certificate, CryptoProvider, TlsClock, TlsConfig, TlsConnection, TlsContext, TlsVerifier};

use super::crypto::{uptime_us, unix_time_secs, CA_CERT_DER};
use super::entropy::TlsRng;
use crate::services::site;

/// The name the self-test asks for and verifies.
pub const SELF_TEST_HOST: &str = "2048.home.arpa";

/// Largest response the self-test reads: the page plus room for headers.
const RESPONSE_SLACK: usize = 4_096;

/// What the self-test found, for the serial log and `/stats.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfTestReport {
    /// The handshake verified and `/` came back byte for byte.
    pub ok: bool,
    /// Why not, in words, when `ok` is false.
    pub error: Option<String>,
    /// Handshake time, microseconds (0 when the uptime source is not set).
    pub handshake_us: u64,
    /// Connect-to-last-byte time, microseconds.
    pub total_us: u64,
    /// Body bytes received.
    pub body_bytes: usize,
}

impl SelfTestReport {
    fn failed(error: String, handshake_us: u64, started: u64, body_bytes: usize) -> Self {
        Self { ok: false, error: Some(error), handshake_us, total_us: uptime_us().saturating_sub(started), body_bytes }
    }
}

/// embedded-tls' clock: build time plus uptime, for certificate validity.
struct ApplianceClock;

impl TlsClock for ApplianceClock {
    fn now() -> Option<u64> {
        Some(unix_time_secs())
    }
}

/// Our randomness and the CA-checking verifier, as embedded-tls wants them.
struct SelfTestCrypto {
    rng: TlsRng,
    verifier: CertVerifier<'static, Aes128GcmSha256, ApplianceClock, 2048>,
}

impl CryptoProvider for SelfTestCrypto {
    type CipherSuite = Aes128GcmSha256;
    type Signature = p256::ecdsa::DerSignature;

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Aes128GcmSha256>, embedded_tls::TlsError> {
        Ok(&mut self.verifier)
    }
}

/// Connects over `transport` (already connected to the appliance's HTTPS
/// service), verifies the server against the embedded CA, fetches `/` and
/// compares it with the embedded `index.html`. Never panics; wrap it in a
/// timeout, since a silent server would make it wait for ever.
pub async fn self_test<T: Read + Write>(transport: T) -> SelfTestReport {
    let started = uptime_us();
    let Some(rng) = TlsRng::new() else {
        return SelfTestReport::failed("no entropy: TLS is off".to_string(), 0, started, 0);
    };
    let Some(expected) = site::ASSETS.iter().find(|asset| asset.path == "/index.html") else {
        return SelfTestReport::failed("no index.html in the image".to_string(), 0, started, 0);
    };
    let mut read_buffer = vec![0u8; 16_640];
    let mut write_buffer = vec![0u8; 4_096];
    let config = TlsConfig::new().with_server_name(SELF_TEST_HOST);
    let crypto = SelfTestCrypto { rng, verifier: CertVerifier::new(Certificate::X509(CA_CERT_DER)) };
    let mut tls: TlsConnection<'_, T, Aes128GcmSha256> = TlsConnection::new(transport, &mut read_buffer, &mut write_buffer);
    if let Err(error) = tls.open(TlsContext::new(&config, crypto)).await {
        return SelfTestReport::failed(format!("handshake: {error:?}"), 0, started, 0);
    }
    let handshake_us = uptime_us().saturating_sub(started);

    let request = format!("GET / HTTP/1.1\r\nHost: {SELF_TEST_HOST}\r\nConnection: close\r\n\r\n");
    let sent = async {
        tls.write_all(request.as_bytes()).await?;
        tls.flush().await
    };
    if let Err(error) = sent.await {
        return SelfTestReport::failed(format!("sending the request: {error:?}"), handshake_us, started, 0);
    }

    let limit = expected.body.len() + RESPONSE_SLACK;
    let mut response = Vec::new();
    let mut chunk = [0u8; 1024];
    let outcome = loop {
        match tls.read(&mut chunk).await {
            Ok(0) | Err(embedded_tls::TlsError::ConnectionClosed) => break Ok(()),
            Ok(n) if response.len() + n > limit => break Err("response larger than the page".to_string()),
            Ok(n) => {
                response.extend_from_slice(&chunk[..n]);
                if complete(&response) {
                    break Ok(());
                }
            }
            Err(error) => break Err(format!("reading the response: {error:?}")),
        }
    };
    let _ = tls.close().await;
    let checked = outcome.and_then(|()| check_response(&response, expected.body));
    match checked {
        Ok(body_bytes) => SelfTestReport { ok: true, error: None, handshake_us, total_us: uptime_us().saturating_sub(started), body_bytes },
        Err(error) => SelfTestReport::failed(error, handshake_us, started, body_of(&response).map_or(0, <[u8]>::len)),
    }
}

/// The body, once the head has ended.
fn body_of(response: &[u8]) -> Option<&[u8]> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some(&response[end + 4..])
}

/// True when the head is in and the body has its Content-Length.
fn complete(response: &[u8]) -> bool {
    match (body_of(response), content_length(response)) {
        (Some(body), Some(length)) => body.len() >= length,
        _ => false,
    }
}

fn content_length(response: &[u8]) -> Option<usize> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = core::str::from_utf8(&response[..end]).ok()?;
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
    })
}

/// Checks status 200 and that the body is exactly `expected`; returns its length.
fn check_response(response: &[u8], expected: &[u8]) -> Result<usize, String> {
    let status_line = response.split(|&b| b == b'\n').next().unwrap_or_default();
    if !status_line.starts_with(b"HTTP/1.1 200") {
        let shown = String::from_utf8_lossy(&status_line[..status_line.len().min(40)]).trim_end().to_string();
        return Err(format!("status line '{shown}', not 200"));
    }
    let body = body_of(response).ok_or("response head never ended")?;
    if body != expected {
        return Err(format!("body differs from index.html ({} bytes received, {} expected)", body.len(), expected.len()));
    }
    Ok(body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_checks_status_and_exact_body() {
        let good = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert!(complete(good));
        assert_eq!(check_response(good, b"hello"), Ok(5));
        assert!(check_response(good, b"hellO").is_err());
        assert!(check_response(b"HTTP/1.1 404 Not Found\r\n\r\n", b"").is_err());
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"));
        assert!(!complete(b"HTTP/1.1 200 OK\r\nContent-Length: 5"));
    }
}
