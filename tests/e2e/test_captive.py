"""Be the network: a "phone" in its own network namespace, wired through a
bridge to the appliance's TAP NIC, gets a lease, resolves every name to the
appliance and is sent to the game by the captive portal. Real clients:
busybox udhcpc, dig, curl. Needs root (CI runs as root)."""
import os
import random
import socket
import subprocess
import time

import pytest

from conftest import BOARDS, ROOT, curl

APPLIANCE = "10.42.0.1"
UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
env | grep -E '^(ip|subnet|router|dns|lease|serverid|opt114)=' | sort > "$LEASE_FILE"
ip addr replace "$ip/$mask" dev "$interface"
exit 0
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def in_phone(*cmd, check=True, timeout=30):
    return sh("ip", "netns", "exec", "phone2048", *cmd, check=check, timeout=timeout)


@pytest.fixture(scope="module", params=BOARDS)
def network(request, tmp_path_factory):
    """TAP + bridge + veth into the phone namespace, and the appliance on the TAP."""
    from conftest import Guest
    tmp = tmp_path_factory.mktemp("captive")
    teardown = [("ip", "netns", "del", "phone2048"), ("ip", "link", "del", "br2048"), ("ip", "link", "del", "tap2048"),
                ("ip", "link", "del", "vphone2048"), ("ip", "link", "del", "vhost2048")]
    for cmd in teardown:
        sh(*cmd, check=False)
    for cmd in [
        ("ip", "tuntap", "add", "dev", "tap2048", "mode", "tap"),
        ("ip", "link", "add", "br2048", "type", "bridge"),
        ("ip", "link", "set", "tap2048", "master", "br2048"),
        ("ip", "netns", "add", "phone2048"),
        ("ip", "link", "add", "vphone2048", "type", "veth", "peer", "name", "vhost2048"),
        ("ip", "link", "set", "vhost2048", "master", "br2048"),
        ("ip", "link", "set", "vphone2048", "netns", "phone2048"),
        ("ip", "link", "set", "tap2048", "up"), ("ip", "link", "set", "br2048", "up"),
        ("ip", "link", "set", "vhost2048", "up"),
        ("ip", "netns", "exec", "phone2048", "ip", "link", "set", "vphone2048", "up"),
        ("ip", "netns", "exec", "phone2048", "ip", "link", "set", "lo", "up"),
    ]:
        sh(*cmd)
    script = tmp / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    guest = Guest(request.param, tmp, "--tap", "tap2048", "--append", "dhcp_pool=10.42.0.10-10.42.0.70")
    try:
        guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/")
        yield guest, script, tmp
    finally:
        guest.stop()
        for cmd in teardown:
            sh(*cmd, check=False)


def lease(script, tmp, name="lease", extra=()):
    path = tmp / f"{name}.env"
    env = dict(os.environ, LEASE_FILE=str(path))
    r = sh("ip", "netns", "exec", "phone2048", "busybox", "udhcpc", "-i", "vphone2048", "-n", "-q", "-f",
           "-t", "5", "-T", "1", "-s", str(script), "-O", "114", *extra, env=env, check=False, timeout=30)
    assert path.exists(), r.stdout + r.stderr
    return dict(line.split("=", 1) for line in path.read_text().split())


def test_dhcp_lease_has_mask_router_dns_and_portal_url(network):
    guest, script, tmp = network
    got = lease(script, tmp)
    assert got["serverid"] == APPLIANCE
    assert got["router"] == APPLIANCE and got["dns"] == APPLIANCE
    assert got["subnet"] == "255.255.255.0"
    assert got["lease"] == "3600"
    assert bytes.fromhex(got["opt114"]) == b"http://2048.home.arpa/"
    assert 10 <= int(got["ip"].split(".")[3]) <= 70
    again = lease(script, tmp, "again")
    assert again["ip"] == got["ip"], "the same MAC gets the same address"


def test_dns_answers_every_name_with_the_appliance(network):
    guest, script, tmp = network
    lease(script, tmp, "dns")
    for name in ["example.com", f"random-{random.randrange(10**9)}.test", "connectivitycheck.gstatic.com",
                 "captive.apple.com", "www.msftconnecttest.com", "detectportal.firefox.com"]:
        r = in_phone("dig", "+short", "+time=2", "+tries=2", f"@{APPLIANCE}", name)
        assert r.stdout.strip() == APPLIANCE, name
    aaaa = in_phone("dig", "+time=2", f"@{APPLIANCE}", "example.com", "AAAA").stdout
    assert "status: NOERROR" in aaaa and "ANSWER: 0," in aaaa
    txt = in_phone("dig", "+time=2", f"@{APPLIANCE}", "example.com", "TXT").stdout
    assert "status: NOERROR" in txt and "ANSWER: 0," in txt


def test_probes_redirect_to_the_game(network):
    guest, script, tmp = network
    lease(script, tmp, "probes")
    for url in ["http://connectivitycheck.gstatic.com/generate_204", "http://captive.apple.com/hotspot-detect.html",
                "http://www.msftconnecttest.com/connecttest.txt", "http://detectportal.firefox.com/canonical.html"]:
        host = url.split("/")[2]
        r = in_phone("curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                     "--resolve", f"{host}:80:{APPLIANCE}", url)
        assert r.stdout == "302 http://2048.home.arpa/", url
    # Whatever a visitor types ends in the game: resolve both names through
    # the appliance's DNS with dig, then let curl follow the redirect.
    resolved = {name: in_phone("dig", "+short", "+time=2", f"@{APPLIANCE}", name).stdout.strip()
                for name in ["example.com", "2048.home.arpa"]}
    r = in_phone("curl", "-s", "-m", "10", "-L", *[arg for n, a in resolved.items() for arg in ("--resolve", f"{n}:80:{a}")],
                 "http://example.com/anything")
    assert r.stdout.encode() == (ROOT / "static" / "index.html").read_bytes()


def test_malformed_dhcp_and_dns_bursts_are_counted_and_service_goes_on(network):
    guest, script, tmp = network
    lease(script, tmp, "bursts")
    sender = (
        "import random, socket\n"
        "rng = random.Random(2048)\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
        "for i in range(300):\n"
        "    n = rng.choice([0, 1, 11, 12, 40, 240, 300, 1400])\n"
        "    data = bytes(rng.randrange(256) for _ in range(n))\n"
        f"    s.sendto(data, ('{APPLIANCE}', 53))\n"
        f"    s.sendto(data, ('{APPLIANCE}', 67))\n"
    )
    in_phone("python3", "-c", sender)
    r = in_phone("dig", "+short", "+time=2", f"@{APPLIANCE}", "still.works.example")
    assert r.stdout.strip() == APPLIANCE
    stats = in_phone("curl", "-s", "-m", "5", f"http://{APPLIANCE}/stats.json").stdout
    import json
    stats = json.loads(stats)
    assert stats["dns"]["bad"] > 0 and stats["dhcp"]["dropped"] > 0
    assert stats["leases"]["pool"] == 61 and stats["leases"]["active"] >= 1
