#!/usr/bin/env python3
"""The soak's clients, run inside the phone namespace by bench/soak.sh for SECONDS.

Well-behaved clients, whose every failure is counted: HTTP keep-alive (GET / and the largest asset,
each body checked against its file), HTTP with `Connection: close`, HTTPS (verified against the demo
CA), DNS (every name must be answered with the appliance's address). Hostile ones, which are only
counted: slowloris (a header byte every 2 s), clients that vanish mid-response (a reset after the
first kilobyte) and clients that stop reading. DHCP churn runs beside them in soak.sh (udhcpc).

Usage: soak_clients.py SECONDS STATIC_DIR CA_PEM   (prints one JSON summary line at the end)
"""
import asyncio
import json
import os
import random
import socket
import ssl
import struct
import sys
import time

APPLIANCE = "10.42.0.1"
SECONDS, STATIC, CA = float(sys.argv[1]), sys.argv[2], sys.argv[3]
PAGES = {"/": open(os.path.join(STATIC, "index.html"), "rb").read()}
LARGEST = max(os.listdir(STATIC), key=lambda f: os.path.getsize(os.path.join(STATIC, f)))
PAGES["/" + LARGEST] = open(os.path.join(STATIC, LARGEST), "rb").read()
TIMEOUT = 15  # generous: the guest's CPU is emulated on a shared host

ok = {"keep_alive": 0, "close": 0, "https": 0, "dns": 0}
failed = {name: 0 for name in ok}
failures = []  # the first few, for the report
hostile = {"slowloris": 0, "slowloris_closed": 0, "vanished": 0, "stopped_reading": 0}


def fail(kind, what):
    failed[kind] += 1
    if len(failures) < 20:
        failures.append(f"{time.strftime('%H:%M:%S')} {kind}: {what}")


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    return head, await reader.readexactly(length)


def request(path, close=False):
    return f"GET {path} HTTP/1.1\r\nHost: 2048.home.arpa\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n".encode()


def check(kind, path, head, body):
    if head.startswith(b"HTTP/1.1 200") and body == PAGES[path]:
        ok[kind] += 1
    else:
        fail(kind, f"{path}: {head[:40]!r}, {len(body)} bytes")


async def keep_alive(end):
    """One browser's connection, a request every 0-2 s; the server may close it between requests
    (its keep-alive timeout is 5 s), then the next request opens a new one."""
    conn = None
    while time.monotonic() < end:
        path = random.choice(list(PAGES))
        fresh = conn is None
        try:
            if conn is None:
                conn = await asyncio.wait_for(asyncio.open_connection(APPLIANCE, 80), TIMEOUT)
            conn[1].write(request(path))
            check("keep_alive", path, *await asyncio.wait_for(read_response(conn[0]), TIMEOUT))
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as error:
            if fresh:
                fail("keep_alive", f"{path}: {type(error).__name__} on a new connection")
            conn = None
            continue
        except Exception as error:
            fail("keep_alive", f"{path}: {type(error).__name__} {error}")
            conn = None
        await asyncio.sleep(random.uniform(0, 2))


async def one_shot(end, kind, port, context):
    while time.monotonic() < end:
        path = random.choice(list(PAGES))
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(APPLIANCE, port, ssl=context, server_hostname="2048.home.arpa" if context else None), TIMEOUT)
            writer.write(request(path, close=True))
            check(kind, path, *await asyncio.wait_for(read_response(reader), TIMEOUT))
            writer.close()
        except Exception as error:
            fail(kind, f"{path}: {type(error).__name__} {error}")
        await asyncio.sleep(random.uniform(0.1, 1))


async def dns(end):
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect((APPLIANCE, 53))
    qid = 0
    while time.monotonic() < end:
        qid = (qid + 1) & 0xFFFF
        name = b"".join(bytes([len(p)]) + p for p in [f"soak{random.randrange(10**6)}".encode(), b"example", b"com"]) + b"\0"
        query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + struct.pack(">HH", 1, 1)
        answered = False
        for _ in range(3):  # UDP: a lost datagram is retried, as a resolver does
            sock.send(query)
            try:
                while True:
                    reply = await asyncio.wait_for(loop.sock_recv(sock, 1500), 2)
                    if reply[:2] == query[:2]:
                        break
                answered = reply[-4:] == socket.inet_aton(APPLIANCE) and reply[3] & 0xF == 0
                break
            except asyncio.TimeoutError:
                continue
        if answered:
            ok["dns"] += 1
        else:
            fail("dns", f"query {qid} unanswered or wrong")
        await asyncio.sleep(0.2)


async def slowloris(end):
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(APPLIANCE, 80), TIMEOUT)
            hostile["slowloris"] += 1
            for byte in b"GET / HTTP/1.1\r\nHost: 2048.home.arpa\r\nX-Slow: " + b"a" * 1000:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(2)
                if time.monotonic() > end:
                    break
        except (ConnectionResetError, BrokenPipeError):
            hostile["slowloris_closed"] += 1
        except Exception:
            await asyncio.sleep(1)


async def vanisher(end):
    """A phone that leaves mid-download: a kilobyte read, then a reset."""
    while time.monotonic() < end:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(APPLIANCE, 80), TIMEOUT)
            writer.write(request("/" + LARGEST) * 10)
            await asyncio.wait_for(reader.readexactly(1024), TIMEOUT)
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            hostile["vanished"] += 1
        except Exception:
            pass
        await asyncio.sleep(random.uniform(0.5, 3))


async def non_reader(end):
    """A locked screen: asks for a lot, reads nothing, holds on until the server gives up."""
    while time.monotonic() < end:
        try:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (APPLIANCE, 80)), TIMEOUT)
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(request("/" + LARGEST) * 40)
            hostile["stopped_reading"] += 1
            await asyncio.sleep(min(30, max(0, end - time.monotonic())))
            writer.close()
        except Exception:
            pass


async def main():
    end = time.monotonic() + SECONDS
    context = ssl.create_default_context(cafile=CA)
    tasks = [keep_alive(end) for _ in range(4)] + [one_shot(end, "close", 80, None) for _ in range(2)]
    tasks += [one_shot(end, "https", 443, context), dns(end)]
    tasks += [slowloris(end) for _ in range(8)] + [vanisher(end) for _ in range(2)] + [non_reader(end) for _ in range(4)]
    await asyncio.gather(*tasks)
    print(json.dumps({"ok": ok, "failed": failed, "failures": failures, "hostile": hostile}))


asyncio.run(main())
