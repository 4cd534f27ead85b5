"""The appliance as its own access point, end to end: the real image with `--wifi` on both virt
boards, the rig's phone VM (mac80211_hwsim + wpa_supplicant, tests/e2e/phone_vm.py) as the client.

The phone VM boots once per session with eight radios; one appliance runs at a time on its frame
link (open with wifi_inactivity=3, or WPA2), switched as the tests ask. Hostile frames are sent
from the host straight onto the link (plain UDP on 127.0.0.1, docs/wifi-rig.md's wrapper). Every
wait is a condition with a deadline; /stats.json is read from the host through the wired NIC.
"""
import base64
import json
import re
import socket
import struct
import time

import pytest

from conftest import BOARDS, ROOT, Guest, curl, poll
from phone_vm import PhoneVM, RigError, build, free_udp_pair

INDEX = (ROOT / "static" / "index.html").read_bytes()
PASSPHRASE = "correct horse battery"
PORTAL = "http://2048.home.arpa/"
OPEN_ARGS = "wifi_inactivity=3"
WPA2_PASSPHRASE = PASSPHRASE.replace(" ", "-")  # bootargs split on spaces
WPA2_ARGS = f"wifi_security=wpa2 wifi_passphrase={WPA2_PASSPHRASE} wifi_inactivity=3"
# The 100 KB download: the site's own page ten times over one connection (116560 bytes), so the
# default image serves it and no second build is needed.
HUNDRED_KB = 10


class Appliances:
    """One appliance at a time on the phone's link, rebooted when a test wants other bootargs."""

    def __init__(self, port, tmp):
        self.port, self.tmp, self.guest, self.key = port, tmp, None, None

    def get(self, board, append):
        if self.key != (board, append):
            self.stop()
            guest = Guest(board, self.tmp, "--wifi", str(self.port), "--append", append)
            self.guest, self.key = guest, (board, append)
            guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/", timeout=60)
            guest.wait_for_http(timeout=30)
        return self.guest

    def stop(self):
        if self.guest:
            self.guest.stop()
        self.guest, self.key = None, None


@pytest.fixture(scope="session")
def rig(tmp_path_factory):
    """(phone, appliances): the phone VM (8 radios) booted once; appliances started on demand."""
    build()
    logs = tmp_path_factory.mktemp("wifi")
    port = free_udp_pair()
    phone = PhoneVM(port, radios=8, log_path=logs / "phone.log")
    aps = Appliances(port, logs)
    try:
        phone.boot(timeout=180)
        yield phone, aps
    finally:
        aps.stop()
        phone.stop()


@pytest.fixture(scope="module", params=BOARDS)
def board(request):
    return request.param


@pytest.fixture
def open_ap(rig, board):
    """(phone, guest): the open network; the phone's stations down and loss-free afterwards."""
    phone, aps = rig
    guest = aps.get(board, OPEN_ARGS)
    yield phone, guest
    phone.set_drop(0)
    for n in range(8):
        phone.leave(f"wlan{n}")


@pytest.fixture
def wpa2_ap(rig, board):
    phone, aps = rig
    guest = aps.get(board, WPA2_ARGS)
    yield phone, guest
    phone.leave()


def wifi_stats(guest):
    """The appliance's "wifi" object of /stats.json, fetched over the wired port forward."""
    body, err, rc = curl(guest.url + "/stats.json")
    assert rc == 0, err
    return json.loads(body)["wifi"]


def lease_with_options(phone, iface="wlan0", timeout=20):
    """udhcpc asking for option 114 too; returns the lease line and the environment udhcpc gave
    its script (busybox names options it does not know optNNN, hex-encoded)."""
    script = ("cat > /tmp/udhcpc-env.sh <<'EOF'\n#!/bin/sh\n/bin/udhcpc.script \"$@\"\n"
              "[ \"$1\" = bound ] && env | sort > /tmp/udhcpc.env\nexit 0\nEOF\n"
              f"chmod +x /tmp/udhcpc-env.sh; rm -f /tmp/udhcpc.env\n"
              f"udhcpc -i {iface} -s /tmp/udhcpc-env.sh -O 114 -q -n -t 5 -T 1 -p /run/udhcpc-{iface}.pid\n"
              "echo @ENV; cat /tmp/udhcpc.env")
    out = phone.run(script, timeout=timeout).out
    line, env = out.split("@ENV", 1)
    return line, dict(re.findall(r"^(\w+)=(.*)$", env, re.M))


def http_code(phone, url, extra=""):
    """(status, redirect URL) curl got for `url` on the phone."""
    out = phone.run(f"curl -s -o /dev/null -m 15 {extra} -w '%{{http_code}} %{{redirect_url}}' '{url}'",
                    timeout=25).out.split()
    return int(out[0]), out[1] if len(out) > 1 else ""


def test_scan_shows_open_2048_on_2437_mhz(open_ap):
    phone, _ = open_ap
    found = [b for b in phone.scan(ssid="2048") if b.ssid == "2048"]
    assert [(b.freq, b.security) for b in found] == [(2437, "open")]


def test_open_join_lease_dns_portal_page_and_https(open_ap):
    phone, guest = open_ap
    joined = phone.join("2048", timeout=30)
    assert joined.status["key_mgmt"] == "NONE"
    line, env = lease_with_options(phone)
    assert re.search(r"lease 10\.42\.0\.\d+ router 10\.42\.0\.1 dns 10\.42\.0\.1", line), line
    assert env.get("router") == "10.42.0.1" and env.get("dns") == "10.42.0.1", env
    assert bytes.fromhex(env["opt114"]) == PORTAL.encode(), env
    out = phone.run("nslookup any.name.at.all 10.42.0.1; nslookup example.com 10.42.0.1").out
    assert re.findall(r"Address(?: \d)?:\s*(10\.42\.0\.1)\s*$", out, re.M).count("10.42.0.1") >= 2, out
    for probe in ("http://connectivitycheck.gstatic.com/generate_204", "http://captive.apple.com/hotspot-detect.html"):
        assert http_code(phone, probe) == (302, PORTAL), probe
    code, body, _, _ = phone.fetch(PORTAL, timeout=20)
    assert (code, body) == (200, INDEX)
    ca = (ROOT / "build" / "tls" / "ca.pem").read_text()
    phone.run(f"cat > /tmp/ca.pem <<'EOF'\n{ca}EOF")
    out = phone.run("curl -s -m 30 --cacert /tmp/ca.pem -o /tmp/tls.body -w '%{http_code}' https://2048.home.arpa/"
                    " && base64 /tmp/tls.body", timeout=40).out
    assert out[:3] == "200" and base64.b64decode("".join(out[3:].split())) == INDEX
    assert wifi_stats(guest)["stations"] == 1


def test_wpa2_scan_join_with_ccmp_and_page(wpa2_ap):
    phone, guest = wpa2_ap
    assert [b.security for b in phone.scan(ssid="2048") if b.ssid == "2048"] == ["WPA2"]
    joined = phone.join("2048", WPA2_PASSPHRASE, timeout=30)
    assert (joined.status["key_mgmt"], joined.status["pairwise_cipher"]) == ("WPA2-PSK", "CCMP")
    phone.lease(timeout=20)
    code, body, _, _ = phone.fetch(PORTAL, timeout=20)
    assert (code, body) == (200, INDEX)
    assert wifi_stats(guest)["security"] == "wpa2"


def test_wpa2_wrong_passphrase_never_completes_and_is_counted(wpa2_ap):
    phone, guest = wpa2_ap
    before = wifi_stats(guest)
    with pytest.raises(RigError):
        phone.join("2048", "not the passphrase", timeout=12)
    after = poll("a counted handshake failure", lambda: (s := wifi_stats(guest)) and (
        s["handshake_failures"] > before["handshake_failures"] or s["drop_mic"] > before["drop_mic"]) and s, 15)
    assert after["joins"] == before["joins"]


def test_eight_stations_get_distinct_leases_and_the_page(open_ap):
    phone, guest = open_ap
    addresses = []
    for n in range(8):
        phone.join("2048", iface=f"wlan{n}", timeout=30)
        addresses.append(phone.lease(f"wlan{n}", timeout=20)[0])
    assert len(set(addresses)) == 8, addresses
    assert wifi_stats(guest)["stations"] == 8
    for n in range(8):
        code, body, _, _ = phone.fetch(PORTAL, timeout=20, iface=f"wlan{n}")
        assert (code, body) == (200, INDEX), f"wlan{n}"


def test_power_save_pings_and_100kb_download_without_loss(open_ap):
    phone, _ = open_ap
    phone.join("2048", timeout=30, power_save=True)
    assert phone.power_save(on=True) == "Power save: on"
    phone.lease(timeout=20)
    out = phone.run("ping -c 50 -i 0.2 -W 5 10.42.0.1", timeout=40).out
    assert re.search(r"50 packets transmitted, 50 (packets )?received", out), out
    urls = " ".join([PORTAL] * HUNDRED_KB)
    out = phone.run(f"curl -s -m 60 {urls} | wc -c", timeout=70).out
    assert int(out.split()[-1]) == len(INDEX) * HUNDRED_KB >= 100_000


def test_leaving_frees_the_aid_and_a_new_join_gets_aid_1(open_ap):
    phone, guest = open_ap
    phone.join("2048", timeout=30)
    first = len(re.findall(r"joined \(AID 1\b", guest.log()))
    assert first >= 1
    phone.leave()
    poll("the station counted gone", lambda: wifi_stats(guest)["stations"] == 0, 15)
    phone.join("2048", timeout=30, leave=False)
    guest.wait_for_log(r"joined \(AID 1\b", count=first + 1, timeout=10)
    assert wifi_stats(guest)["stations"] == 1


def test_a_vanished_station_is_dropped_after_the_inactivity_timeout(open_ap):
    phone, guest = open_ap
    phone.join("2048", timeout=30)
    before = wifi_stats(guest)
    assert before["stations"] == 1
    # the phone's radio goes silent without a word: its forwarder stops carrying frames
    phone.run("killall -STOP hwsim-link")
    try:
        started = time.monotonic()
        s = poll("the silent station dropped", lambda: (s := wifi_stats(guest))["stations"] == 0 and s, 20)
        assert time.monotonic() - started >= 2
        assert s["drop_inactive"] > before["drop_inactive"] or s["leaves"] > before["leaves"]
    finally:
        phone.run("killall -CONT hwsim-link")


def test_downloads_complete_with_20_percent_frame_loss(open_ap):
    phone, _ = open_ap
    phone.set_drop(20)
    phone.join("2048", timeout=40)
    phone.lease(timeout=30)
    code, body, _, _ = phone.fetch(PORTAL, timeout=40)
    assert (code, body) == (200, INDEX)
    counters = phone.forwarder_counters()
    assert counters["lost_tx"] + counters["lost_rx"] > 0


def link_frame(frame, freq=2437, src=b"\x52\x54\x00\x00\x66\x01"):
    """One 802.11 frame in the link's Ethernet wrapper (docs/wifi-rig.md)."""
    return b"\xff" * 6 + src + b"\x88\xb5" + b"W\x01" + struct.pack(">HH", freq, len(frame)) + frame


def mgmt(subtype, bssid, sa, body, seq=0):
    """A management frame header (no FCS) addressed to `bssid`."""
    return struct.pack("<BBH", subtype << 4, 0, 0) + bssid + sa + bssid + struct.pack("<H", seq << 4) + body


def test_hostile_frames_are_dropped_counted_and_the_joined_phone_carries_on(open_ap):
    phone, guest = open_ap
    joined = phone.join("2048", timeout=30)
    phone.lease(timeout=20)
    bssid = bytes.fromhex(joined.status["bssid"].replace(":", ""))
    rogue = bytes.fromhex("021122334455")
    ssid = b"\x00\x042048" + b"\x01\x04\x82\x84\x8b\x96"
    cases = {
        "drop_truncated": mgmt(11, bssid, rogue, b"")[:16],
        # over 802.11's 2304-byte MSDU limit: the bridge refuses it before the access point
        "bridge_radio_dropped": mgmt(4, bssid, rogue, b"\xdd\xff" + b"\x00" * 255) + b"\x00" * 2100,
        "drop_bad_element": mgmt(4, bssid, rogue, b"\x00\xc82048"),
        "drop_unknown_algorithm": mgmt(11, bssid, rogue, struct.pack("<HHH", 1, 1, 0)),
        "drop_not_authenticated": mgmt(0, bssid, bytes.fromhex("021122334466"), struct.pack("<HH", 0x0401, 10) + ssid),
    }
    before = wifi_stats(guest)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for frame in cases.values():
            s.sendto(link_frame(frame), ("127.0.0.1", phone.port))
        s.sendto(b"\xff" * 6 + b"\x52\x54\x00\x00\x66\x01\x88\xb5W\x01\x09\x85\xff\xff", ("127.0.0.1", phone.port))

    def counted():
        now = wifi_stats(guest)
        return now if all(now[k] > before[k] for k in cases) else None
    try:
        after = poll("every hostile frame counted", counted, 10)
    except AssertionError:
        now = wifi_stats(guest)
        raise AssertionError({k: (before[k], now[k]) for k in cases})
    assert "CRASH" not in guest.log()
    assert after["stations"] == before["stations"] == 1
    code, body, _, _ = phone.fetch(PORTAL, timeout=20)
    assert (code, body) == (200, INDEX)
