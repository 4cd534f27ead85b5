"""The Orange Pi PC and the Cubieboard with a USB Ethernet adapter as their NIC (`qemu.sh --usb-net`).

QEMU's `usb-net` (CDC Ethernet, full speed) sits on the SoC's first OHCI (on
the Cubieboard, the first EHCI hands it to its companion OHCI); the kernel
enumerates it, takes it as the NIC instead of the EMAC, and serves the site
byte for byte over it, also to 16 keep-alive clients at once. A USB keyboard
and a zeroed USB stick (high speed, on the first EHCI) plugged in beside it
are enumerated and logged: the keyboard ignored, the stick read and not used
(it has no leaderboard partition; test_usb_storage.py has one that is). Unplugging the adapter (QEMU monitor
`device_del`) stops its driver while the appliance carries on; plugging it
back (`device_add`) resumes serving. Over a TAP device, a phone's DHCP client
gets a lease through USB. The images come from tools/build.sh orangepi-pc
cubieboard.
"""
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import ROOT, curl, in_phone, poll, sh, wire_up
from test_boards import LISTENING, assert_site_served_byte_for_byte, monitor, require, start  # noqa: F401 (fixture)

BOARD = "orangepi-pc"
ADAPTER = r"USB 1-1: 0525:a4a2 QEMU RNDIS/QEMU USB Network Device, full speed"
ADAPTER_UP = r"USB 1-1: CDC Ethernet, MAC 52:54:00:12:34:57"
# A zeroed stick has no leaderboard partition: looked at, said so, never written.
NO_AREA = "mass storage, 2048 blocks of 512 B, no leaderboard partition (type 0xda; imgtool leaderboard-card makes one): not used"
# What each board's log says of the devices qemu.sh plugs in, and where the adapter goes back in.
USB_BOARDS = {
    "orangepi-pc": {
        "net": "usb-net,netdev=n0,bus=usb-bus.4,port=1,id=usbnet0",
        "log": ["USB: 4 OHCI and 4 EHCI controllers up", "USB 2-1: 0627:0001 QEMU USB Keyboard, full speed",
                "USB 2-1: HID device, no driver here: ignored", "USB 5-1: 46f4:0001 QEMU USB HARDDRIVE, high speed",
                "USB 5-1: " + NO_AREA],
        "emac": "sun8i EMAC",
    },
    "cubieboard": {
        "net": "usb-net,netdev=n0,bus=usb-bus.0,port=1,id=usbnet0",
        "log": ["USB: 2 OHCI and 2 EHCI controllers up", "USB 4-1: 0627:0001 QEMU USB Keyboard, high speed",
                "USB 4-1: HID device, no driver here: ignored", "USB 3-2: 46f4:0001 QEMU USB HARDDRIVE, high speed",
                "USB 3-2: " + NO_AREA],
        "emac": "sun4i EMAC",
    },
}


@pytest.fixture(autouse=True)
def image():
    for board in USB_BOARDS:
        require(ROOT / "build" / board / f"{board}.bin", f"tools/build.sh {board}")


@pytest.mark.parametrize("board", USB_BOARDS)
def test_usb_adapter_is_the_nic_and_serves_the_site_byte_for_byte_beside_a_keyboard_and_a_stick(start, tmp_path, board):
    stick = tmp_path / "stick.img"
    stick.write_bytes(bytes(1 << 20))
    guest = start(board, "--usb-net", "--usb-kbd", "--usb-storage", str(stick))
    log = guest.wait_for_log(LISTENING)
    assert ADAPTER in log
    assert "USB 1-1: CDC Ethernet, MAC 52:54:00:12:34:57, bulk IN 0x82 OUT 0x02" in log
    assert "NIC up: 52:54:00:12:34:57" in log
    for line in USB_BOARDS[board]["log"]:
        assert line in log
    assert USB_BOARDS[board]["emac"] not in log, "the EMAC is not used when a USB adapter is the NIC"
    guest.wait_for_http()
    assert_site_served_byte_for_byte(guest)


def test_16_keepalive_clients_over_usb_all_get_200(start):
    guest = start(BOARD, "--usb-net")
    guest.wait_for_log(LISTENING)
    guest.wait_for_http()

    def client(_):
        urls = ["-o", "/dev/null", guest.url + "/"] * 25
        r = subprocess.run(["curl", "-s", "-m", "120", "-w", "%{http_code} %{num_connects}\n", *urls],
                           capture_output=True, text=True)
        return r.stdout.split("\n")[:-1]

    with ThreadPoolExecutor(16) as pool:
        results = [line for lines in pool.map(client, range(16)) for line in lines]
    assert len(results) == 16 * 25
    assert all(line.startswith("200 ") for line in results), [l for l in results if not l.startswith("200")][:5]
    assert sum(int(line.split()[1]) for line in results) < len(results) / 4, "keep-alive barely used"
    assert_site_served_byte_for_byte(guest)


@pytest.mark.parametrize("board", USB_BOARDS)
def test_unplugged_adapter_stops_the_network_and_serving_resumes_when_plugged_back(start, tmp_path, board):
    socket_path = tmp_path / "monitor.sock"
    guest = start(board, "--usb-net", "--usb-kbd", "--monitor", str(socket_path))
    guest.wait_for_log(LISTENING)
    guest.wait_for_http()
    monitor(socket_path, "device_del usbnet0")
    guest.wait_for_log(r"USB 1-1: 0525:a4a2 unplugged", timeout=10)
    guest.wait_for_log(r"USB Ethernet adapter unplugged|Ethernet (receive|transmit) failed", timeout=10)
    body, _, _ = curl(guest.url + "/", timeout=2)
    assert body == b"", "nothing is served without the adapter"
    # The keyboard was not disturbed, and the kernel is still running.
    assert guest.proc.poll() is None
    assert "panicked" not in guest.log()
    monitor(socket_path, f"device_add {USB_BOARDS[board]['net']}")
    guest.wait_for_log(ADAPTER, timeout=10, count=2)
    guest.wait_for_log(ADAPTER_UP, timeout=10, count=2)
    guest.wait_for_http()
    assert_site_served_byte_for_byte(guest)
    # A second unplug and replug works the same.
    monitor(socket_path, "device_del usbnet0")
    guest.wait_for_log(r"USB 1-1: 0525:a4a2 unplugged", timeout=10, count=2)
    monitor(socket_path, f"device_add {USB_BOARDS[board]['net']}")
    guest.wait_for_log(ADAPTER_UP, timeout=10, count=3)
    guest.wait_for_http()
    body, err, code = curl(guest.url + "/")
    assert code == 0 and body == (ROOT / "static" / "index.html").read_bytes(), err


@pytest.mark.skipif(os.geteuid() != 0, reason="TAP devices and network namespaces need root")
def test_phone_gets_a_dhcp_lease_and_the_game_over_usb(start):
    n = 2060
    teardown = wire_up(n)
    try:
        ns = f"phone{n}"
        guest = start(BOARD, "--usb-net", "--tap", f"tap{n}")
        guest.wait_for_log(LISTENING)
        r = in_phone("python3", str(ROOT / "tests" / "e2e" / "dhcp_clients.py"), f"vphone{n}", "3", "--timeout", "3",
                     ns=ns, timeout=60)
        result = json.loads(r.stdout)
        assert result["leases"] == 3 and result["distinct"] == 3, result
        address = next(iter(result["addresses"].values()))
        assert address.startswith("10.42.0."), result
        in_phone("ip", "addr", "add", f"{address}/24", "dev", f"vphone{n}", ns=ns)
        index = (ROOT / "static" / "index.html").read_bytes()
        got = poll("the game page from inside the phone's namespace",
                   lambda: (lambda r: r.returncode == 0 and r.stdout == index)(
                       subprocess.run(["ip", "netns", "exec", ns, "curl", "-s", "-m", "5", "http://10.42.0.1/"],
                                      capture_output=True)), timeout=20)
        assert got
    finally:
        for cmd in teardown:
            sh(*cmd, check=False)
