"""Allwinner boards in QEMU: the A10 Cubieboard and the H3 Orange Pi PC.

Each serves the game byte for byte over its SoC's own EMAC (sun4i, sun8i),
also over HTTPS with TLS seeded from timer jitter (no RNG device there),
started with -kernel; the Orange Pi PC also boots its SD card image through
Debian's U-Boot (no -kernel), as a real board would. Pulling the emulated
cable (QEMU monitor `set_link`) is noticed, and serving resumes after it.
Bad frames sent into the NIC's TAP device (over the MTU, runts) are dropped
and counted while the site keeps being served.
Images come from tools/build.sh BOARD and tools/sdcard.sh orangepi-pc.
"""
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import ROOT, Guest, curl, in_phone, phone_stats, poll, sh, wire_up

EMULATED = ["cubieboard", "orangepi-pc"]
LISTENING = r"listening on http://10\.42\.0\.1:80/"
SITE = sorted(p for p in (ROOT / "static").rglob("*") if p.is_file() and not p.name.startswith("."))


def require(path, how):
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run {how}")


def assert_site_served_byte_for_byte(guest):
    body, err, code = curl(guest.url + "/")
    assert code == 0, err
    assert body == (ROOT / "static" / "index.html").read_bytes()
    for path in SITE:
        url = "/" + path.relative_to(ROOT / "static").as_posix()
        body, err, code = curl(guest.url + url)
        assert code == 0, f"{url}: {err}"
        assert body == path.read_bytes(), f"{guest.board}: {url} differs"


@pytest.fixture
def start(tmp_path):
    guests = []

    def boot(board, *args):
        guest = Guest(board, tmp_path, *args)
        guests.append(guest)
        return guest

    yield boot
    for guest in guests:
        guest.stop()


@pytest.mark.parametrize("board", EMULATED)
def test_board_serves_the_site_byte_for_byte_over_its_emac(start, board):
    require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")
    guest = start(board)
    log = guest.wait_for_log(LISTENING)
    driver = "sun4i EMAC" if board == "cubieboard" else "sun8i EMAC"
    assert f"{driver} at " in log and "link up" in log
    guest.wait_for_http()
    assert_site_served_byte_for_byte(guest)


@pytest.mark.parametrize("board", EMULATED)
@pytest.mark.parametrize("connections", [4, 64])
def test_board_keeps_serving_after_parallel_load(start, board, connections):
    """Bursts fill the EMAC's receive ring; the driver must come back from
    that (QEMU's sun8i model used to stop receiving for good)."""
    require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")
    guest = start(board)
    guest.wait_for_http()
    for _ in range(2):
        load = subprocess.run(["wrk", "-t1", f"-c{connections}", "-d3s", "--timeout", "5s", guest.url + "/"],
                              capture_output=True, text=True, timeout=60)
        served = int(re.search(r"(\d+) requests in", load.stdout)[1])
        assert served > 0, load.stdout
        assert "Non-2xx" not in load.stdout, load.stdout
    guest.wait_for_http()
    assert_site_served_byte_for_byte(guest)
    stats, err, code = curl(guest.url + "/stats.json")
    assert code == 0, err
    assert b'"rx_frames"' in stats


@pytest.mark.parametrize("board", EMULATED)
def test_board_serves_https_seeded_from_timer_jitter(start, board):
    """No RNG device on these SoCs: TLS is seeded from timer jitter, and the
    boot self-test and a real client both get the page over TLS 1.3."""
    require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")
    guest = start(board)
    log = guest.wait_for_log(r"TLS self-test passed", timeout=60)
    assert re.search(r"entropy: timer jitter, \d+ samples, ~\d+ bits estimated", log), log
    body, err, code = curl("--cacert", str(ROOT / "build" / "tls" / "ca.pem"), "--tlsv1.3",
                           "--resolve", f"2048.home.arpa:{guest.tls_port}:127.0.0.1",
                           f"https://2048.home.arpa:{guest.tls_port}/", timeout=30)
    assert code == 0, err
    assert body == (ROOT / "static" / "index.html").read_bytes()


def test_orangepi_pc_sd_card_boots_through_uboot_and_serves(start):
    image = ROOT / "build" / "orangepi-pc" / "orangepi-pc.img"
    require(image, "tools/sdcard.sh orangepi-pc")
    size = image.stat().st_size
    assert size & (size - 1) == 0, "QEMU needs an SD image whose size is a power of two"
    guest = start("orangepi-pc", "--sd")
    log = guest.wait_for_log(LISTENING, timeout=90)
    assert "U-Boot SPL" in log
    assert "Found U-Boot script /boot.scr" in log
    assert "Kernel image @ 0x40010000" in log
    assert "2048 appliance" in log.split("Starting kernel", 1)[1]
    # The card U-Boot booted from also holds the leaderboard, in the partition imgtool reserved.
    assert re.search(r"SD card \S+ \(SDSC, \d+ MiB\): leaderboard area at block \d+, 256 blocks", log), log
    assert re.search(r"leaderboard: (blank area, started fresh|\d+ games restored) \(disk", log), log
    guest.wait_for_http()
    assert_site_served_byte_for_byte(guest)


def monitor(path, command):
    """Sends one command to the QEMU monitor on a unix socket."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(str(path))
                s.settimeout(2)
                s.recv(4096)
                s.sendall(command.encode() + b"\n")
                time.sleep(0.2)
                return s.recv(65536)
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("board", EMULATED)
def test_pulled_cable_is_noticed_and_serving_resumes_when_it_is_back(start, tmp_path, board):
    require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")
    socket_path = tmp_path / f"{board}-monitor.sock"
    guest = start(board, "--monitor", str(socket_path))
    guest.wait_for_log(LISTENING)
    guest.wait_for_http()
    monitor(socket_path, "set_link n0 off")
    guest.wait_for_log(r"WARN  link down", timeout=10)
    body, _, code = curl(guest.url + "/", timeout=2)
    assert body == b"", "nothing gets through a pulled cable"
    monitor(socket_path, "set_link n0 on")
    guest.wait_for_log(r"INFO  link up: 100 Mbit/s, full duplex", timeout=10)
    guest.wait_for_http()
    assert_site_served_byte_for_byte(guest)


# Sends raw Ethernet frames (broadcast, local experimental EtherType 0x88b5)
# out of an interface: argv = interface, then SIZE:COUNT pairs.
SEND_FRAMES = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for spec in sys.argv[2:]:
    size, count = map(int, spec.split(":"))
    frame = b"\\xff" * 6 + bytes.fromhex("020000002050") + b"\\x88\\xb5"
    frame += bytes(i & 0xff for i in range(size - len(frame)))
    for _ in range(count):
        s.send(frame[:size])
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="TAP devices and network namespaces need root")
@pytest.mark.parametrize("board", EMULATED)
def test_frames_over_the_mtu_and_runts_are_dropped_counted_and_serving_goes_on(start, board):
    """A host in a namespace on the board's TAP NIC, with a 4000-byte MTU on
    its side, sends frames of 1519 to 3000 bytes (over the 1518-byte
    maximum): the EMAC driver drops and counts each one (/stats.json
    rx_dropped). Then a burst of 20-byte runts and over-long frames: QEMU pads
    runts to 60 bytes before a NIC model sees them, so they arrive as short
    junk frames that the stack ignores. The site is still served byte for
    byte afterwards."""
    require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")
    n = 2050
    teardown = wire_up(n)
    try:
        for link in (f"tap{n}", f"vhost{n}", f"br{n}"):
            sh("ip", "link", "set", link, "mtu", "4000")
        ns = f"phone{n}"
        in_phone("ip", "link", "set", f"vphone{n}", "mtu", "4000", ns=ns)
        in_phone("ip", "addr", "add", "10.42.0.2/24", "dev", f"vphone{n}", ns=ns)
        guest = start(board, "--tap", f"tap{n}")
        guest.wait_for_log(LISTENING)
        before = poll("/stats.json over the TAP NIC", lambda: phone_stats(ns))["net"]
        # One over-long frame at a time, each counted before the next: QEMU's
        # sun4i EMAC model itself discards a frame that does not fit what is
        # left of its 4 KiB receive FIFO, before the driver could see it.
        expected = before["rx_dropped"]
        for size in [1519, 1600, 2047, 3000] * 5:
            in_phone("python3", "-c", SEND_FRAMES, f"vphone{n}", f"{size}:1", ns=ns)
            expected += 1
            poll(f"{board}: a {size}-byte frame counted in rx_dropped (from {before['rx_dropped']})",
                 lambda: (phone_stats(ns) or {}).get("net", {}).get("rx_dropped", -1) >= expected, timeout=10, interval=0.05)
        in_phone("python3", "-c", SEND_FRAMES, f"vphone{n}", "20:50", "1600:20", ns=ns)
        for path in SITE:
            url = "http://10.42.0.1/" + path.relative_to(ROOT / "static").as_posix()
            r = subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-m", "10", url], capture_output=True)
            assert r.returncode == 0 and r.stdout == path.read_bytes(), f"{board}: {url} after bad frames"
    finally:
        for cmd in teardown:
            sh(*cmd, check=False)
