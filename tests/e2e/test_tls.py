"""HTTPS from the same image, end to end: curl and openssl against port 443,
misbehaving TLS clients, and the boot self-test in /stats.json."""
import json
import socket
import subprocess
import time

import pytest

from conftest import ROOT, curl

CA = ROOT / "build" / "tls" / "ca.pem"
INDEX = (ROOT / "static" / "index.html").read_bytes()


@pytest.fixture(scope="module")
def tls_appliance(appliance):
    appliance.wait_for_log(r"TLS self-test passed")
    return appliance


def https(guest, *args, timeout=10):
    return curl("--cacert", str(CA), "--resolve", f"2048.home.arpa:{guest.tls_port}:127.0.0.1",
                *args, f"https://2048.home.arpa:{guest.tls_port}/", timeout=timeout)


def test_curl_over_tls_gets_exact_bytes(tls_appliance):
    body, err, code = https(tls_appliance)
    assert code == 0, err
    assert body == INDEX
    body, _, _ = https(tls_appliance, "--compressed")
    assert body == INDEX


def test_openssl_shows_tls13_and_the_chain_and_refuses_tls12(tls_appliance):
    target = f"127.0.0.1:{tls_appliance.tls_port}"
    r = subprocess.run(["openssl", "s_client", "-connect", target, "-servername", "2048.home.arpa", "-tls1_3",
                        "-CAfile", str(CA), "-showcerts"], input=b"", capture_output=True, timeout=20)
    out = r.stdout.decode(errors="replace")
    assert "Protocol  : TLSv1.3" in out or "New, TLSv1.3" in out
    assert "Verify return code: 0 (ok)" in out
    assert "CN = 2048.home.arpa" in out or "CN=2048.home.arpa" in out
    r = subprocess.run(["openssl", "s_client", "-connect", target, "-tls1_2"], input=b"", capture_output=True, timeout=20)
    assert r.returncode != 0
    assert b"alert protocol version" in r.stdout + r.stderr


def send_and_wait_for_close(port, data, timeout=8):
    """Sends `data`, then returns (bytes received, seconds until the server closed)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        if data:
            s.sendall(data)
        received = b""
        while time.monotonic() - started < timeout:
            try:
                chunk = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            received += chunk
    return received, time.monotonic() - started


CLIENT_HELLO_START = bytes.fromhex("16030100f4010000f00303") + bytes(32)


@pytest.mark.parametrize("name,data", [
    ("plain HTTP", b"GET / HTTP/1.1\r\nHost: 2048.home.arpa\r\n\r\n"),
    ("random bytes", bytes(range(256)) * 4),
    ("truncated ClientHello", CLIENT_HELLO_START),
    ("oversized record", bytes.fromhex("160303") + (0x4800).to_bytes(2, "big") + bytes(0x4800)),
    ("stalled handshake", b""),
])
def test_bad_tls_input_gets_an_alert_or_close_and_http_keeps_serving(tls_appliance, name, data):
    received, seconds = send_and_wait_for_close(tls_appliance.tls_port, data)
    assert seconds < 7.5, f"{name}: slot held for {seconds:.1f} s"
    if received:
        assert received[0] == 0x15, f"{name}: expected a TLS alert, got {received[:16]!r}"
    body, _, _ = curl(tls_appliance.url + "/")
    assert body == INDEX


def test_self_test_and_handshakes_in_stats(tls_appliance):
    https(tls_appliance)
    stats = json.loads(curl(tls_appliance.url + "/stats.json")[0])
    assert stats["tls"]["self_test"] == "passed"
    assert stats["tls"]["self_test_handshake_us"] > 0
    assert stats["tls"]["handshakes"] >= 2
    assert "TLS self-test passed: embedded-tls fetched / (%d bytes)" % len(INDEX) in tls_appliance.log()
