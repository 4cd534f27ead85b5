"""A burst of clients larger than the slots, over a TAP device from a phone namespace (so QEMU user
networking's listen backlog of 1 does not serialize the connections): nobody is refused with a
reset. The appliance holds back the SYNs it has no listening slot for (`net.syn_held` in
/stats.json) and the clients' retransmitted SYNs find the slots eviction freed; and when it must
free a slot, an idle keep-alive connection goes before one stalled longer. HTTPS slots follow the
same rules: a TLS burst beyond them is held and served the same way.

Names: everything here is *2050; no other test uses them."""
import json
import os
import textwrap

import pytest

from conftest import BOARDS, ROOT, Guest, in_phone, phone_stats, sh, wire_up

NS = "phone2050"
# `idle` keep-alive connections sit idle in the slots of `port`, then `clients` more connect at once, each
# with one request and `Connection: close`, reading to the close. On 443 each verifies the chain against the
# demo CA. A reset or refusal at the TCP or the TLS layer is counted as such.
def burst(port, idle, clients, client_timeout, tls):
    return textwrap.dedent(f"""
        import json, socket, ssl, threading, time
        CONTEXT = ssl.create_default_context(cafile={str(ROOT / "build" / "tls" / "ca.pem")!r}) if {tls} else None
        REQUEST = b"GET /stats.json HTTP/1.1\\r\\nHost: 2048.home.arpa\\r\\n"
        def connect(timeout):
            raw = socket.create_connection(("10.42.0.1", {port}), timeout=timeout)
            return CONTEXT.wrap_socket(raw, server_hostname="2048.home.arpa") if CONTEXT else raw
        idle = []
        for n in range({idle}):
            s = connect(10)
            s.sendall(REQUEST + b"\\r\\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            idle.append(s)
        results = []
        def client(n):
            start = time.monotonic()
            try:
                with connect({client_timeout}) as s:
                    s.sendall(REQUEST + b"Connection: close\\r\\n\\r\\n")
                    data = b""
                    while chunk := s.recv(65536):
                        data += chunk
                results.append(("ok" if data.startswith(b"HTTP/1.1 200") else "bad", time.monotonic() - start))
            except ConnectionResetError:
                results.append(("reset", time.monotonic() - start))
            except ConnectionRefusedError:
                results.append(("refused", time.monotonic() - start))
            except OSError as e:  # ssl.SSLError among them
                results.append((type(e).__name__, time.monotonic() - start))
        threads = [threading.Thread(target=client, args=(n,)) for n in range({clients})]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps(results))
    """)


# 16 browsers' keep-alive connections sit idle in 16 HTTP slots (booted with http_slots=16), then 24 more clients
# connect at once: the crowd of the issue (20 at once got 4 resets).
IDLE, CLIENTS = 16, 24
BURST = burst(80, IDLE, CLIENTS, 20, tls=False)

# 14 clients ask for the game's script 40 times, pipelined, and stop reading (locked screens); one
# browser then loads /stats.json and keeps its connection idle. A second later every one of them has
# waited past the eviction age, the stalled ones longest, and a newcomer takes the last free slot:
# the idle connection is the one closed for the next visitor, the stalled ones stay until their
# write timeout (5 s). The newcomer asks for /stats.json, which counts the eviction that made its room.
# TCP_INFO's first byte is the client socket's state (1: established).
STALLED = 14
ORDER = textwrap.dedent(f"""
    import json, re, socket, time
    APPLIANCE = ("10.42.0.1", 80)
    PIPELINE = b"GET /app.js HTTP/1.1\\r\\nHost: 2048.home.arpa\\r\\n\\r\\n" * 40
    stalled = []
    for n in range({STALLED}):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(APPLIANCE)
        s.sendall(PIPELINE)
        stalled.append(s)
    time.sleep(1)
    idle = socket.create_connection(APPLIANCE, timeout=10)
    idle.sendall(b"GET /stats.json HTTP/1.1\\r\\nHost: 2048.home.arpa\\r\\n\\r\\n")
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        head += idle.recv(65536)
    head, body = head.split(b"\\r\\n\\r\\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\\d+)", head)[1])
    while len(body) < length:
        body += idle.recv(65536)
    time.sleep(1)
    with socket.create_connection(APPLIANCE, timeout=10) as newcomer:
        newcomer.sendall(b"GET /stats.json HTTP/1.1\\r\\nHost: 2048.home.arpa\\r\\nConnection: close\\r\\n\\r\\n")
        page = b""
        while chunk := newcomer.recv(65536):
            page += chunk
    idle.settimeout(2)  # the eviction is at once; its keep-alive timeout would close it 5 s after its response
    try:
        idle_closed = idle.recv(65536) == b""
    except ConnectionResetError:
        idle_closed = True
    except socket.timeout:
        idle_closed = False
    established = sum(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == 1 for s in stalled)
    evicted = json.loads(page.split(b"\\r\\n\\r\\n", 1)[1])["evicted"]
    print(json.dumps({{"newcomer": page[:12].decode(), "evicted": evicted, "idle_closed": idle_closed, "stalled_established": established}}))
""")


# The same burst on port 443, booted with https_slots=4: 4 TLS keep-alive connections sit idle, then 8
# clients connect at once.
TLS_IDLE, TLS_CLIENTS = 4, 8
TLS_BURST = burst(443, TLS_IDLE, TLS_CLIENTS, 30, tls=True)

@pytest.fixture(params=BOARDS)
def crowd(request, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for the TAP device and the namespace")
    teardown = wire_up(2050)
    guest = Guest(request.param, tmp_path, "--tap", "tap2050", "--append", "http_slots=16 https_slots=4")
    try:
        in_phone("ip", "addr", "add", "10.42.0.250/24", "dev", "vphone2050", ns=NS)
        guest.wait_for_log(r"TLS self-test passed", timeout=60)
        yield guest
    finally:
        guest.stop()
        for cmd in teardown:
            sh(*cmd, check=False)


def test_a_burst_beyond_the_slots_is_held_not_reset(crowd):
    before = phone_stats(NS)
    results = json.loads(in_phone("python3", "-c", BURST, timeout=60, ns=NS).stdout)
    outcomes = [outcome for outcome, _ in results]
    assert len(results) == CLIENTS
    assert outcomes.count("ok") == CLIENTS, sorted(results)
    after = phone_stats(NS)
    assert after["net"]["syn_held"] > before["net"]["syn_held"], (before["net"], after["net"])
    # the idle keep-alive connections made the room, not the newcomers' patience alone
    assert after["evicted"] > before["evicted"], (before["evicted"], after["evicted"])
    assert "CRASH" not in crowd.log()


def test_an_idle_keep_alive_is_evicted_before_connections_stalled_longer(crowd):
    before = phone_stats(NS)
    result = json.loads(in_phone("python3", "-c", ORDER, timeout=60, ns=NS).stdout)
    # The newcomer's own /stats.json: one eviction made its room (the idle one), none of the stalled.
    expected = {"newcomer": "HTTP/1.1 200", "evicted": before["evicted"] + 1, "idle_closed": True, "stalled_established": STALLED}
    assert result == expected, result
    assert "CRASH" not in crowd.log()


def test_a_tls_burst_beyond_the_https_slots_is_held_not_reset(crowd):
    before = phone_stats(NS)
    results = json.loads(in_phone("python3", "-c", TLS_BURST, timeout=90, ns=NS).stdout)
    assert [outcome for outcome, _ in results] == ["ok"] * TLS_CLIENTS, sorted(results)
    after = phone_stats(NS)
    assert after["net"]["syn_held"] > before["net"]["syn_held"], (before["net"], after["net"])
    assert after["evicted"] > before["evicted"], (before["evicted"], after["evicted"])
    assert "CRASH" not in crowd.log()
