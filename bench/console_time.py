#!/usr/bin/env python3
"""console_time.py TIMEOUT_S REGEX 'command'
Launches the command (a shell string that runs QEMU in the foreground; its own session), and prints
"HOST_MS LINE": the ms from launch to the first console line matching REGEX by the host clock, and that
line. Then stops the command's process group (SIGTERM, SIGKILL after 5 s). Exits 1 if the command ends or
TIMEOUT_S passes first. The console is read unbuffered: QEMU -nographic writes the serial port as it goes."""
import os, re, selectors, signal, subprocess, sys, time

timeout, pattern, cmd = float(sys.argv[1]), re.compile(sys.argv[2].encode()), sys.argv[3]
t0 = time.time()
proc = subprocess.Popen(["bash", "-c", "exec " + cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, start_new_session=True)


def stop():
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


sel, buf, found = selectors.DefaultSelector(), b"", None
sel.register(proc.stdout, selectors.EVENT_READ)
try:
    deadline = t0 + timeout
    while found is None and time.time() < deadline:
        if not sel.select(max(0.0, deadline - time.time())):
            break
        chunk = os.read(proc.stdout.fileno(), 65536)
        now = time.time()
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if pattern.search(line):
                found = (now, line.decode(errors="replace").strip())
                break
finally:
    stop()
if found is None:
    sys.exit(1)
print(f"{(found[0] - t0) * 1000:.1f} {found[1]}")
