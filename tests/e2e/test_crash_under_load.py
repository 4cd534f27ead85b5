"""A crash while 64 clients are being served: `crash=fault crash_after=6` faults the kernel 6 s after
the network is up, the crash report resets the board (QEMU with --reboot), the next boot skips the
crash and serves again, and every client reconnects by itself. Over a TAP device from a phone
namespace, so the 64 connections are real ones and not QEMU user networking's backlog of 1.

Names: everything here is *2052; no other test uses them."""
import json
import os
import subprocess
import textwrap
import time

import pytest

from conftest import BOARDS, Guest, in_phone, sh, wire_up

NS = "phone2052"
CLIENTS, SECONDS = 64, 22
PAGE_BYTES = 12723  # static/index.html, without gzip

# Each client holds a keep-alive connection and asks for / again and again; on any error (the board
# went away mid-request) it reconnects, every 0.2 s, as a browser's reload would. Times are wall clock,
# to compare with the host's view of the serial log.
CLIENT = textwrap.dedent(f"""
    import asyncio, json, re, time
    async def client(end):
        served, errors, conn = [], 0, None
        while time.time() < end:
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection("10.42.0.1", 80), 3)
                reader, writer = conn
                writer.write(b"GET / HTTP/1.1\\r\\nHost: 2048.home.arpa\\r\\n\\r\\n")
                head = await asyncio.wait_for(reader.readuntil(b"\\r\\n\\r\\n"), 3)
                length = int(re.search(rb"(?i)content-length: *(\\d+)", head)[1])
                body = await asyncio.wait_for(reader.readexactly(length), 3)
                if head.startswith(b"HTTP/1.1 200") and len(body) == {PAGE_BYTES}:
                    served.append(time.time())
                await asyncio.sleep(0.05)
            except Exception:
                errors += 1
                conn = None
                await asyncio.sleep(0.2)
        return {{"served": served, "errors": errors}}
    async def main():
        end = time.time() + {SECONDS}
        print(json.dumps(await asyncio.gather(*(client(end) for _ in range({CLIENTS})))))
    asyncio.run(main())
""")


@pytest.fixture(params=BOARDS)
def crashing(request, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for the TAP device and the namespace")
    teardown = wire_up(2052)
    guest = Guest(request.param, tmp_path, "--tap", "tap2052", "--reboot", "--append", "crash=fault crash_after=6")
    try:
        in_phone("ip", "addr", "add", "10.42.0.252/24", "dev", "vphone2052", ns=NS)
        guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/", timeout=30)
        yield guest
    finally:
        guest.stop()
        for cmd in teardown:
            sh(*cmd, check=False)


def test_a_crash_under_load_resets_and_every_client_is_served_again(crashing):
    clients = subprocess.Popen(["ip", "netns", "exec", NS, "python3", "-c", CLIENT], stdout=subprocess.PIPE, text=True)
    try:
        crashing.wait_for_log(r"\*\*\* CRASH: data abort", timeout=20)
        fault = time.time()
        crashing.wait_for_log(r"\*\*\* resetting \(crash 1 in a row\)", timeout=10)
        log = crashing.wait_for_log(r"listening on http://10\.42\.0\.1:80/", count=2, timeout=30)
        listening = time.time()
        out, _ = clients.communicate(timeout=SECONDS + 30)
    finally:
        clients.kill()
    assert "previous boot ended in a crash (1 in a row)" in log
    assert "skipped: this boot follows a crash" in log
    results = json.loads(out)
    assert len(results) == CLIENTS
    before = [sum(t < fault for t in r["served"]) for r in results]
    after = [sum(t > listening for t in r["served"]) for r in results]
    assert min(before) > 0, before
    assert min(after) > 0, after  # every client reconnected and was served by the new boot
    first_after = min(t for r in results for t in r["served"] if t > fault)
    print(f"\n{crashing.board}: fault seen -> second boot listening {listening - fault:.2f} s,"
          f" -> first 200 {first_after - fault:.2f} s; {sum(before)} responses before, {sum(after)} after,"
          f" {sum(r['errors'] for r in results)} client errors across the reset")
    assert first_after - fault < 10, first_after - fault
