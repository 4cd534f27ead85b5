"""Boots the real appliance image in QEMU for end-to-end tests.

Every test talks to a QEMU guest through user-networking port forwards on
127.0.0.1, with real clients (curl, wrk, raw sockets for malformed input).
Waits are conditions with deadlines: the serial log, then the HTTP port.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ["qemu-virt-armv7", "qemu-virt-aarch64"]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Guest:
    """One QEMU run of a board, with its serial log captured to a file."""

    def __init__(self, board, tmp_path, *qemu_args):
        self.board = board
        self.port = free_port()
        self.tls_port = free_port()
        self.log_path = tmp_path / f"{board}-{self.port}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [str(ROOT / "qemu.sh"), board, "--no-build", "--port", str(self.port), "--tls-port", str(self.tls_port),
             *qemu_args, *(() if "--disk" in qemu_args else ("--disk", "none"))],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern, timeout=30, count=1):
        """Waits until `pattern` has appeared `count` times in the serial log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(re.findall(pattern, self.log())) >= count:
                return self.log()
            if self.proc.poll() is not None and len(re.findall(pattern, self.log())) < count:
                break
            time.sleep(0.05)
        raise AssertionError(f"{self.board}: no {pattern!r} (x{count}) in the serial log:\n{self.log()}")

    def wait_for_http(self, timeout=20):
        """Waits until GET / answers 200 through the port forward."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", self.url + "/"],
                               capture_output=True, text=True)
            if r.stdout == "200":
                return
            time.sleep(0.1)
        raise AssertionError(f"{self.board}: no HTTP 200 on {self.url}\n{self.log()}")

    def wait_for_exit(self, timeout=30):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


@pytest.fixture
def boot(tmp_path):
    """Starts guests on demand; stops them all after the test."""
    guests = []

    def start(board, *qemu_args):
        guest = Guest(board, tmp_path, *qemu_args)
        guests.append(guest)
        return guest

    yield start
    for guest in guests:
        guest.stop()


@pytest.fixture(scope="module", params=BOARDS)
def appliance(request, tmp_path_factory):
    """A booted, listening appliance shared by a module's tests, per board."""
    guest = Guest(request.param, tmp_path_factory.mktemp(request.param))
    try:
        guest.wait_for_log(r"listening on http://10\.42\.0\.1:80/")
        guest.wait_for_http()
        yield guest
    finally:
        guest.stop()


def curl(*args, timeout=10):
    """Runs curl; returns (stdout bytes, stderr text, exit code)."""
    r = subprocess.run(["curl", "-s", "-m", str(timeout), *args], capture_output=True)
    return r.stdout, r.stderr.decode(errors="replace"), r.returncode


def sh(*cmd, check=True, **kw):
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def wire_up(n):
    """TAP tapN + bridge brN + veth vhostN/vphoneN into namespace phoneN; returns its teardown."""
    teardown = [("ip", "netns", "del", f"phone{n}"), ("ip", "link", "del", f"br{n}"), ("ip", "link", "del", f"tap{n}"),
                ("ip", "link", "del", f"vphone{n}"), ("ip", "link", "del", f"vhost{n}")]
    for cmd in teardown:
        sh(*cmd, check=False)
    for cmd in [
        ("ip", "tuntap", "add", "dev", f"tap{n}", "mode", "tap"),
        ("ip", "link", "add", f"br{n}", "type", "bridge"),
        ("ip", "link", "set", f"tap{n}", "master", f"br{n}"),
        ("ip", "netns", "add", f"phone{n}"),
        ("ip", "link", "add", f"vphone{n}", "type", "veth", "peer", "name", f"vhost{n}"),
        ("ip", "link", "set", f"vhost{n}", "master", f"br{n}"),
        ("ip", "link", "set", f"vphone{n}", "netns", f"phone{n}"),
        ("ip", "link", "set", f"tap{n}", "up"), ("ip", "link", "set", f"br{n}", "up"),
        ("ip", "link", "set", f"vhost{n}", "up"),
        ("ip", "netns", "exec", f"phone{n}", "ip", "link", "set", f"vphone{n}", "up"),
        ("ip", "netns", "exec", f"phone{n}", "ip", "link", "set", "lo", "up"),
    ]:
        sh(*cmd)
    return teardown


def in_phone(*cmd, check=True, timeout=30, ns="phone2048"):
    return sh("ip", "netns", "exec", ns, *cmd, check=check, timeout=timeout)


def poll(what, condition, timeout=30, interval=0.1):
    """Calls `condition` until it returns something true; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def phone_stats(ns, address="10.42.0.1"):
    """/stats.json fetched from inside namespace `ns`, or None while the appliance does not answer."""
    r = in_phone("curl", "-s", "-m", "5", f"http://{address}/stats.json", ns=ns, check=False)
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None
