"""Be the network: a "phone" in its own network namespace, wired through a
bridge to the appliance's TAP NIC, gets a lease, resolves every name to the
appliance and is sent to the game by the captive portal. Real clients:
busybox udhcpc (on macvlans for many phones at once), dig, curl, and headless
Chromium resolving through the appliance. Needs root (CI runs as root).

Names: everything here is *2048 (the shared appliance of the module fixture)
or *2049 (the small-pool appliance); no other test uses them."""
import json
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BOARDS, ROOT, in_phone, phone_stats, poll, sh, wire_up

APPLIANCE = "10.42.0.1"
UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
env | grep -E '^(ip|subnet|router|dns|lease|serverid|opt114)=' | sort > "$LEASE_FILE"
ip addr replace "$ip/$mask" dev "$interface"
exit 0
"""
# Many phones at once: record the lease only, configure nothing.
RECORD_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || exit 0
env | grep -E '^(ip|subnet|router|dns|lease|serverid)=' | sort > "$LEASE_DIR/$interface.env.tmp"
mv "$LEASE_DIR/$interface.env.tmp" "$LEASE_DIR/$interface.env"
exit 0
"""
# A phone that gives its lease back: udhcpc -R unicasts the RELEASE from its
# address, so the address must be on the interface until deconfig. Events go
# to IFACE.events (udhcpc also runs deconfig when it starts).
ADDR_SCRIPT = """#!/bin/sh
echo "$1" >> "$LEASE_DIR/$interface.events"
case "$1" in
bound|renew)
    ip addr replace "$ip/$mask" dev "$interface"
    # As a phone that uses its lease: the server's MAC is known before a RELEASE is sent to it, so
    # that unicast is not left waiting for ARP when the deconfig right after it removes the address.
    busybox ping -c 1 -W 2 "$serverid" >/dev/null 2>&1
    env | grep -E '^(ip|subnet|router|dns|lease|serverid)=' | sort > "$LEASE_DIR/$interface.env.tmp"
    mv "$LEASE_DIR/$interface.env.tmp" "$LEASE_DIR/$interface.env" ;;
deconfig)
    ip addr flush dev "$interface" ;;
esac
exit 0
"""
NETNS_ETC = Path("/etc/netns")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")


def scripts(tmp):
    paths = []
    for name, text in [("udhcpc.sh", UDHCPC_SCRIPT), ("record.sh", RECORD_SCRIPT), ("addr.sh", ADDR_SCRIPT)]:
        path = tmp / name
        path.write_text(text)
        path.chmod(0o755)
        paths.append(path)
    return paths


def drop_netns_etc(ns):
    """Removes /etc/netns/NS (and /etc/netns itself when that leaves it empty)."""
    shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
    try:
        NETNS_ETC.rmdir()
    except OSError:
        pass


@pytest.fixture(scope="module", params=BOARDS)
def network(request, tmp_path_factory):
    """TAP + bridge + veth into the phone namespace, and the appliance on the TAP."""
    from conftest import Guest
    tmp = tmp_path_factory.mktemp("captive")
    teardown = wire_up(2048)
    script, _, _ = scripts(tmp)
    guest = Guest(request.param, tmp, "--tap", "tap2048", "--append", "dhcp_pool=10.42.0.10-10.42.0.70")
    try:
        # Boot is over when the TLS self-test is: its handshake holds the CPU
        # for a fifth of a second on armv7, and the bursts below would then
        # overflow the NIC's queue.
        guest.wait_for_log(r"TLS self-test passed")
        yield guest, script, tmp
    finally:
        guest.stop()
        drop_netns_etc("phone2048")
        for cmd in teardown:
            sh(*cmd, check=False)


def lease(script, tmp, name="lease", extra=(), n=2048):
    path = tmp / f"{name}.env"
    env = dict(os.environ, LEASE_FILE=str(path))
    r = sh("ip", "netns", "exec", f"phone{n}", "busybox", "udhcpc", "-i", f"vphone{n}", "-n", "-q", "-f",
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


def test_appliance_answers_arp_and_ping(network):
    guest, script, tmp = network
    lease(script, tmp, "ping")
    in_phone("ip", "neigh", "flush", "dev", "vphone2048")
    r = in_phone("busybox", "ping", "-c", "3", "-s", "1200", "-W", "5", APPLIANCE, check=False)
    assert "3 packets transmitted, 3 packets received" in r.stdout, r.stdout + r.stderr
    mac = re.search(r"NIC up: ([0-9a-f:]{17})", guest.log())[1]
    assert f"lladdr {mac}" in in_phone("ip", "neigh", "show", APPLIANCE, "dev", "vphone2048").stdout


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


def stats(n=2048):
    """/stats.json of the appliance, fetched from inside the phone namespace."""
    got = phone_stats(f"phone{n}")
    assert got is not None, f"no /stats.json from phone{n}"
    return got


def add_macvlans(n, names, first_mac=0):
    """One macvlan per name on vphoneN inside phoneN, each with its own MAC
    (02:20:48:00:xx:yy), so that each udhcpc on it is a different phone."""
    batch = []
    for i, name in enumerate(names, start=first_mac):
        mac = f"02:20:48:00:{i >> 8:02x}:{i & 0xff:02x}"
        batch += [f"link add link vphone{n} name {name} address {mac} type macvlan mode bridge", f"link set {name} up"]
    sh("ip", "-n", f"phone{n}", "-batch", "-", input="\n".join(batch) + "\n")


def del_macvlans(n, names):
    sh("ip", "-force", "-n", f"phone{n}", "-batch", "-", input="".join(f"link del {name}\n" for name in names),
       check=False)


def udhcpc(n, iface, script, lease_dir, *extra, tries=5):
    """Starts busybox udhcpc on `iface` in phoneN; its script writes LEASE_DIR/IFACE.env."""
    env = dict(os.environ, LEASE_DIR=str(lease_dir))
    return subprocess.Popen(["ip", "netns", "exec", f"phone{n}", "busybox", "udhcpc", "-i", iface, "-f",
                             "-t", str(tries), "-T", "1", "-s", str(script), *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc, timeout=60):
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def read_env(path):
    return dict(line.split("=", 1) for line in path.read_text().split())


def in_pool(ip, first=10, last=70):
    return ip.startswith("10.42.0.") and first <= int(ip.rsplit(".", 1)[1]) <= last


def test_fifty_phones_get_fifty_distinct_addresses(network, tmp_path):
    guest, script, tmp = network
    record = tmp / "record.sh"
    own = lease(script, tmp, "fifty")["ip"]  # the namespace's own address, for /stats.json
    names = [f"mv{i}" for i in range(50)]
    add_macvlans(2048, names)
    try:
        started = time.monotonic()
        for batch in range(0, len(names), 10):  # ten phones asking at once
            procs = [udhcpc(2048, name, record, tmp_path, "-n", "-q") for name in names[batch:batch + 10]]
            results = [finish(p) for p in procs]
            for name, (code, out) in zip(names[batch:batch + 10], results):
                assert code == 0, f"{name}: {out}"
        elapsed = time.monotonic() - started
        got = {name: read_env(tmp_path / f"{name}.env") for name in names}
    finally:
        del_macvlans(2048, names)
    addresses = [g["ip"] for g in got.values()]
    assert len(set(addresses)) == 50, sorted(addresses)
    assert own not in addresses
    assert all(in_pool(ip) for ip in addresses), sorted(addresses)
    assert all(g["serverid"] == APPLIANCE and g["lease"] == "3600" for g in got.values())
    now = stats()
    assert now["leases"]["active"] >= 50 and now["leases"]["pool"] == 61, now["leases"]
    print(f"{guest.board}: 50 leases in {elapsed:.2f} s")


def test_release_frees_the_address_for_another_phone(network, tmp_path):
    guest, script, tmp = network
    lease(script, tmp, "release")
    before = stats()["leases"]["active"]
    add_macvlans(2048, ["rel0", "rel1"], first_mac=0x100)
    try:
        # Phone A keeps running (no -q) and gives its lease back on SIGTERM (-R).
        a = udhcpc(2048, "rel0", tmp / "addr.sh", tmp_path, "-n", "-R")
        try:
            poll("phone A's lease", lambda: (tmp_path / "rel0.env").exists() or a.poll() is not None)
            assert a.poll() is None, a.communicate()[0]
            taken = read_env(tmp_path / "rel0.env")["ip"]
            assert in_pool(taken)
            poll("leases.active + 1", lambda: stats()["leases"]["active"] == before + 1, timeout=10)
        finally:
            a.terminate()
        code, out = finish(a)
        assert "sending release" in out, out
        assert (tmp_path / "rel0.events").read_text().split() == ["deconfig", "bound", "deconfig"], out
        poll("leases.active back down", lambda: stats()["leases"]["active"] == before, timeout=10)
        # Phone B asks for exactly that address and gets it.
        code, out = finish(udhcpc(2048, "rel1", tmp / "record.sh", tmp_path, "-n", "-q", "-r", taken))
        assert code == 0, out
        assert read_env(tmp_path / "rel1.env")["ip"] == taken, out
        assert stats()["leases"]["active"] == before + 1
    finally:
        del_macvlans(2048, ["rel0", "rel1"])


@pytest.fixture(params=BOARDS)
def small_pool(request, tmp_path):
    """A second appliance on its own TAP/bridge/namespace (*2049) with a pool of three addresses."""
    from conftest import Guest
    teardown = wire_up(2049)
    scripts(tmp_path)
    guest = Guest(request.param, tmp_path, "--tap", "tap2049", "--append", "dhcp_pool=10.42.0.10-10.42.0.12")
    try:
        guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/")
        yield guest, tmp_path
    finally:
        guest.stop()
        for cmd in teardown:
            sh(*cmd, check=False)


def test_small_pool_exhausts_cleanly_and_service_goes_on(small_pool):
    guest, tmp = small_pool
    first = lease(tmp / "udhcpc.sh", tmp, "first", n=2049)["ip"]
    names = ["c1", "c2", "c3"]
    add_macvlans(2049, names)
    got = {}
    for name in names[:2]:
        code, out = finish(udhcpc(2049, name, tmp / "record.sh", tmp, "-n", "-q"))
        assert code == 0, f"{name}: {out}"
        got[name] = read_env(tmp / f"{name}.env")["ip"]
    assert sorted([first, *got.values()]) == ["10.42.0.10", "10.42.0.11", "10.42.0.12"]
    # The fourth phone: no offer, so udhcpc -n gives up and fails.
    code, out = finish(udhcpc(2049, "c3", tmp / "record.sh", tmp, "-n", "-q", tries=3))
    assert code != 0 and not (tmp / "c3.env").exists(), out
    now = stats(2049)
    assert now["dhcp"]["exhausted"] >= 1, now
    assert now["leases"] == {"active": 3, "pool": 3}, now
    assert "pool exhausted" in guest.log()
    # Still serving: DNS, the game, the portal redirect, and the same phone renews.
    r = in_phone("dig", "+short", "+time=2", "+tries=2", f"@{APPLIANCE}", "after.exhaustion.example", ns="phone2049")
    assert r.stdout.strip() == APPLIANCE
    r = in_phone("curl", "-s", "-m", "5", f"http://{APPLIANCE}/", ns="phone2049")
    assert r.stdout.encode() == (ROOT / "static" / "index.html").read_bytes()
    r = in_phone("curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                 "-H", "Host: example.com", f"http://{APPLIANCE}/", ns="phone2049")
    assert r.stdout == "302 http://2048.home.arpa/"
    code, out = finish(udhcpc(2049, "c1", tmp / "record.sh", tmp, "-n", "-q"))
    assert code == 0 and read_env(tmp / "c1.env")["ip"] == got["c1"], out


def test_chromium_in_the_phone_lands_on_the_game(network, tmp_path):
    """The phone's browser opens Android's probe URL, resolving through the
    appliance's DNS (/etc/netns/phone2048/resolv.conf), and ends in the game."""
    guest, script, tmp = network
    if not (ROOT / "tests/web/node_modules/playwright-core").is_dir():
        pytest.skip("playwright-core is not installed: cd tests/web && npm ci")
    if not shutil.which("chromium") and not os.environ.get("CHROMIUM"):
        pytest.skip("no chromium")
    lease(script, tmp, "browser")
    shot = tmp_path / "captive-portal.png"
    probe = "http://connectivitycheck.gstatic.com/generate_204"
    etc = NETNS_ETC / "phone2048"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text(f"nameserver {APPLIANCE}\n")
    try:
        r = in_phone("getent", "ahostsv4", "connectivitycheck.gstatic.com")
        assert r.stdout.split()[0] == APPLIANCE, r.stdout
        before = stats()
        r = in_phone("node", str(ROOT / "tests/e2e/captive_browser.mjs"), probe, str(shot), timeout=120, check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        page = json.loads(r.stdout.strip().splitlines()[-1])
        after = stats()
    finally:
        drop_netns_etc("phone2048")
    assert page["redirectedFrom"] == probe and page["url"] == "http://2048.home.arpa/", page
    assert page["status"] == 200, page
    assert page["howto"], "a first visit shows How to play"
    assert page["cells"] == 16 and page["score"] == "0", page
    assert len(page["tiles"]) == 2 and set(page["tiles"]) <= {"2", "4"}, page
    assert page["live"] and int(page["players"]) >= 1, page
    assert page["problems"] == [], page
    hosts = {url.split("/")[2] for url in page["requests"]}
    assert hosts == {"connectivitycheck.gstatic.com", "2048.home.arpa"}, page["requests"]
    for path in ["/app.js", "/game.js", "/stats.json"]:
        assert f"http://2048.home.arpa{path}" in page["requests"], page["requests"]
    # Both names were looked up at the appliance (Chromium asks A and AAAA).
    assert after["dns"]["queries"] - before["dns"]["queries"] >= 2, (before["dns"], after["dns"])
    assert shot.stat().st_size > 10_000
    if os.environ.get("SCREENSHOTS"):
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "captive-portal.png")
