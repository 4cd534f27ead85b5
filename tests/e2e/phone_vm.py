"""The Wi-Fi rig's Linux VMs: a "phone" (mac80211_hwsim + wpa_supplicant) and a hostapd peer.

Both boot Debian's amd64 kernel under qemu-system-x86_64 (TCG) from build/phone/ (tools/phone/
build.sh); their hwsim radios reach the access point through hwsim-link over a `-netdev dgram` NIC
(docs/wifi-rig.md: the access point listens on PORT, the phone on PORT+1). A shell on
ttyS0 runs commands with deadlines (base64 framing, tools/phone/rig-console). Standard library only.

    with PhoneVM(port) as phone:             # boots, waits for "rig: ready"
        phone.join("2048")                   # wpa_supplicant until COMPLETED
        phone.lease()                        # udhcpc
        phone.fetch("http://2048.home.arpa/")
Also a CLI: `phone_vm.py phone --wifi PORT ...` (tools/phone.sh), `peer` (bench/wifi-peer.sh) and
`bench` (bench/wifi.sh).
"""
import argparse
import base64
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "phone"


class RigError(AssertionError):
    """A rig step failed or missed its deadline; the message says which, with the console's tail."""


def free_udp_pair():
    """A port P on 127.0.0.1 such that UDP P and P+1 are both free right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port % 2 or port > 65000:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise RigError("no free pair of UDP ports on 127.0.0.1")


def build():
    """Builds (or reuses) the kernel and initramfs; raises RigError with the script's output."""
    r = subprocess.run([str(ROOT / "tools" / "phone" / "build.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        raise RigError(f"tools/phone/build.sh failed ({r.returncode}):\n{r.stdout}{r.stderr}")


@dataclass
class Result:
    """What one command printed (stdout and stderr together) and its exit status."""
    rc: int
    out: str
    raw: bytes
    seconds: float


@dataclass
class Bss:
    """One network `iw scan` found."""
    bssid: str
    ssid: str = ""
    freq: int = 0
    signal: float = 0.0
    security: str = "open"


@dataclass
class Join:
    """A wpa_supplicant run until COMPLETED; times in seconds on the VM's clock."""
    iface: str
    associated_s: float
    status: dict = field(default_factory=dict)
    started_at: float = 0.0


class RigVM:
    """One VM of the rig: boots it, reads its console, runs commands on it.

    role: "phone" (listens on PORT+1, sends to PORT) or "peer" (the access point side).
    Boot options become `rig.*` kernel arguments (tools/phone/init): radios, drop, verbose (the
    forwarder's frame log, in /tmp/hwsim-link.log).
    """

    def __init__(self, role, port, radios=1, drop=0, verbose=False, log_path=None, echo=False):
        self.role, self.port = role, port
        local, remote = (port + 1, port) if role == "phone" else (port, port + 1)
        mac = "52:54:00:00:77:01" if role == "phone" else "52:54:00:00:77:02"
        args = [f"rig.role={role}", f"rig.radios={radios}", f"rig.drop={drop}"]
        if verbose:
            args.append("rig.verbose=1")
        self.cmd = [
            "qemu-system-x86_64", "-M", "pc", "-smp", "1", "-m", "256M", "-nodefaults", "-nographic", "-no-reboot",
            "-serial", "stdio", "-monitor", "none",
            "-kernel", str(BUILD / "vmlinux"), "-initrd", str(BUILD / "rig.cpio"),
            "-append", "console=ttyS0 quiet loglevel=1 edd=off panic=-1 " + " ".join(args),
            "-netdev", f"dgram,id=w,local.type=inet,local.host=127.0.0.1,local.port={local},"
                       f"remote.type=inet,remote.host=127.0.0.1,remote.port={remote}",
            "-device", f"virtio-net-pci,netdev=w,mac={mac},romfile=",
        ]
        self.log_path = Path(log_path) if log_path else None
        self.echo = echo
        self.lines = []          # (seconds since launch, text) of every console line
        self.events = []         # the "rig: ..." progress lines
        self._cond = threading.Condition()
        self._capture = {}       # command id -> list of base64 lines, then its result
        self._done = {}
        self._next = 0
        self.proc = None
        self.launched = None
        self.ready_s = None
        self.debug = False       # PhoneVM.join: wpa_supplicant -d into its log
        self._log = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self):
        """Launches QEMU; returns at once (wait_ready() waits for the boot)."""
        self.launched = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._log = open(self.log_path, "w") if self.log_path else None
        threading.Thread(target=self._reader, daemon=True).start()
        return self

    def wait_ready(self, timeout=120):
        """Waits for "rig: ready" (modules loaded, forwarder listening; the peer's AP up)."""
        self.wait_for(r"^rig: ready", timeout)
        self.ready_s = self.since_launch()
        return self.ready_s

    def boot(self, timeout=120):
        """start() then wait_ready(); returns seconds from launch to ready."""
        self.start()
        return self.wait_ready(timeout)

    def stop(self):
        """Ends QEMU (its process group) and closes the log."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        if self.proc is None:
            self.boot()
        return self

    def __exit__(self, *exc):
        self.stop()

    def since_launch(self):
        return time.monotonic() - self.launched

    def console(self, last=40):
        """The console's last lines (protocol lines left out), for error messages."""
        with self._cond:
            text = [t for _, t in self.lines if not t.startswith("@@") and not re.fullmatch(r"[A-Za-z0-9+/=]+", t)]
        return "\n".join(text[-last:])

    # -- console ------------------------------------------------------------------------------
    def _reader(self):
        current = None
        for raw in iter(self.proc.stdout.readline, b""):
            text = raw.decode(errors="replace").rstrip("\r\n")
            text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1bc", "", text)
            now = self.since_launch()
            if self._log:
                self._log.write(f"{now:9.3f} {text}\n")
                self._log.flush()
            if self.echo and not text.startswith("@@") and current is None:
                print(f"[{now:7.3f} s] {self.role}: {text}", flush=True)
            with self._cond:
                self.lines.append((now, text))
                if text.startswith("rig: "):
                    self.events.append((now, text))
                m = re.fullmatch(r"@@OUT (\d+)", text)
                e = re.fullmatch(r"@@END (\d+) (\d+)", text)
                if m:
                    current = int(m.group(1))
                    self._capture[current] = []
                elif e and current == int(e.group(1)):
                    chunks = self._capture.pop(current)
                    self._done[current] = (int(e.group(2)), b"".join(base64.b64decode(c) for c in chunks))
                    current = None
                elif current is not None and re.fullmatch(r"[A-Za-z0-9+/=]+", text):
                    self._capture[current].append(text)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, pattern, timeout=30):
        """Waits until a console line matches `pattern`; returns (seconds since launch, line)."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        with self._cond:
            while True:
                for t, text in self.lines:
                    if rx.search(text):
                        return t, text
                if self.proc.poll() is not None:
                    raise RigError(f"{self.role} VM exited ({self.proc.returncode}) before {pattern!r}:\n"
                                   f"{self.console()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RigError(f"{self.role} VM: no {pattern!r} within {timeout} s:\n{self.console()}")
                self._cond.wait(min(left, 0.5))

    def run(self, cmd, timeout=30, check=True):
        """Runs `cmd` (a shell script) on the VM, killed after `timeout` s; returns a Result.

        With check, a non-zero status raises RigError with the output. Daemons started by `cmd`
        keep running; their output goes to a deleted file unless redirected.
        """
        with self._cond:
            self._next += 1
            cid = self._next
        payload = base64.b64encode(cmd.encode()).decode()
        lines = [f"C {cid} {payload[i:i + 2000]}\n" for i in range(0, len(payload), 2000)] or [f"C {cid} \n"]
        lines.append(f"X {cid} {max(1, int(timeout))}\n")
        start = time.monotonic()
        try:
            for line in lines:
                self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise RigError(f"{self.role} VM console closed: {e}\n{self.console()}")
        deadline = start + timeout + 10
        with self._cond:
            while cid not in self._done:
                if self.proc.poll() is not None:
                    raise RigError(f"{self.role} VM exited while running {cmd!r}:\n{self.console()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RigError(f"{self.role} VM: {cmd!r} did not answer within {timeout} s:\n{self.console()}")
                self._cond.wait(min(left, 0.5))
            rc, raw = self._done.pop(cid)
        res = Result(rc, raw.decode(errors="replace"), raw, time.monotonic() - start)
        if check and rc != 0:
            what = f"timed out after {timeout} s" if rc == 143 else f"failed ({rc})"
            first = cmd.strip().splitlines()[0][:80] if cmd.strip() else ""
            raise RigError(f"{self.role} VM: `{first}`... {what}:\n{res.out}")
        return res


# Shell helpers for commands: `now VAR` stores the kernel's monotonic clock in ns (no fork).
NOW = 'now() { while read -r a b c d; do [ "$a" = now ] && { eval "$1=$c"; return; }; done < /proc/timer_list; }\n'


# 2.4 GHz channels 1-11: active scanning everywhere (the world regulatory domain).
BAND_24 = tuple(range(2412, 2463, 5))


class PhoneVM(RigVM):
    """The phone: stations on hwsim radios (wlan0, wlan1, ... with radios=N)."""

    def __init__(self, port, **kw):
        super().__init__("phone", port, **kw)

    def set_drop(self, percent, verbose=False):
        """Restarts the forwarder with another loss rate (the VM stays up)."""
        flag = "--verbose" if verbose else ""
        self.run("killall -q hwsim-link\n"
                 "for i in $(seq 100); do pidof hwsim-link >/dev/null || break; usleep 20000; done\n"
                 f"hwsim-link --iface eth0 --drop {int(percent)} {flag} > /tmp/hwsim-link.log 2>&1 &\n"
                 "for i in $(seq 200); do grep -q listening /tmp/hwsim-link.log && exit 0; usleep 10000; done\n"
                 "cat /tmp/hwsim-link.log; exit 1", timeout=10)

    def forwarder_counters(self):
        """The forwarder's frame counters (SIGUSR1), as a dict."""
        out = self.run("n=$(grep -c 'to_link=' /tmp/hwsim-link.log); killall -USR1 hwsim-link\n"
                       "for i in $(seq 100); do [ $(grep -c 'to_link=' /tmp/hwsim-link.log) -gt $n ] && break\n"
                       "usleep 10000; done\n"
                       "grep 'to_link=' /tmp/hwsim-link.log | tail -1").out
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", out)}

    def leave(self, iface="wlan0"):
        """Stops wpa_supplicant and udhcpc on `iface` and takes it down (before the next join)."""
        self.run(f"for f in /run/wpa-{iface}.pid /run/udhcpc-{iface}.pid; do\n"
                 "[ -f $f ] || continue; p=$(cat $f); kill $p 2>/dev/null; rm -f $f\n"
                 "for i in $(seq 100); do kill -0 $p 2>/dev/null || break; usleep 20000; done; done\n"
                 f"ip addr flush dev {iface}; ip link set {iface} down; exit 0", timeout=10)

    def join(self, ssid, passphrase=None, iface="wlan0", timeout=20, power_save=False, freqs=BAND_24,
             passive=False, leave=True):
        """Starts wpa_supplicant for `ssid` (WPA2-PSK with a passphrase, else open) and waits for
        COMPLETED; returns a Join with wpa_supplicant start -> COMPLETED in seconds.

        `freqs` (MHz) limits the scan: by default channels 1-11, as hwsim's full 2.4/5/6 GHz scan,
        mostly passive under the world regulatory domain, takes over 10 s under TCG. None: all.
        passive: listen for beacons instead of probing. leave=False: the caller has called leave()."""
        if leave:
            self.leave(iface)
        net = f'psk="{passphrase}"\n  key_mgmt=WPA-PSK' if passphrase else "key_mgmt=NONE"
        if freqs:
            net += "\n  scan_freq=" + " ".join(map(str, freqs))
        ps = f"iw dev {iface} set power_save on\n" if power_save else ""
        debug = " -d" if self.debug else ""
        script = (NOW + f"cat > /tmp/wpa-{iface}.conf <<'EOF'\nctrl_interface=/run/wpa_supplicant\n"
                  f"passive_scan={int(passive)}\n"
                  f'network={{\n  ssid="{ssid}"\n  {net}\n}}\nEOF\n'
                  f"ip link set {iface} up\n{ps}now t0\n"
                  f"wpa_supplicant -B -t -i {iface} -c /tmp/wpa-{iface}.conf -P /run/wpa-{iface}.pid "
                  f"-f /tmp/wpa-{iface}.log{debug}\n"
                  f"while :; do read -r s < /sys/class/net/{iface}/operstate; [ \"$s\" = up ] && break\n"
                  "usleep 2000; done\n"
                  f"now t1\necho \"@T $t0 $t1\"\nwpa_cli -i {iface} status\n")
        res = self.run(script, timeout=timeout, check=False)
        if res.rc != 0:
            what = f"not COMPLETED within {timeout} s" if res.rc == 143 else f"exit {res.rc}: {res.out}"
            log = self.run(f"tail -30 /tmp/wpa-{iface}.log", check=False).out
            raise RigError(f"join {ssid!r} on {iface}: {what}\nwpa_supplicant log:\n{log}")
        t0, t1 = map(int, re.search(r"@T (\d+) (\d+)", res.out).groups())
        status = dict(re.findall(r"^(\w+)=(.*)$", res.out, re.M))
        if status.get("wpa_state") != "COMPLETED":
            raise RigError(f"join {ssid!r}: operstate up but wpa_state={status.get('wpa_state')}:\n{res.out}")
        return Join(iface, (t1 - t0) / 1e9, status, t0 / 1e9)

    def lease(self, iface="wlan0", timeout=20):
        """Runs udhcpc on `iface` until it has a lease; returns (address, seconds)."""
        res = self.run(NOW + f"now t0\nudhcpc -i {iface} -s /bin/udhcpc.script -q -n -t {max(3, timeout // 2)} -T 1 "
                             f"-p /run/udhcpc-{iface}.pid\nrc=$?\nnow t1\necho \"@T $t0 $t1\"\nexit $rc",
                       timeout=timeout, check=False)
        m = re.search(r"^lease (\S+)", res.out, re.M)
        times = re.search(r"@T (\d+) (\d+)", res.out)
        if res.rc != 0 or not m or not times:
            raise RigError(f"udhcpc on {iface}: no lease within {timeout} s (exit {res.rc}):\n{res.out}")
        t0, t1 = map(int, times.groups())
        return m.group(1), (t1 - t0) / 1e9

    def fetch(self, url="http://2048.home.arpa/", timeout=20, iface=None, keep=True):
        """curl's GET of `url` on the VM; returns (HTTP status, body bytes, seconds, bytes/s).
        With keep=False the body is not carried back (for big downloads)."""
        bind = f"--interface {iface} " if iface else ""
        body = "base64 /tmp/fetch.body" if keep else ":"
        res = self.run(f"curl -s {bind}-o /tmp/fetch.body -m {timeout} -w 'CURL %{{http_code}} %{{time_total}} "
                       f"%{{speed_download}}\\n' '{url}'\nrc=$?\necho @B\n{body}\nexit $rc", timeout=timeout + 5,
                       check=False)
        m = re.search(r"^CURL (\d+) ([\d.]+) ([\d.]+)", res.out, re.M)
        if res.rc != 0 or not m:
            raise RigError(f"curl {url}: exit {res.rc}:\n{res.out[:2000]}")
        data = base64.b64decode("".join(res.out.split("@B", 1)[1].split())) if keep else b""
        return int(m.group(1)), data, float(m.group(2)), float(m.group(3))

    def power_save(self, iface="wlan0", on=True):
        """Turns legacy power save on or off; returns what `iw get power_save` says afterwards."""
        state = "on" if on else "off"
        return self.run(f"iw dev {iface} set power_save {state} && iw dev {iface} get power_save").out.strip()

    def scan(self, iface="wlan0", ssid=None, freqs=BAND_24, timeout=30):
        """`iw scan` on `iface` (retried while the radio is busy); returns a list of Bss.

        A software scan listens about 30 ms per channel, less than a loaded TCG peer may take to
        answer a probe: with `ssid`, scans are repeated until that network shows up (or timeout).
        `freqs` as for join(); None scans every band (about 10 s)."""
        freq = "freq " + " ".join(map(str, freqs)) if freqs else ""
        deadline = time.monotonic() + timeout
        while True:
            left = max(1, int(deadline - time.monotonic()))
            out = self.run(f"ip link set {iface} up\nfor i in $(seq 50); do\n"
                           f"iw dev {iface} scan {freq} > /tmp/scan 2>&1 && {{ cat /tmp/scan; exit 0; }}\n"
                           "usleep 100000; done\ncat /tmp/scan; exit 1", timeout=left).out
            found = parse_scan(out)
            if ssid is None or any(b.ssid == ssid for b in found) or time.monotonic() > deadline:
                return found


def parse_scan(text):
    """Parses `iw dev IFACE scan` output into Bss records (security: open, WEP, WPA, WPA2)."""
    found = []
    for block in re.split(r"^BSS ", text, flags=re.M)[1:]:
        bss = Bss(bssid=block[:17])
        fields = (("ssid", r"SSID: (.*)$", str), ("freq", r"freq: ([\d.]+)", lambda v: int(float(v))),
                  ("signal", r"signal: (-?[\d.]+)", float))
        for key, rx, kind in fields:
            m = re.search(r"^\s+" + rx, block, re.M)
            if m:
                setattr(bss, key, kind(m.group(1)))
        if re.search(r"^\s+RSN:", block, re.M):
            bss.security = "WPA2"
        elif re.search(r"^\s+WPA:", block, re.M):
            bss.security = "WPA"
        elif re.search(r"capability:.*Privacy", block):
            bss.security = "WEP"
        found.append(bss)
    return found


class PeerVM(RigVM):
    """The peer access point: hostapd (channel 6), dnsmasq (10.42.0.1 for every name), httpd."""

    def __init__(self, port, ssid="2048", passphrase=None, dnsmasq_ping=False, **kw):
        super().__init__("peer", port, **kw)
        self.network = (ssid, passphrase)
        self.dnsmasq_ping = dnsmasq_ping

    def wait_ready(self, timeout=120):
        """As RigVM's, then switches the access point to the `ssid`/`passphrase` it was made with."""
        super().wait_ready(timeout)
        if self.network != ("2048", None) or self.dnsmasq_ping:
            self.start_ap(*self.network)
            self.ready_s = self.since_launch()
        return self.ready_s

    def start_ap(self, ssid="2048", passphrase=None, timeout=20):
        """Restarts hostapd and dnsmasq for `ssid`, open or WPA2-PSK (8-63 characters); dnsmasq
        probes each address before offering it when the peer was made with `dnsmasq_ping`."""
        pw = " " + shlex.quote(passphrase) if passphrase else ""
        ping = "DNSMASQ_PING=1 " if self.dnsmasq_ping else ""
        self.run(f"{ping}rig-ap {shlex.quote(ssid)}{pw}", timeout=timeout)


# -- command line ------------------------------------------------------------------------------
def _stamp(vm, what, wpa_start=None):
    since = f" | +{time.monotonic() - wpa_start:6.3f} s since wpa_supplicant" if wpa_start else ""
    print(f"[{vm.since_launch():7.3f} s{since}] {what}", flush=True)


def phone_main(a):
    build()
    phone = PhoneVM(a.wifi, radios=a.radios, drop=a.drop, verbose=a.verbose, log_path=a.log)
    try:
        phone.start()
        _stamp(phone, f"phone VM launched (listens on 127.0.0.1:{a.wifi + 1}, sends to :{a.wifi})")
        phone.wait_ready(a.timeout)
        for t, text in phone.events:
            print(f"[{t:7.3f} s] {text}")
        for n in range(a.radios):
            iface = f"wlan{n}"
            phone.leave(iface)
            wpa_start = time.monotonic()
            _stamp(phone, f"{iface}: wpa_supplicant started for {a.ssid!r}" + (" (WPA2)" if a.passphrase else ""))
            j = phone.join(a.ssid, a.passphrase, iface=iface, timeout=a.timeout, power_save=a.power_save, leave=False)
            _stamp(phone, f"{iface}: COMPLETED with {j.status.get('bssid')} on {j.status.get('freq')} MHz "
                          f"({j.associated_s:.3f} s on the VM's clock)", wpa_start)
            ip, secs = phone.lease(iface, timeout=a.timeout)
            _stamp(phone, f"{iface}: lease {ip} ({secs:.3f} s)", wpa_start)
            code, body, secs, _ = phone.fetch(a.url, timeout=a.timeout, iface=iface)
            _stamp(phone, f"{iface}: GET {a.url} -> {code}, {len(body)} bytes ({secs:.3f} s)", wpa_start)
            if code != 200:
                raise RigError(f"GET {a.url} answered {code}")
        if a.power_save:
            print(phone.run("iw dev wlan0 get power_save").out.strip())
        return 0
    except RigError as e:
        print(f"phone: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        phone.stop()


def peer_main(a):
    build()
    peer = PeerVM(a.wifi, ssid=a.ssid, passphrase=a.passphrase, dnsmasq_ping=a.dnsmasq_ping, verbose=a.verbose,
                  log_path=a.log, echo=True)
    peer.start()
    print(f"peer VM launched: listens on 127.0.0.1:{a.wifi}, sends to :{a.wifi + 1}; Ctrl-C stops it", flush=True)
    try:
        peer.wait_ready(a.timeout)
        print(f"peer ready after {peer.ready_s:.3f} s", flush=True)
        peer.proc.wait()
    except KeyboardInterrupt:
        pass
    except RigError as e:
        print(f"peer: FAILED: {e}", file=sys.stderr)
        return 1
    finally:
        peer.stop()
    return 0


def bench_main(a):
    """Median of N joins: wpa start -> associated -> lease -> first 200, and a 1 MB download.

    Each step is timed on the VM (wpa_supplicant start to COMPLETED, udhcpc's run, curl's
    time_total); "start -> first 200" is their sum, without the console round trips between steps."""
    build()
    rows = []
    with PhoneVM(a.wifi, log_path=a.log) as phone:
        for _ in range(a.runs):
            phone.leave()
            j = phone.join(a.ssid, a.passphrase, timeout=a.timeout)
            _, lease_s = phone.lease(timeout=a.timeout)
            code, _, page_s, _ = phone.fetch(a.url, timeout=a.timeout, keep=False)
            if code != 200:
                raise RigError(f"GET {a.url} answered {code}")
            code, _, _, rate = phone.fetch(a.file_url, timeout=120, keep=False)
            if code != 200:
                raise RigError(f"GET {a.file_url} answered {code}")
            rows.append((j.associated_s, lease_s, page_s, j.associated_s + lease_s + page_s, rate))
    med = [statistics.median(col) for col in zip(*rows)]
    print("| target | wpa_supplicant start -> associated | lease | first 200 of / | start -> first 200 "
          "| 1 MB download |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| {a.target} | {med[0] * 1000:.0f} ms | {med[1] * 1000:.0f} ms | {med[2] * 1000:.0f} ms | "
          f"{med[3] * 1000:.0f} ms | {med[4] / 1024:.0f} KiB/s ({med[4] * 8 / 1e6:.2f} Mbit/s) |")
    print(f"\nmedian of {a.runs}; runs (associated/lease/page/total ms, download KiB/s): " + "; ".join(
        f"{r[0] * 1000:.0f}/{r[1] * 1000:.0f}/{r[2] * 1000:.0f}/{r[3] * 1000:.0f} {r[4] / 1024:.0f}" for r in rows))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="The Wi-Fi rig's Linux VMs (see tests/e2e/phone_vm.py).")
    sub = p.add_subparsers(dest="mode", required=True)
    for name in ("phone", "peer", "bench"):
        s = sub.add_parser(name)
        s.add_argument("--wifi", type=int, required=True, metavar="PORT",
                       help="frame link: AP on PORT, phone on PORT+1")
        s.add_argument("--ssid", default="2048")
        s.add_argument("--passphrase", default=None, help="WPA2-PSK passphrase (default: open network)")
        s.add_argument("--timeout", type=int, default=120 if name == "peer" else 60,
                       help="deadline in seconds of the boot and of each step")
        s.add_argument("--log", default=None, help="write the VM's console, with times, to this file")
        s.add_argument("--verbose", action="store_true", help="the forwarder logs every frame (/tmp/hwsim-link.log)")
        if name == "peer":
            s.add_argument("--dnsmasq-ping", action="store_true",
                           help="dnsmasq's stock address probe before each first offer (the 2015 booth's)")
        else:
            s.add_argument("--url", default="http://2048.home.arpa/")
        if name == "phone":
            s.add_argument("--power-save", action="store_true", help="legacy power save on before joining")
            s.add_argument("--radios", type=int, default=1, metavar="N", help="N stations, each joins in turn")
            s.add_argument("--drop", type=int, default=0, metavar="PCT",
                           help="lose PCT%% of unicast transmission attempts both ways")
        if name == "bench":
            s.add_argument("--runs", type=int, default=5)
            s.add_argument("--file-url", default="http://2048.home.arpa/bench-1mb.bin")
            s.add_argument("--target", default="peer")
    a = p.parse_args(argv)
    # SIGTERM (bench/wifi.sh ending the peer) unwinds, so the VM is stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return {"phone": phone_main, "peer": peer_main, "bench": bench_main}[a.mode](a)
    except RigError as e:
        print(f"{a.mode}: FAILED: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
