"""HTTP done right, end to end, against the real image in QEMU."""
import gzip
import re
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import ROOT, curl

INDEX = (ROOT / "static" / "index.html").read_bytes()


def headers_of(raw):
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return lines[0], fields


def raw_request(appliance, data, timeout=5):
    """Sends bytes on a fresh connection and returns everything until close."""
    with socket.create_connection(("127.0.0.1", appliance.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_root_is_static_index_byte_for_byte(appliance):
    body, _, code = curl(appliance.url + "/")
    assert code == 0
    assert body == INDEX


def test_gzip_only_when_asked(appliance):
    raw, _, _ = curl("-i", "-H", "Accept-Encoding: gzip", appliance.url + "/")
    status, fields = headers_of(raw)
    assert status.startswith("HTTP/1.1 200")
    assert fields["content-encoding"] == "gzip"
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert int(fields["content-length"]) == len(body) < len(INDEX)
    assert gzip.decompress(body) == INDEX
    raw, _, _ = curl("-i", appliance.url + "/")
    status, fields = headers_of(raw)
    assert "content-encoding" not in fields
    assert fields["content-type"] == "text/html; charset=utf-8"
    assert int(fields["content-length"]) == len(INDEX)
    assert fields["vary"] == "Accept-Encoding"
    assert "cache-control" in fields


def test_if_none_match_gives_304(appliance):
    raw, _, _ = curl("-i", appliance.url + "/index.html")
    etag = headers_of(raw)[1]["etag"]
    raw, _, _ = curl("-i", "-H", f"If-None-Match: {etag}", appliance.url + "/index.html")
    status, fields = headers_of(raw)
    assert status.startswith("HTTP/1.1 304")
    assert fields["etag"] == etag
    assert raw.split(b"\r\n\r\n", 1)[1] == b""


def test_head_has_length_and_no_body(appliance):
    raw = raw_request(appliance, b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    status, fields = headers_of(raw)
    assert status.startswith("HTTP/1.1 200")
    assert int(fields["content-length"]) == len(INDEX)
    assert raw.endswith(b"\r\n\r\n")


def test_unknown_path_is_a_small_html_404(appliance):
    raw, _, _ = curl("-i", appliance.url + "/no/such/page")
    status, fields = headers_of(raw)
    assert status.startswith("HTTP/1.1 404")
    assert fields["content-type"].startswith("text/html")
    assert b"Not found" in raw


def test_unsupported_method_is_405(appliance):
    raw, _, _ = curl("-i", "-X", "POST", "--data", "x=1", appliance.url + "/")
    status, fields = headers_of(raw)
    assert status.startswith("HTTP/1.1 405")
    assert fields["allow"] == "GET, HEAD"


def test_garbage_is_400_and_closed(appliance):
    raw = raw_request(appliance, b"THIS IS NOT HTTP\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400")


def test_oversized_headers_are_431_and_closed(appliance):
    big = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Fill-%d: %s\r\n" % (i, b"y" * 100) for i in range(40)) + b"\r\n"
    raw = raw_request(appliance, big)
    assert raw.startswith(b"HTTP/1.1 431")


def test_stats_json_has_live_figures(appliance):
    import json
    body, _, _ = curl(appliance.url + "/stats.json")
    stats = json.loads(body)
    assert stats["requests"] >= 1
    assert stats["boot_ms"] > 0
    assert stats["uptime_ms"] > 0
    assert stats["heap"]["used"] > 0 and stats["heap"]["free"] > 0
    assert stats["net"]["rx_frames"] > 0 and stats["net"]["tx_frames"] > 0


def test_16_keepalive_clients_of_100_requests_all_200(appliance):
    def client(_):
        urls = ["-o", "/dev/null", appliance.url + "/"] * 100
        r = subprocess.run(["curl", "-s", "-m", "60", "-w", "%{http_code} %{num_connects}\n", *urls],
                           capture_output=True, text=True)
        return r.stdout.split("\n")[:-1]

    with ThreadPoolExecutor(16) as pool:
        results = [line for lines in pool.map(client, range(16)) for line in lines]
    assert len(results) == 1600
    assert all(line.startswith("200 ") for line in results), [l for l in results if not l.startswith("200")][:5]
    new_connections = sum(int(line.split()[1]) for line in results)
    assert new_connections < 1600 / 4, f"keep-alive barely used: {new_connections} connects"


def test_slowloris_does_not_lock_out_a_normal_client(appliance):
    stop = threading.Event()
    sockets = []
    for _ in range(32):
        s = socket.create_connection(("127.0.0.1", appliance.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\n")
        sockets.append(s)

    def trickle():
        while not stop.is_set():
            for s in sockets:
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
            stop.wait(0.5)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        time.sleep(1)  # let the trickle occupy every slot before the real client comes
        body, err, code = curl(appliance.url + "/", timeout=2)
        assert code == 0, err
        assert body == INDEX
    finally:
        stop.set()
        t.join()
        for s in sockets:
            s.close()


def test_content_type_follows_the_extension_and_files_are_byte_exact(appliance):
    for path, content_type in [("/app.js", "text/javascript; charset=utf-8"), ("/game.js", "text/javascript; charset=utf-8"),
                               ("/index.html", "text/html; charset=utf-8")]:
        raw, _, _ = curl("-i", appliance.url + path)
        status, fields = headers_of(raw)
        assert status.startswith("HTTP/1.1 200"), path
        assert fields["content-type"] == content_type, path
        assert raw.split(b"\r\n\r\n", 1)[1] == (ROOT / "static" / path.lstrip("/")).read_bytes(), path
    raw, _, _ = curl("-i", appliance.url + "/stats.json")
    status, fields = headers_of(raw)
    assert fields["content-type"] == "application/json"
    assert fields["cache-control"] == "no-store"
