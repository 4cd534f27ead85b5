"""A burst of clients larger than the slots, over a TAP device from a phone namespace (so QEMU user
networking's listen backlog of 1 does not serialize the connections): nobody is refused with a
reset. The appliance holds back the SYNs it has no listening slot for (`net.syn_held` in
/stats.json) and the clients' retransmitted SYNs find the slots eviction freed.

Names: everything here is *2050; no other test uses them."""
import json
import os
import textwrap

import pytest

from conftest import BOARDS, Guest, in_phone, phone_stats, sh, wire_up

NS = "phone2050"
# 16 browsers' keep-alive connections sit idle in 16 HTTP slots (booted with http_slots=16), then 24 more clients
# connect at once, each with one request: the crowd of the issue (20 at once got 4 resets).
IDLE, CLIENTS = 16, 24
BURST = textwrap.dedent(f"""
    import json, socket, threading, time
    REQUEST = b"GET /stats.json HTTP/1.1\\r\\nHost: 2048.home.arpa\\r\\n"
    idle = []
    for n in range({IDLE}):
        s = socket.create_connection(("10.42.0.1", 80), timeout=10)
        s.sendall(REQUEST + b"\\r\\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        idle.append(s)
    results = []
    def client(n):
        start = time.monotonic()
        try:
            with socket.create_connection(("10.42.0.1", 80), timeout=20) as s:
                s.sendall(REQUEST + b"Connection: close\\r\\n\\r\\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            results.append(("ok" if data.startswith(b"HTTP/1.1 200") else "bad", time.monotonic() - start))
        except ConnectionResetError:
            results.append(("reset", time.monotonic() - start))
        except ConnectionRefusedError:
            results.append(("refused", time.monotonic() - start))
        except OSError as e:
            results.append((type(e).__name__, time.monotonic() - start))
    threads = [threading.Thread(target=client, args=(n,)) for n in range({CLIENTS})]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps(results))
""")


@pytest.fixture(params=BOARDS)
def crowd(request, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for the TAP device and the namespace")
    teardown = wire_up(2050)
    guest = Guest(request.param, tmp_path, "--tap", "tap2050", "--append", "http_slots=16")
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
