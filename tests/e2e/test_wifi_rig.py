"""The Wi-Fi rig proven against a Linux access point (the hostapd peer VM).

The phone VM (mac80211_hwsim + wpa_supplicant) and the peer VM (hostapd, dnsmasq, busybox httpd)
boot once for the session and talk over the frame link through hwsim-link on both sides. The
phone joins open and WPA2 networks, takes a lease, fetches / byte for byte, with 20% frame loss
and with power save on. Every VM step has a deadline; set-up failures fail, nothing is skipped.
"""
import pytest

from phone_vm import ROOT, PeerVM, PhoneVM, build, free_udp_pair, parse_scan

INDEX = (ROOT / "static" / "index.html").read_bytes()
PASSPHRASE = "correct horse battery"


@pytest.fixture(scope="session")
def rig(tmp_path_factory):
    """(peer, phone): both VMs booted side by side, the peer's open network "2048" up."""
    build()
    logs = tmp_path_factory.mktemp("wifi-rig")
    port = free_udp_pair()
    peer = PeerVM(port, log_path=logs / "peer.log")
    phone = PhoneVM(port, log_path=logs / "phone.log")
    try:
        peer.start()
        phone.start()
        peer.wait_ready(timeout=180)
        phone.wait_ready(timeout=180)
        yield peer, phone
    finally:
        phone.stop()
        peer.stop()


@pytest.fixture
def open_network(rig):
    """The peer's open network; the phone's radio back to loss-free afterwards."""
    peer, phone = rig
    yield peer, phone
    phone.leave()
    phone.set_drop(0)


def test_scan_finds_open_peer_on_channel_6(rig):
    _, phone = rig
    found = [b for b in phone.scan(ssid="2048") if b.ssid == "2048"]
    assert [(b.freq, b.security, b.bssid) for b in found] == [(2437, "open", "02:00:00:00:aa:00")]


def test_phone_joins_open_peer_and_fetches_index_byte_for_byte(open_network):
    _, phone = open_network
    joined = phone.join("2048", timeout=30)
    assert joined.status["key_mgmt"] == "NONE"
    assert joined.status["bssid"] == "02:00:00:00:aa:00"
    assert joined.associated_s < 20
    address, _ = phone.lease(timeout=20)
    assert address.startswith("10.42.0.")
    code, body, _, _ = phone.fetch("http://2048.home.arpa/", timeout=20)
    assert code == 200
    assert body == INDEX
    code, game, _, _ = phone.fetch("http://any.name.at.all/game.js", timeout=20)
    assert (code, game) == (200, (ROOT / "static" / "game.js").read_bytes())
    counters = phone.forwarder_counters()
    assert counters["acks_sent"] > 0 and counters["acks_received"] > 0
    assert counters["bad_link"] == 0


def test_phone_joins_wpa2_peer_with_passphrase(rig):
    peer, phone = rig
    try:
        peer.start_ap("2048", PASSPHRASE)
        assert [b.security for b in phone.scan(ssid="2048") if b.ssid == "2048"] == ["WPA2"]
        joined = phone.join("2048", PASSPHRASE, timeout=30)
        assert joined.status["key_mgmt"] == "WPA2-PSK"
        assert joined.status["pairwise_cipher"] == "CCMP"
        phone.lease(timeout=20)
        code, body, _, _ = phone.fetch("http://2048.home.arpa/", timeout=20)
        assert (code, body) == (200, INDEX)
    finally:
        phone.leave()
        peer.start_ap("2048")


def test_join_lease_and_page_survive_20_percent_frame_loss(open_network):
    _, phone = open_network
    phone.set_drop(20)
    phone.join("2048", timeout=40)
    phone.lease(timeout=30)
    code, body, _, _ = phone.fetch("http://2048.home.arpa/", timeout=30)
    assert (code, body) == (200, INDEX)
    counters = phone.forwarder_counters()
    assert counters["lost_tx"] + counters["lost_rx"] > 0


def test_power_save_on_still_gets_the_page(open_network):
    _, phone = open_network
    phone.join("2048", timeout=30, power_save=True)
    assert phone.power_save(on=True) == "Power save: on"
    phone.lease(timeout=20)
    code, body, _, _ = phone.fetch("http://2048.home.arpa/", timeout=20)
    assert (code, body) == (200, INDEX)


def test_parse_scan_reads_ssid_channel_and_security():
    text = (
        "BSS 02:00:00:00:aa:00(on wlan0)\n\tfreq: 2437\n\tcapability: ESS Privacy ShortSlotTime (0x0411)\n"
        "\tsignal: -50.00 dBm\n\tSSID: 2048\n\tRSN:\t * Version: 1\n"
        "BSS 02:00:00:00:bb:00(on wlan0)\n\tfreq: 2412.0\n\tcapability: ESS (0x0401)\n\tSSID: booth two\n"
    )
    assert [(b.bssid, b.ssid, b.freq, b.signal, b.security) for b in parse_scan(text)] == [
        ("02:00:00:00:aa:00", "2048", 2437, -50.0, "WPA2"),
        ("02:00:00:00:bb:00", "booth two", 2412, 0.0, "open"),
    ]
